"""Demo data of the candidates app: companies, tutors, a habilitated training organisation,
candidates and registrations in every state of DESIGN.md §4. Idempotent."""

import datetime

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone

from candidates import services
from candidates.models import (
    Candidate,
    Company,
    OrganisationHabilitation,
    Path,
    Registration,
    RegistrationState,
    TrainingOrganisation,
    Tutor,
)
from certifications.models import Certification, Modality

S = RegistrationState

COMPANIES = [
    # name, siret, city, tutor (first, last, function)
    ("Ateliers Mécaniques de l'Erdre", "41234567879198", "Carquefou",
     ("Bruno", "Menard", "Responsable maintenance")),
    ("Chaudronnerie Atlantique", "41234567958380", "Saint-Nazaire",
     ("Isabelle", "Guerin", "Cheffe d'atelier")),
    ("Usinage Précision Sud-Loire", "41234568037562", "Rezé",
     ("Olivier", "Baudry", "Directeur technique")),
]

# birth name, first names, birth date, company index or None, certification code, path, target
PEOPLE = [
    ("Moreau", "Lucas", "1998-03-14", 0, "MQ 2018 05 69 0312", Path.SALARIE, "incomplete"),
    ("Petit", "Emma", "2001-07-02", 1, "MQ 2018 05 69 0312", Path.CONTRAT_PRO, "complete"),
    ("Garnier", "Hugo", "1996-11-23", 0, "MQ 2018 05 69 0312", Path.SALARIE, "training"),
    ("Faure", "Léa", "1993-01-30", 2, "MQ 2018 05 69 0312", Path.SALARIE, "ready"),
    ("Rousseau", "Nathan", "1999-05-09", 1, "MQ 2018 05 69 0312", Path.APPRENTISSAGE, "ready"),
    ("Blanc", "Chloé", "1990-09-18", 2, "MQ 2018 05 69 0312 - B2", Path.SALARIE, "ready"),
    ("Henry", "Louis", "1987-12-01", None, "CCPM 0012", Path.DEMANDEUR_EMPLOI, "ready"),
    ("Lambert", "Manon", "1985-04-27", 0, "MQ 2018 05 69 0312", Path.VAE, "ready"),
    ("Bonnet", "Jules", "1994-08-11", 1, "MQ 2018 05 69 0312", Path.SALARIE, "evaluated"),
    ("Chevalier", "Camille", "1992-02-05", 2, "MQ 2018 05 69 0312", Path.SALARIE, "decided"),
    ("Fontaine", "Arthur", "2000-10-21", 0, "CCPM 0012", Path.SALARIE, "abandoned"),
]


def _demo_pdf(title: str) -> bytes:
    from weasyprint import HTML

    return HTML(string=f"<h1>{title}</h1><p>Rapport d'activités (démonstration).</p>").write_pdf()


def _modalities(registration: Registration) -> dict[int, str]:
    choice = {}
    for competence in registration.version.competences.all():
        allowed = competence.modalities
        choice[competence.pk] = (Modality.SITUATION_PROFESSIONNELLE
                                 if Modality.SITUATION_PROFESSIONNELLE in allowed else allowed[0])
    return choice


@transaction.atomic
def seed(*, centre, staff_user, log=print) -> dict[str, list[Registration]]:
    """Registrations by demo target ("ready", "evaluated", …); empty when already seeded."""
    if Registration.objects.filter(centre=centre).exists():
        log("Candidats de démonstration déjà présents.")
        return {}
    companies = []
    for name, siret, city, (first, last, function) in COMPANIES:
        company, _ = Company.objects.get_or_create(
            centre=centre, siret=siret,
            defaults={"name": name, "city": city, "address": "ZI des Forges",
                      "postal_code": "44000", "contact_name": f"{first} {last}",
                      "contact_email": f"{last.lower()}@entreprise.example"},
        )
        Tutor.objects.get_or_create(
            company=company, email=f"{first.lower()}.{last.lower()}@entreprise.example",
            defaults={"first_name": first, "last_name": last, "job_title": function},
        )
        companies.append(company)
    organisation, _ = TrainingOrganisation.objects.get_or_create(
        name="Pôle Formation UIMM Pays de la Loire", defaults={"city": "Nantes"})
    habilitation, _ = OrganisationHabilitation.objects.get_or_create(
        organisation=organisation, subject="Formations préparant aux CQPM de maintenance",
        defaults={"valid_from": datetime.date(2023, 1, 1), "valid_until": None})
    habilitation.certifications.set(Certification.objects.all())

    registrations: dict[str, list[Registration]] = {}
    today = timezone.localdate()
    for index, (birth, first, born, company_index, code, path, target) in enumerate(PEOPLE):
        company = companies[company_index] if company_index is not None else None
        candidate, _ = Candidate.objects.get_or_create(
            centre=centre, birth_name=birth, first_names=first,
            birth_date=datetime.date.fromisoformat(born),
            defaults={"employer": company, "sex": "F" if index % 2 else "M",
                      "email": f"{first.lower()}.{birth.lower()}@candidat.example",
                      "birth_country_code": "FR", "birth_commune_code": "44109",
                      "birth_commune_name": "Nantes"},
        )
        certification = Certification.objects.get(code=code)
        created = services.create_registration(
            actor=staff_user, centre=centre, candidate=candidate,
            version=certification.current_version(), path=path, company=company,
            tutor=company.tutors.first() if company else None,
            registered_on=today - datetime.timedelta(days=120 - index * 7),
            job_title="Technicien(ne) de maintenance" if company else "",
        )
        registration = created.registration
        registrations.setdefault(target, []).append(registration)
        if target == "incomplete":
            continue
        services.set_planned_modalities(registration=registration,
                                        modalities=_modalities(registration))
        if services.activity_report_missing(registration):
            report = SimpleUploadedFile("rapport-activites.pdf",
                                        _demo_pdf(f"{first} {birth.upper()}"),
                                        content_type="application/pdf")
            services.upload_document(registration=registration, kind="rapport_activites",
                                     uploaded=report, actor=staff_user)
        if path == Path.VAE:
            services.record_vae_admissibility(
                registration=registration, actor=staff_user, experience_months=48,
                experience_description="Quatre ans de maintenance en production.", accepted=True)
        if target == "training":
            services.record_training(
                registration=registration, actor=staff_user, organisation=organisation,
                start_on=today - datetime.timedelta(days=30), hours=140,
                competences=list(registration.version.competences.all()[:2]))
            services.transition(registration=registration, to_state=S.EN_FORMATION,
                                actor=staff_user)
            continue
        services.decide_without_training(registration=registration, actor=staff_user,
                                         reason="Expérience suffisante en entreprise.")
        if target == "complete":
            continue
        registration.refresh_from_db()
        if target == "abandoned":
            services.transition(registration=registration, to_state=S.ABANDON, actor=staff_user,
                                reason="Changement d'entreprise, candidature retirée.")
            continue
        services.transition(registration=registration, to_state=S.PRET_EVALUATION,
                            actor=staff_user)
        # "evaluated" and "decided" stay ready here: the commissions demo evaluates them.
    log(f"{sum(map(len, registrations.values()))} inscriptions de démonstration.")
    return registrations
