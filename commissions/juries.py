"""Juries paritaires: composition, invitations to the unions, presence, quorum, parity and
abstentions (DOMAIN.md §6). Deliberation itself lives in evaluations (decisions, PV)."""

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from candidates.models import Registration, RegistrationState
from commissions.models import (
    College,
    CommissionStatus,
    JuryMember,
    JurySession,
    Seat,
    SessionCandidate,
    SessionStatus,
    UnionInvitation,
)
from config.tasks import send_on_commit


class JuryRuleError(ValidationError):
    """A composition, quorum or calendar rule of DOMAIN.md §6 refuses the action."""


def _lock(session: JurySession) -> JurySession:
    return JurySession.objects.select_for_update().get(pk=session.pk)


# ---------------------------------------------------------------------------
# Composition and invitations
# ---------------------------------------------------------------------------
@transaction.atomic
def add_seat(*, session: JurySession, member: JuryMember, president: bool = False) -> Seat:
    """The president is a member of the employers' delegation (DOMAIN.md §6)."""
    session = _lock(session)
    if session.status not in (SessionStatus.PLANNED,):
        raise JuryRuleError(_("La composition ne se modifie plus une fois la session ouverte."))
    if member.centre_id != session.centre_id or not member.is_active:
        raise JuryRuleError(_("%(m)s ne peut pas siéger dans ce jury.") % {"m": member})
    if president and member.college != College.EMPLOYERS:
        raise JuryRuleError(_("Le jury est présidé par un membre de la délégation employeurs."))
    if president and session.seats.filter(is_president=True).exists():
        raise JuryRuleError(_("Le jury a déjà un président."))
    if session.seats.filter(member=member).exists():
        raise JuryRuleError(_("%(m)s siège déjà dans ce jury.") % {"m": member})
    return Seat.objects.create(session=session, member=member, is_president=president)


def invitation_problems(session: JurySession, today: datetime.date) -> list[str]:
    days = (session.date - today).days
    minimum = settings.JURIES["INVITATION_DAYS_BEFORE"]
    if days < minimum:
        return [_("Les organisations syndicales doivent être invitées au moins %(min)s jours "
                  "calendaires avant le jury : il n'en reste que %(days)s. Reportez la session "
                  "ou choisissez une date plus lointaine.") % {"min": minimum, "days": days}]
    return []


@transaction.atomic
def invite_unions(*, session: JurySession, addresses: dict[str, str], actor=None,
                  today: datetime.date | None = None) -> list[UnionInvitation]:
    """Ask each representative union to designate its member, at least 15 days ahead."""
    session = _lock(session)
    today = today or timezone.localdate()
    problems = invitation_problems(session, today)
    if problems:
        raise JuryRuleError(problems)
    invitations = []
    for organisation in settings.JURIES["UNIONS"]:
        email = addresses.get(organisation, "").strip()
        if not email:
            raise JuryRuleError(_("Indiquez l'adresse de %(org)s.") % {"org": organisation})
        invitation, _created = UnionInvitation.objects.update_or_create(
            session=session, organisation=organisation, defaults={"email": email})
        invitations.append(invitation)
    from commissions.tasks import send_union_invitation

    for invitation in invitations:
        send_on_commit(send_union_invitation, invitation_id=invitation.pk)
    return invitations


@transaction.atomic
def record_designation(*, invitation: UnionInvitation, member: JuryMember) -> Seat:
    if member.college != College.EMPLOYEES:
        raise JuryRuleError(_("Une organisation syndicale désigne un membre du collège "
                              "salariés."))
    if member.organisation != invitation.organisation:
        raise JuryRuleError(_("%(m)s ne représente pas %(org)s.")
                            % {"m": member, "org": invitation.organisation})
    invitation.designated = member
    invitation.designated_at = timezone.now()
    invitation.save(update_fields=["designated", "designated_at"])
    return add_seat(session=invitation.session, member=member)


def convocation_warning(session: JurySession, sent_on: datetime.date) -> str:
    """Employee members need a written convocation early enough to give their employer 8
    calendar days' notice (agreement 2019, art. 55.2): warn when it leaves less."""
    days = (session.date - sent_on).days
    notice = settings.JURIES["EMPLOYEE_NOTICE_DAYS"]
    if days < notice:
        return _("Attention : cette convocation laisse %(days)s jours aux membres salariés, "
                 "moins que les %(notice)s jours de prévenance dus à leur employeur.") % {
            "days": days, "notice": notice}
    return ""


@transaction.atomic
def send_convocations(*, session: JurySession, actor=None,
                      today: datetime.date | None = None) -> list[str]:
    """Send the written convocation (e-mail and PDF letter the member may show their
    employer, art. 55.2) to every seat not convoked yet, after commit; each seat is convoked
    once (``Seat.convocation_sent_at``, set by the task). Returns the warnings: the 8 days'
    notice an employee member owes their employer when the convocation leaves less."""
    session = _lock(session)
    if session.status != SessionStatus.PLANNED:
        raise JuryRuleError(_("Les convocations s'envoient tant que la session est en "
                              "préparation."))
    today = today or timezone.localdate()
    pending = list(session.seats.filter(convocation_sent_at__isnull=True)
                   .values_list("pk", "member__college"))
    from commissions.tasks import send_jury_convocation

    for seat_id, _college in pending:
        send_on_commit(send_jury_convocation, seat_id=seat_id)
    warning = (convocation_warning(session, today)
               if any(college == College.EMPLOYEES for _pk, college in pending) else "")
    return [warning] if warning else []


@transaction.atomic
def add_candidate(*, session: JurySession, registration: Registration) -> SessionCandidate:
    """Only a registration « évalué » whose grids are all signed is presented to the jury."""
    session = _lock(session)
    registration = Registration.objects.select_for_update(of=("self",)).get(pk=registration.pk)
    if session.status != SessionStatus.PLANNED:
        raise JuryRuleError(_("Les candidats s'ajoutent tant que la session est en "
                              "préparation."))
    if registration.centre_id != session.centre_id:
        raise JuryRuleError(_("Ce candidat n'est pas inscrit dans ce centre."))
    if registration.state != RegistrationState.EVALUE:
        raise JuryRuleError(_("%(ref)s n'est pas évalué : toutes ses grilles doivent être "
                              "signées.") % {"ref": registration.reference})
    # The grid rows belong to evaluations (to the right): a lookup, not an import.
    held = registration.schedulings.exclude(commission__status=CommissionStatus.CANCELLED)
    if not held.filter(grid__state="signee").exists() or held.exclude(
            grid__state="signee").exists():
        raise JuryRuleError(_("%(ref)s : toutes les grilles d'évaluation doivent être signées "
                              "par la commission.") % {"ref": registration.reference})
    if registration.version.certification_id not in set(
            session.certifications.values_list("pk", flat=True)):
        raise JuryRuleError(_("Ce jury ne délibère pas sur la certification de ce candidat."))
    return SessionCandidate.objects.get_or_create(session=session, registration=registration)[0]


# ---------------------------------------------------------------------------
# Presence, quorum, parity, abstentions
# ---------------------------------------------------------------------------
@transaction.atomic
def record_presence(*, seat: Seat, present: bool) -> Seat:
    seat = Seat.objects.select_for_update().select_related("session").get(pk=seat.pk)
    if seat.session.status == SessionStatus.CLOSED:
        raise JuryRuleError(_("La session est close."))
    seat.present = present
    seat.presence_recorded_at = timezone.now()
    seat.save(update_fields=["present", "presence_recorded_at"])
    return seat


def _same(a: str, b: str) -> bool:
    return bool(a) and bool(b) and a.strip().lower() == b.strip().lower()


def member_links(member: JuryMember, registration: Registration) -> list[str]:
    """Links that make a jury member abstain on a candidate (DOMAIN.md §6): same company,
    tutor, trainer, manager (compared by SIREN and e-mail)."""
    reasons = []
    sirens = {c.siren for c in (registration.company, registration.candidate.employer) if c}
    if member.employer_siren and member.employer_siren in sirens:
        reasons.append(_("même entreprise que le candidat"))
    email = member.user.email
    if registration.tutor_id and _same(registration.tutor.email, email):
        reasons.append(_("tuteur du candidat"))
    if _same(registration.referent_trainer_email, email):
        reasons.append(_("formateur référent du candidat"))
    if _same(registration.manager_email, email):
        reasons.append(_("responsable hiérarchique du candidat"))
    return reasons


def deliberating_seats(seats: list[Seat], registration: Registration) -> tuple[list, list]:
    """(present seats who deliberate, (seat, reasons) of those who abstain)."""
    deliberating, abstaining = [], []
    for seat in seats:
        if not seat.present:
            continue
        reasons = member_links(seat.member, registration)
        if reasons:
            abstaining.append((seat, reasons))
        else:
            deliberating.append(seat)
    return deliberating, abstaining


def quorum_problems(seats: list[Seat]) -> list[str]:
    """Minimum members per collège, the president present, strict parity (settings)."""
    problems = []
    counts = {College.EMPLOYERS: 0, College.EMPLOYEES: 0}
    for seat in seats:
        counts[seat.member.college] += 1
    minimum = settings.JURIES["MIN_PER_COLLEGE"]
    for college, count in counts.items():
        if count < minimum:
            problems.append(_("%(college)s : %(count)s membre(s) délibérant(s), il en faut au "
                              "moins %(min)s.") % {"college": College(college).label,
                                                    "count": count, "min": minimum})
    if not any(seat.is_president for seat in seats):
        problems.append(_("Le président du jury n'est pas présent (ou s'abstient)."))
    if settings.JURIES["STRICT_PARITY"] and counts[College.EMPLOYERS] != counts[College.EMPLOYEES]:
        problems.append(_("La parité n'est pas respectée : %(e)s employeur(s) pour %(s)s "
                          "salarié(s).") % {"e": counts[College.EMPLOYERS],
                                             "s": counts[College.EMPLOYEES]})
    return problems


def present_seats(session: JurySession) -> list[Seat]:
    return list(session.seats.select_related("member__user").filter(present=True))


@transaction.atomic
def open_session(*, session: JurySession, actor=None) -> JurySession:
    """Open the deliberation: presence recorded for every member, quorum and parity met."""
    session = _lock(session)
    if session.status != SessionStatus.PLANNED:
        raise JuryRuleError(_("Cette session n'est pas en préparation."))
    seats = list(session.seats.select_related("member__user"))
    if any(seat.present is None for seat in seats):
        raise JuryRuleError(_("Indiquez la présence ou l'absence de chaque membre."))
    problems = quorum_problems([s for s in seats if s.present])
    if not session.candidates.exists():
        problems.append(_("Aucun candidat n'est présenté à ce jury."))
    if problems:
        raise JuryRuleError(problems)
    session.status = SessionStatus.OPEN
    session.opened_at = timezone.now()
    session.save(update_fields=["status", "opened_at"])
    return session


def cpne_deadline(session: JurySession) -> datetime.date:
    from dateutil.relativedelta import relativedelta

    return session.date + relativedelta(months=settings.JURIES["CPNE_BUNDLE_MONTHS"])


@transaction.atomic
def mark_cpne_bundle_sent(*, session: JurySession, sent_on: datetime.date | None = None
                          ) -> JurySession:
    session = _lock(session)
    if session.status != SessionStatus.CLOSED:
        raise JuryRuleError(_("Le dossier CPNE se prépare après la signature du PV."))
    session.cpne_bundle_sent_on = sent_on or timezone.localdate()
    session.save(update_fields=["cpne_bundle_sent_on"])
    return session
