"""Business writes on evaluators and commissions (STYLE.md §2). Every path that assigns an
evaluator — staff pages, admin, commands — goes through ``add_member`` and
``schedule_candidate``, which run the impartiality and eligibility checks."""

import datetime

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, ProtectedError, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from candidates.models import Registration, RegistrationState
from certifications.models import CentreMembership, Role
from commissions import impartiality
from commissions.models import (
    Answer,
    ApplicationStatus,
    CharterAcceptance,
    CharterVersion,
    Commission,
    CommissionMember,
    CommissionStatus,
    ConflictDeclaration,
    Evaluator,
    EvaluatorApplication,
    Habilitation,
    MemberRole,
    ScheduledCandidate,
)
from config.tasks import send_on_commit


class AssignmentRefused(ValidationError):
    """An evaluator or a candidate cannot be placed in the commission; messages say why."""


# ---------------------------------------------------------------------------
# Charter, conflicts, habilitations
# ---------------------------------------------------------------------------
@transaction.atomic
def accept_charter(*, evaluator: Evaluator, charter: CharterVersion | None = None,
                   ip: str | None = None) -> CharterAcceptance:
    charter = charter or CharterVersion.current()
    if charter is None:
        raise ValidationError(_("Aucune charte de déontologie n'est publiée."))
    acceptance, _created = CharterAcceptance.objects.get_or_create(
        evaluator=evaluator, charter=charter, defaults={"ip_address": ip})
    return acceptance


def declare_conflict(*, evaluator: Evaluator, reason: str, company=None, candidate=None
                     ) -> ConflictDeclaration:
    if company is None and candidate is None:
        raise ValidationError(_("Précisez l'entreprise ou le candidat concerné."))
    if not reason.strip():
        raise ValidationError(_("Décrivez la nature du lien."))
    return ConflictDeclaration.objects.create(evaluator=evaluator, company=company,
                                              candidate=candidate, reason=reason.strip())


def grant_habilitation(*, evaluator: Evaluator, certifications, valid_from=None,
                       months: int | None = None, fields: str = "") -> Habilitation:
    """A habilitation for ``months`` (setting, DOMAIN.md §4: 1 year, renewable)."""
    valid_from = valid_from or timezone.localdate()
    months = months or settings.COMMISSIONS["HABILITATION_MONTHS"]
    until = valid_from + relativedelta(months=months) - datetime.timedelta(days=1)
    habilitation = Habilitation.objects.create(
        evaluator=evaluator, valid_from=valid_from, valid_until=until, fields=fields)
    habilitation.certifications.set(certifications)
    return habilitation


# ---------------------------------------------------------------------------
# Composition
# ---------------------------------------------------------------------------
def _lock(commission: Commission) -> Commission:
    return Commission.objects.select_for_update().get(pk=commission.pk)


def _ensure_editable(commission: Commission) -> None:
    if commission.status in (CommissionStatus.HELD, CommissionStatus.CANCELLED):
        raise ValidationError(_("Cette commission ne peut plus être modifiée."))


def _scheduled_registrations(commission: Commission) -> list[Registration]:
    return [s.registration for s in commission.scheduled.select_related(
        "registration__candidate__employer", "registration__company", "registration__tutor",
        "registration__version__certification")]


def member_problems(evaluator: Evaluator, commission: Commission, *,
                    data: impartiality.EligibilityData | None = None, certifications=None,
                    registrations=None) -> list[impartiality.Problem]:
    """Eligibility for the commission and impartiality towards every scheduled candidate.
    Pages checking many evaluators pass ``data``, ``certifications`` and ``registrations``
    loaded once."""
    if certifications is None:
        certifications = list(commission.certifications.all())
    if data is None:
        data = impartiality.load_eligibility([evaluator.pk], certifications=certifications,
                                             on=commission.date)
    if registrations is None:
        registrations = _scheduled_registrations(commission)
    problems = impartiality.eligibility_problems(
        evaluator, certifications=certifications, on=commission.date, data=data)
    declared = data.declared.get(evaluator.pk, [])
    for registration in registrations:
        problems += impartiality.conflicts(evaluator, registration, declared)
    return problems


def _refuse_or_justify(problems, justification: str) -> str:
    """Raise unless the only problems are impartiality conflicts that the centre allows staff
    to override with a written justification (DOMAIN.md §4, setting off by default)."""
    if not problems:
        return ""
    if not impartiality.overridable(problems) or not justification.strip():
        raise AssignmentRefused([p.message for p in problems])
    return justification.strip()


@transaction.atomic
def add_member(*, commission: Commission, evaluator: Evaluator, role: str = MemberRole.MEMBER,
               actor=None, justification: str = "") -> CommissionMember:
    commission = _lock(commission)
    _ensure_editable(commission)
    if evaluator.centre_id != commission.centre_id:
        raise AssignmentRefused(_("L'évaluateur n'appartient pas au réseau de ce centre."))
    if commission.members.filter(evaluator=evaluator).exists():
        raise AssignmentRefused(_("%(e)s siège déjà dans cette commission.") % {"e": evaluator})
    if role == MemberRole.PRESIDENT and commission.members.filter(role=role).exists():
        raise AssignmentRefused(_("La commission a déjà un président."))
    override = _refuse_or_justify(member_problems(evaluator, commission), justification)
    member = CommissionMember.objects.create(commission=commission, evaluator=evaluator,
                                             role=role, override_justification=override)
    if commission.status == CommissionStatus.CONFIRMED:
        from commissions.tasks import send_member_convocation

        send_on_commit(send_member_convocation, member_id=member.pk)
    return member


@transaction.atomic
def remove_member(*, member: CommissionMember, actor=None) -> None:
    commission = _lock(member.commission)
    _ensure_editable(commission)
    try:
        member.delete()
    except ProtectedError as exc:  # a signature (or another record) names this member
        raise ValidationError(_(
            "%(member)s a déjà signé une grille de cette commission : ce membre ne peut plus "
            "en être retiré (une grille signée se rouvre, elle ne s'efface pas).")
            % {"member": member.evaluator}) from exc


def candidate_conflicts(commission: Commission, registration: Registration
                        ) -> tuple[list[impartiality.Problem], list[CommissionMember]]:
    """The conflicts between the commission's members and the candidate, and the members
    concerned."""
    problems, linked = [], []
    for member in commission.members.select_related("evaluator__user"):
        found = impartiality.conflicts(member.evaluator, registration)
        if found:
            problems += found
            linked.append(member)
    return problems, linked


@transaction.atomic
def schedule_candidate(*, commission: Commission, registration: Registration,
                       start_time: datetime.time, end_time: datetime.time | None = None,
                       actor=None, justification: str = "") -> ScheduledCandidate:
    """Only a registration « prêt pour l'évaluation » of the commission's centre and
    certifications can be scheduled, and never before a member linked to the candidate."""
    commission = _lock(commission)
    _ensure_editable(commission)
    registration = Registration.objects.select_related(
        "candidate__employer", "company", "tutor", "version__certification").get(pk=registration.pk)
    if registration.centre_id != commission.centre_id:
        raise AssignmentRefused(_("Ce candidat n'est pas inscrit dans ce centre."))
    if registration.state != RegistrationState.PRET_EVALUATION:
        raise AssignmentRefused(_(
            "Seuls les candidats « prêts pour l'évaluation » peuvent être convoqués "
            "(%(ref)s est « %(state)s »)."
        ) % {"ref": registration.reference, "state": registration.get_state_display()})
    if registration.version.certification_id not in set(
            commission.certifications.values_list("pk", flat=True)):
        raise AssignmentRefused(_("La commission n'évalue pas la certification de ce candidat."))
    if ScheduledCandidate.objects.filter(
        registration=registration, commission__status__in=[CommissionStatus.DRAFT,
                                                           CommissionStatus.CONFIRMED],
    ).exists():
        raise AssignmentRefused(_("%(ref)s est déjà convoqué dans une commission à venir.")
                                % {"ref": registration.reference})
    problems, linked = candidate_conflicts(commission, registration)
    override = _refuse_or_justify(problems, justification)
    for member in linked:
        # The override is kept on the member it concerns, in its history (audit trail).
        member.override_justification = "\n".join(
            filter(None, [member.override_justification, override]))
        member.save(update_fields=["override_justification"])
    scheduled = ScheduledCandidate.objects.create(commission=commission, registration=registration,
                                                  start_time=start_time, end_time=end_time)
    if commission.status == CommissionStatus.CONFIRMED:
        from commissions.tasks import send_candidate_convocation

        send_on_commit(send_candidate_convocation, scheduled_id=scheduled.pk)
    return scheduled


@transaction.atomic
def unschedule_candidate(*, scheduled: ScheduledCandidate, actor=None) -> None:
    _ensure_editable(_lock(scheduled.commission))
    scheduled.delete()


def composition_problems(commission: Commission) -> list[str]:
    """What prevents confirming the commission (DOMAIN.md §4: minimum members, a president,
    every member eligible and impartial, at least one candidate)."""
    problems = []
    members = list(commission.members.select_related("evaluator__user"))
    minimum = settings.COMMISSIONS["MIN_MEMBERS"]
    if len(members) < minimum:
        problems.append(_("Une commission compte au moins %(n)s membres (%(count)s actuellement).")
                        % {"n": minimum, "count": len(members)})
    if not any(m.role == MemberRole.PRESIDENT for m in members):
        problems.append(_("Désignez le président de la commission."))
    registrations = _scheduled_registrations(commission)
    if not registrations:
        problems.append(_("Aucun candidat n'est convoqué."))
    certifications = list(commission.certifications.all())
    data = impartiality.load_eligibility([m.evaluator_id for m in members],
                                         certifications=certifications, on=commission.date)
    for member in members:
        for problem in member_problems(member.evaluator, commission, data=data,
                                       certifications=certifications,
                                       registrations=registrations):
            if (member.override_justification
                    and problem.code in impartiality.OVERRIDABLE_CODES):
                continue
            problems.append(problem.message)
    return problems


@transaction.atomic
def confirm_commission(*, commission: Commission, actor=None) -> Commission:
    """Confirm the composition and send the convocations (members with an .ics, candidates)."""
    commission = _lock(commission)
    if commission.status != CommissionStatus.DRAFT:
        raise ValidationError(_("Seule une commission en préparation peut être confirmée."))
    problems = composition_problems(commission)
    if problems:
        raise AssignmentRefused(problems)
    commission.status = CommissionStatus.CONFIRMED
    commission.confirmed_at = timezone.now()
    commission.save(update_fields=["status", "confirmed_at"])
    from commissions.tasks import send_convocations

    send_on_commit(send_convocations, commission_id=commission.pk)
    return commission


@transaction.atomic
def cancel_commission(*, commission: Commission, actor=None, reason: str = "") -> Commission:
    commission = _lock(commission)
    if commission.status == CommissionStatus.HELD:
        raise ValidationError(_("Une commission tenue ne s'annule pas."))
    commission.status = CommissionStatus.CANCELLED
    # The reason is kept in the commission's history row (django-simple-history).
    commission._change_reason = reason.strip()
    commission.save(update_fields=["status"])
    return commission


@transaction.atomic
def answer_convocation(*, member: CommissionMember, answer: str) -> CommissionMember:
    member = CommissionMember.objects.select_for_update().select_related("commission").get(
        pk=member.pk)
    if answer not in (Answer.CONFIRMED, Answer.DECLINED):
        raise ValidationError(_("Réponse inconnue."))
    if member.commission.status != CommissionStatus.CONFIRMED or member.commission.is_past:
        raise ValidationError(_("Cette convocation n'attend plus de réponse."))
    member.answer = answer
    member.answered_at = timezone.now()
    member.save(update_fields=["answer", "answered_at"])
    return member


# ---------------------------------------------------------------------------
# Suggestions for staff composing a commission
# ---------------------------------------------------------------------------
def suggest_evaluators(commission: Commission) -> list[dict]:
    """Every active evaluator of the centre with what would prevent them from sitting, and
    their number of commissions this year — so that staff see a conflict before it happens."""
    year = commission.date.year
    evaluators = list(
        Evaluator.objects.filter(centre=commission.centre_id, is_active=True)
        .exclude(memberships__commission=commission)
        .select_related("user")
        .annotate(load=Count("memberships", filter=Q(
            memberships__commission__date__year=year) & ~Q(
            memberships__commission__status=CommissionStatus.CANCELLED)))
        .order_by("load", "user__last_name")
    )
    certifications = list(commission.certifications.all())
    registrations = _scheduled_registrations(commission)
    data = impartiality.load_eligibility([e.pk for e in evaluators],
                                         certifications=certifications, on=commission.date)
    rows = []
    for evaluator in evaluators:
        problems = member_problems(evaluator, commission, data=data,
                                   certifications=certifications, registrations=registrations)
        rows.append({"evaluator": evaluator, "load": evaluator.load, "problems": problems,
                     "eligible": not problems})
    rows.sort(key=lambda row: (not row["eligible"], row["load"]))
    return rows


def suggest_candidates(commission: Commission) -> list[dict]:
    """Every registration that could be scheduled in the commission, with the conflicts it
    would raise with the members already sitting — shown before scheduling."""
    from commissions.selectors import schedulable_registrations

    members = list(commission.members.select_related("evaluator__user"))
    declared: dict[int, list[ConflictDeclaration]] = {m.evaluator_id: [] for m in members}
    for declaration in ConflictDeclaration.objects.filter(
            evaluator_id__in=list(declared)).select_related("company"):
        declared[declaration.evaluator_id].append(declaration)
    rows = []
    for registration in schedulable_registrations(commission):
        problems = [problem for member in members for problem in impartiality.conflicts(
            member.evaluator, registration, declared[member.evaluator_id])]
        rows.append({"registration": registration, "problems": problems,
                     "eligible": not problems})
    return rows


# ---------------------------------------------------------------------------
# "Devenez évaluateur"
# ---------------------------------------------------------------------------
@transaction.atomic
def approve_application(*, application: EvaluatorApplication, actor) -> Evaluator:
    """Create the account and the evaluator profile; the applicant is e-mailed a link to
    choose their password."""
    application = EvaluatorApplication.objects.select_for_update().get(pk=application.pk)
    if application.status != ApplicationStatus.SUBMITTED:
        raise ValidationError(_("Cette candidature a déjà été examinée."))
    user_model = get_user_model()
    base = f"{application.first_name[:1]}{application.last_name}".lower().replace(" ", "")
    username, n = base, 1
    while user_model.objects.filter(username=username).exists():
        n += 1
        username = f"{base}{n}"
    user = user_model.objects.create_user(
        username=username, email=application.email, first_name=application.first_name,
        last_name=application.last_name)
    user.set_unusable_password()
    user.save()
    CentreMembership.objects.create(user=user, centre=application.centre, role=Role.EVALUATOR)
    evaluator = Evaluator.objects.create(
        user=user, centre=application.centre, employer_name=application.employer_name,
        employer_siret=application.employer_siret, profession=application.profession,
        expertise=application.expertise, phone=application.phone)
    application.status = ApplicationStatus.APPROVED
    application.reviewed_by = actor
    application.reviewed_at = timezone.now()
    application.evaluator = evaluator
    application.save()
    from commissions.tasks import send_application_decision

    send_on_commit(send_application_decision, application_id=application.pk)
    return evaluator


@transaction.atomic
def refuse_application(*, application: EvaluatorApplication, actor, reason: str
                       ) -> EvaluatorApplication:
    application = EvaluatorApplication.objects.select_for_update().get(pk=application.pk)
    if application.status != ApplicationStatus.SUBMITTED:
        raise ValidationError(_("Cette candidature a déjà été examinée."))
    if not reason.strip():
        raise ValidationError(_("Indiquez le motif du refus."))
    application.status = ApplicationStatus.REFUSED
    application.refusal_reason = reason.strip()
    application.reviewed_by = actor
    application.reviewed_at = timezone.now()
    application.save()
    from commissions.tasks import send_application_decision

    send_on_commit(send_application_decision, application_id=application.pk)
    return application
