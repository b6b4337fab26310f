"""Demo data of the commissions app: the demo evaluators (habilitated, charter accepted), an
upcoming confirmed commission with candidates to evaluate and a past one (whose grids the
evaluations demo fills and signs), and a jury paritaire ready to deliberate. Idempotent."""

import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from candidates.models import Registration, RegistrationState
from certifications.models import Certification
from commissions import juries, services
from commissions.models import (
    College,
    Commission,
    CommissionStatus,
    Evaluator,
    JuryMember,
    JurySession,
    MemberRole,
    Seat,
    UnionInvitation,
)

EVALUATORS = {
    # username: employer, SIRET (not one of the demo companies), profession
    "evaluateur1": ("Naval Group — site de Nantes-Indret", "44259811300014",
                    "Responsable maintenance industrielle"),
    "evaluateur2": ("Airbus Atlantic", "51938742100011", "Technicienne méthodes maintenance"),
    "evaluateur3": ("Manitou BF", "85780102900019", "Chef d'équipe maintenance"),
}


def _ensure_charter() -> None:
    """The data migration publishes the first charter; a flushed database has none."""
    from commissions.charter import CHARTER_V1_LABEL, CHARTER_V1_TEXT
    from commissions.models import CharterVersion

    CharterVersion.objects.get_or_create(label=CHARTER_V1_LABEL,
                                         defaults={"text": CHARTER_V1_TEXT})


def _ensure_evaluators(centre, users) -> dict[str, Evaluator]:
    _ensure_charter()
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
    # Its registrations become « évalué » when the evaluations demo signs their grids.

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


# ---------------------------------------------------------------------------
# Jury paritaire (DOMAIN.md §6)
# ---------------------------------------------------------------------------
JURY_MEMBERS = {
    # username: collège, organisation, employer, SIRET (not one of the demo companies)
    "jury1": (College.EMPLOYERS, "UIMM Loire-Atlantique", "Fonderie de l'Estuaire",
              "52345678900016"),
    "jury2": (College.EMPLOYERS, "UIMM Loire-Atlantique", "Mécasoud Ouest", "53456789010022"),
    "jury3": (College.EMPLOYEES, "CFDT", "Chantiers navals de l'Ouest", "54567890120036"),
    "jury4": (College.EMPLOYEES, "CGT", "Atlantic Hydraulique", "55678901230042"),
}
JURY_DAYS_AHEAD = 3
INVITED_DAYS_BEFORE = 20  # the unions were asked well over 15 days before the jury


def _ensure_jury_members(centre, users) -> dict[str, JuryMember]:
    members = {}
    for username, (college, organisation, employer, siret) in JURY_MEMBERS.items():
        members[username], _created = JuryMember.objects.get_or_create(
            user=users[username], defaults={"centre": centre, "college": college,
                                            "organisation": organisation,
                                            "employer_name": employer,
                                            "employer_siret": siret})
    return members


@transaction.atomic
def seed_juries(*, centre, users, staff_user, log=print) -> JurySession | None:
    """A jury session in a few days, ready to deliberate: two employer members (jury1
    presides), the CFDT and CGT members the unions designated, every « évalué » registration
    of the centre presented. Presence is left for the president to record on the day.

    ``juries.invite_unions`` rightly refuses a jury less than 15 days away: the invitations
    are written as what they are in the story, history — sent 20 days before the jury."""
    members = _ensure_jury_members(centre, users)
    if JurySession.objects.filter(centre=centre).exists():
        log("Jury paritaire de démonstration déjà présent.")
        return None
    today = timezone.localdate()
    session = JurySession.objects.create(
        centre=centre, date=today + datetime.timedelta(days=JURY_DAYS_AHEAD),
        start_time=datetime.time(14, 0), created_by=staff_user,
        place="UIMM Loire-Atlantique, salle du conseil, 2 rue de la Métallurgie, Nantes")
    session.certifications.set(Certification.objects.filter(kind__in=["CQPM", "BLOC", "CCPM"]))
    juries.add_seat(session=session, member=members["jury1"], president=True)
    juries.add_seat(session=session, member=members["jury2"])
    invited_at = timezone.now() - datetime.timedelta(
        days=JURY_DAYS_AHEAD + INVITED_DAYS_BEFORE)
    for organisation in settings.JURIES["UNIONS"]:
        slug = organisation.lower().replace(" ", "-")
        invitation = UnionInvitation.objects.create(
            session=session, organisation=organisation, sent_at=invited_at,
            email=f"jurys@{slug}-metallurgie.example")
        designated = next((m for m in members.values() if m.college == College.EMPLOYEES
                           and m.organisation == organisation), None)
        if designated is not None:
            juries.record_designation(invitation=invitation, member=designated)
    Seat.objects.filter(session=session).update(convocation_sent_at=invited_at
                                                + datetime.timedelta(days=5))
    evaluated = Registration.objects.filter(centre=centre, state=RegistrationState.EVALUE)
    for registration in evaluated.order_by("pk"):
        juries.add_candidate(session=session, registration=registration)
    log(f"1 jury paritaire le {session.date:%d/%m/%Y} : 4 membres, "
        f"{session.candidates.count()} candidat(s) à délibérer.")
    return session
