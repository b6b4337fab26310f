"""Demo data of the reporting app: holders to declare to the Caisse des Dépôts (DOMAIN.md §7)
— two due, one overdue, one blocked for missing identity, one still within the correction
delay. Their deliberation is history taken over from before the product (a past, closed jury
session with final decisions); the registrations go through the candidates' services up to
« délibéré ». Idempotent: the past session is made once per centre."""

import datetime

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone

from candidates import demo as candidates_demo
from candidates import services as candidate_services
from candidates.models import Candidate, Company, RegistrationState
from certifications.models import Certification, CertificationKind, Modality
from commissions.models import JurySession, SessionCandidate, SessionStatus
from evaluations.deliberation import minutes_snapshot
from evaluations.models import Decision, Minutes
from evaluations.services import sha256_of
from reporting import services

PLACE = "Jury paritaire (historique repris avant la mise en service)"
# (birth name, usage name, first names, birth date, sex, commune code, kind, commune, country,
#  days since the decision)
HOLDERS = [
    ("Lemoine", "", "Julien Pierre", datetime.date(1986, 2, 11), "M", "44109", "insee",
     "Nantes", "FR", 100),
    ("N'Diaye-Hamon", "Hamon", "Aïssatou", datetime.date(1994, 7, 23), "F", "2B033",
     "insee", "Bastia", "FR", 30),
    ("Bréhault", "", "Loïc", datetime.date(1999, 12, 2), "M", "35000", "postal", "Rennes",
     "FR", 25),
    ("Giraud", "", "Camille", datetime.date(1991, 5, 5), "", "", "", "", "", 40),
    ("Oliveira", "", "Tiago", datetime.date(1989, 9, 30), "M", "99139", "insee", "Porto",
     "PT", 5),
]


@transaction.atomic
def seed(*, centre, staff_user, log=print) -> int:
    if JurySession.objects.filter(centre=centre, place=PLACE).exists():
        log("Titulaires à déclarer à la Caisse des Dépôts déjà présents.")
        return 0
    certification = Certification.objects.get(kind=CertificationKind.CQPM,
                                              code="MQ 2018 05 69 0312")
    version = certification.current_version()
    company = Company.objects.filter(centre=centre).order_by("pk").first()
    for (birth_name, usage, first, born, sex, code, kind, commune, country,
         days) in HOLDERS:
        candidate = Candidate.objects.create(
            centre=centre, birth_name=birth_name, usage_name=usage, first_names=first,
            birth_date=born, sex=sex, birth_commune_code=code, birth_commune_code_kind=kind,
            birth_commune_name=commune, birth_country_code=country, employer=company)
        when = timezone.now() - datetime.timedelta(days=days)
        registration = candidate_services.create_registration(
            actor=staff_user, centre=centre, candidate=candidate, version=version,
            path="salarie", company=company,
            registered_on=(when - datetime.timedelta(days=200)).date()).registration
        candidate_services.set_planned_modalities(
            registration=registration,
            modalities={c.pk: (Modality.SITUATION_PROFESSIONNELLE
                               if Modality.SITUATION_PROFESSIONNELLE in c.modalities
                               else c.modalities[0]) for c in version.competences.all()})
        if candidate_services.activity_report_missing(registration):
            report = SimpleUploadedFile("rapport-activites.pdf",
                                        candidates_demo._demo_pdf(f"{first} {birth_name}"),
                                        content_type="application/pdf")
            candidate_services.upload_document(registration=registration,
                                               kind="rapport_activites", uploaded=report,
                                               actor=staff_user)
        candidate_services.decide_without_training(registration=registration, actor=staff_user)
        for state in (RegistrationState.PRET_EVALUATION, RegistrationState.EVALUE):
            registration = candidate_services.transition(
                registration=registration, to_state=state, actor=staff_user, system=True)
        registration = candidate_services.transition(
            registration=registration, to_state=RegistrationState.DELIBERE, system=True,
            outcome="admis", actor=staff_user, actor_label=PLACE)
        session = JurySession.objects.create(
            centre=centre, date=when.date(), start_time=datetime.time(14), place=PLACE,
            status=SessionStatus.CLOSED, created_by=staff_user)
        session.certifications.add(certification)
        Decision.objects.create(
            session_candidate=SessionCandidate.objects.create(session=session,
                                                              registration=registration),
            registration=registration, proposed_outcome="admis", outcome="admis",
            evaluation_conform=True, admission_conditions_met=True, decided_by=staff_user,
            decided_at=when, final_at=when)
        # The session's signed PV, as taken over with the history: a final decision is
        # always backed by one (verify_integrity checks it).
        snapshot = minutes_snapshot(session)
        Minutes.objects.create(session=session, signed_by=staff_user, signed_at=when,
                               snapshot=snapshot, snapshot_sha256=sha256_of(snapshot))
    services.sync_awards(centre_ids=[centre.pk])
    log(f"{len(HOLDERS)} titulaires à déclarer à la Caisse des Dépôts (un en retard, un à "
        "compléter).")
    return len(HOLDERS)
