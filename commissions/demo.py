"""Demo data of the commissions app: the demo evaluators (habilitated, charter accepted), an
upcoming confirmed commission with candidates to evaluate and a past one. Idempotent."""

import datetime

from django.db import transaction
from django.utils import timezone

from candidates import services as candidate_services
from candidates.models import RegistrationState
from certifications.models import Certification
from commissions import services
from commissions.models import Commission, CommissionStatus, Evaluator, MemberRole

EVALUATORS = {
    # username: employer, SIRET (not one of the demo companies), profession
    "evaluateur1": ("Naval Group — site de Nantes-Indret", "44259811300014",
                    "Responsable maintenance industrielle"),
    "evaluateur2": ("Airbus Atlantic", "51938742100011", "Technicienne méthodes maintenance"),
    "evaluateur3": ("Manitou BF", "85780102900019", "Chef d'équipe maintenance"),
}


def _ensure_evaluators(centre, users) -> dict[str, Evaluator]:
    evaluators = {}
    certifications = list(Certification.objects.all())
    for username, (employer, siret, profession) in EVALUATORS.items():
        user = users[username]
        evaluator, created = Evaluator.objects.get_or_create(
            user=user, defaults={"centre": centre, "employer_name": employer,
                                 "employer_siret": siret, "profession": profession,
                                 "initial_training_on": datetime.date(2024, 3, 12),
                                 "last_training_on": datetime.date(2025, 9, 18)})
        if created:
            services.grant_habilitation(
                evaluator=evaluator, certifications=certifications,
                valid_from=timezone.localdate() - datetime.timedelta(days=120))
            services.accept_charter(evaluator=evaluator)
        evaluators[username] = evaluator
    return evaluators


@transaction.atomic
def seed(*, centre, users, staff_user, registrations, log=print) -> dict:
    evaluators = _ensure_evaluators(centre, users)
    if Commission.objects.filter(centre=centre).exists() or not registrations:
        log("Commissions de démonstration déjà présentes.")
        return {"evaluators": evaluators}
    cqpm_family = list(Certification.objects.filter(kind__in=["CQPM", "BLOC", "CCPM"]))
    today = timezone.localdate()

    past = Commission.objects.create(
        centre=centre, date=today - datetime.timedelta(days=21), start_time=datetime.time(8, 30),
        end_time=datetime.time(16, 30), place="Pôle Formation UIMM, atelier maintenance, Nantes",
        created_by=staff_user)
    past.certifications.set(cqpm_family)
    services.add_member(commission=past, evaluator=evaluators["evaluateur1"],
                        role=MemberRole.PRESIDENT, actor=staff_user)
    services.add_member(commission=past, evaluator=evaluators["evaluateur3"], actor=staff_user)
    evaluated = registrations.get("evaluated", []) + registrations.get("decided", [])
    for index, registration in enumerate(evaluated):
        services.schedule_candidate(commission=past, registration=registration,
                                    start_time=datetime.time(9 + 2 * index, 0), actor=staff_user)
    services.confirm_commission(commission=past, actor=staff_user)
    Commission.objects.filter(pk=past.pk).update(status=CommissionStatus.HELD)
    for registration in evaluated:
        candidate_services.transition(registration=registration,
                                      to_state=RegistrationState.EVALUE, system=True,
                                      actor_label="Commission d'évaluation (démonstration)")

    upcoming = Commission.objects.create(
        centre=centre, date=today + datetime.timedelta(days=7), start_time=datetime.time(8, 30),
        end_time=datetime.time(17, 0), place="Ateliers Mécaniques de l'Erdre, Carquefou",
        notes="Accueil au poste de garde ; équipements de protection fournis.",
        created_by=staff_user)
    upcoming.certifications.set(cqpm_family)
    services.add_member(commission=upcoming, evaluator=evaluators["evaluateur1"],
                        role=MemberRole.PRESIDENT, actor=staff_user)
    services.add_member(commission=upcoming, evaluator=evaluators["evaluateur2"],
                        actor=staff_user)
    for index, registration in enumerate(registrations.get("ready", [])[:4]):
        services.schedule_candidate(commission=upcoming, registration=registration,
                                    start_time=datetime.time(9 + index * 2 - (index > 1), 0),
                                    actor=staff_user)
    services.confirm_commission(commission=upcoming, actor=staff_user)
    log("2 commissions de démonstration (une à venir, une tenue).")
    return {"evaluators": evaluators, "past": past, "upcoming": upcoming}
