"""Convocations, reminders and application decisions by e-mail (Celery, STYLE.md §7).
Each e-mail records when it was sent and is never sent twice."""

import datetime

from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from commissions.calendar import commission_event
from commissions.models import (
    ApplicationStatus,
    Commission,
    CommissionMember,
    CommissionStatus,
    EvaluatorApplication,
    ScheduledCandidate,
    Seat,
    SessionStatus,
)
from config.links import make_token
from config.pdf import render_pdf

CONVOCATION_PURPOSE = "convocation"


def answer_url(member: CommissionMember) -> str:
    token = make_token(link_id=member.pk, nonce=member.link_nonce, purpose=CONVOCATION_PURPOSE)
    return settings.SITE_URL + reverse("commissions:convocation_answer", args=[token])


def _send(template: str, context: dict, to: list[str], attachments=()) -> None:
    subject = render_to_string(f"commissions/email/{template}_subject.txt", context).strip()
    body = render_to_string(f"commissions/email/{template}.txt", context)
    message = EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, to)
    for name, content, mimetype in attachments:
        message.attach(name, content, mimetype)
    message.send()


@shared_task(acks_late=True)
def send_member_convocation(*, member_id: int, reminder: bool = False) -> bool:
    field = "reminder_sent_at" if reminder else "convocation_sent_at"
    with transaction.atomic():
        member = (CommissionMember.objects.select_for_update()
                  .select_related("commission__centre", "evaluator__user")
                  .filter(pk=member_id).first())
        if member is None or getattr(member, field) is not None:
            return False
        commission = member.commission
        if commission.status != CommissionStatus.CONFIRMED:
            return False
        scheduled = list(commission.scheduled.select_related(
            "registration__candidate", "registration__version__certification"))
        context = {"member": member, "commission": commission, "scheduled": scheduled,
                   "answer_url": answer_url(member), "reminder": reminder,
                   "commission_url": settings.SITE_URL + reverse(
                       "commissions:commission_detail", args=[commission.pk])}
        ics = commission_event(
            uid=f"commission-{commission.pk}-member-{member.pk}@uimm-certifications",
            commission=commission, summary=f"Commission d'évaluation — {commission.centre}",
            description=f"Vous êtes convoqué(e) comme {member.get_role_display().lower()}. "
                        f"{len(scheduled)} candidat(s).",
        )
        _send("member_convocation", context, [member.evaluator.user.email],
              [("convocation.ics", ics, "text/calendar")])
        setattr(member, field, timezone.now())
        member.save(update_fields=[field])
    return True


@shared_task(acks_late=True)
def send_candidate_convocation(*, scheduled_id: int) -> bool:
    with transaction.atomic():
        scheduled = (ScheduledCandidate.objects.select_for_update()
                     .select_related("commission__centre", "registration__candidate",
                                     "registration__version__certification")
                     .filter(pk=scheduled_id).first())
        if scheduled is None or scheduled.convocation_sent_at is not None:
            return False
        if scheduled.commission.status != CommissionStatus.CONFIRMED:
            return False
        candidate = scheduled.registration.candidate
        if not candidate.email:
            return False
        _send("candidate_convocation", {"scheduled": scheduled,
                                        "commission": scheduled.commission,
                                        "registration": scheduled.registration},
              [candidate.email])
        scheduled.convocation_sent_at = timezone.now()
        scheduled.save(update_fields=["convocation_sent_at"])
    return True


@shared_task(acks_late=True)
def send_convocations(*, commission_id: int) -> int:
    commission = Commission.objects.get(pk=commission_id)
    sent = 0
    for member_id in commission.members.values_list("pk", flat=True):
        sent += send_member_convocation(member_id=member_id)
    for scheduled_id in commission.scheduled.values_list("pk", flat=True):
        sent += send_candidate_convocation(scheduled_id=scheduled_id)
    return sent


@shared_task
def send_due_reminders() -> int:
    """Beat job: remind the members of confirmed commissions held in the next
    COMMISSIONS["REMINDER_DAYS_BEFORE"] days; ``reminder_sent_at`` prevents repeats."""
    today = timezone.localdate()
    horizon = today + datetime.timedelta(days=settings.COMMISSIONS["REMINDER_DAYS_BEFORE"])
    due = CommissionMember.objects.filter(
        commission__status=CommissionStatus.CONFIRMED, commission__date__gte=today,
        commission__date__lte=horizon, reminder_sent_at__isnull=True,
    ).exclude(answer="declined").values_list("pk", flat=True)
    return sum(send_member_convocation(member_id=pk, reminder=True) for pk in list(due))


@shared_task(acks_late=True)
def send_application_decision(*, application_id: int) -> bool:
    application = EvaluatorApplication.objects.select_related(
        "centre", "evaluator__user").get(pk=application_id)
    if application.status == ApplicationStatus.SUBMITTED:
        return False
    context = {"application": application, "centre": application.centre}
    if application.status == ApplicationStatus.APPROVED:
        from django.contrib.auth.tokens import default_token_generator
        from django.utils.encoding import force_bytes
        from django.utils.http import urlsafe_base64_encode

        user = application.evaluator.user
        context["username"] = user.get_username()
        context["password_url"] = settings.SITE_URL + reverse(
            "password_reset_confirm",
            kwargs={"uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
                    "token": default_token_generator.make_token(user)})
        _send("application_approved", context, [application.email])
    else:
        _send("application_refused", context, [application.email])
    return True


@shared_task(acks_late=True)
def send_union_invitation(*, invitation_id: int) -> bool:
    """Ask a union to designate its member for a jury session; sent once (``sent_at``)."""
    from commissions.models import UnionInvitation

    with transaction.atomic():
        invitation = (UnionInvitation.objects.select_for_update()
                      .select_related("session__centre").filter(pk=invitation_id).first())
        if invitation is None or invitation.sent_at is not None:
            return False
        _send("union_invitation", {"invitation": invitation, "session": invitation.session,
                                   "centre": invitation.session.centre}, [invitation.email])
        invitation.sent_at = timezone.now()
        invitation.save(update_fields=["sent_at"])
    return True


@shared_task(acks_late=True)
def send_jury_convocation(*, seat_id: int) -> bool:
    """The written convocation of a jury member (DOMAIN.md §6, art. 55.2): an e-mail with the
    PDF letter they may show their employer; sent once (``Seat.convocation_sent_at``)."""
    with transaction.atomic():
        seat = (Seat.objects.select_for_update(of=("self",))
                .select_related("session__centre", "member__user")
                .filter(pk=seat_id).first())
        if seat is None or seat.convocation_sent_at is not None:
            return False
        session = seat.session
        if session.status != SessionStatus.PLANNED or not seat.member.user.email:
            return False
        president = (session.seats.filter(is_president=True)
                     .select_related("member__user").first())
        context = {
            "seat": seat, "session": session, "centre": session.centre, "member": seat.member,
            "certifications": [f"{c.kind} {c.code} — {c.title}"
                               for c in session.certifications.order_by("kind", "code")],
            "president": str(president.member) if president else "",
        }
        with translation.override(settings.LANGUAGE_CODE), \
                timezone.override(settings.TIME_ZONE):
            pdf = render_pdf("documents/jury_convocation.html", context)
            _send("jury_convocation", context, [seat.member.user.email],
                  [(f"convocation-jury-{session.date:%Y-%m-%d}.pdf", pdf, "application/pdf")])
        seat.convocation_sent_at = timezone.now()
        seat.save(update_fields=["convocation_sent_at"])
    return True
