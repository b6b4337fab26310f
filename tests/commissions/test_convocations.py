"""Convocations (DOMAIN.md §4, issue 4): e-mails to the members with an .ics invitation and to
the candidates, sent by Celery tasks once; reminders before the date (beat schedule in code);
the members' confirm/decline link."""

import datetime
import re
from zoneinfo import ZoneInfo

import icalendar
import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from certifications.models import Role
from commissions import services, tasks
from commissions.models import (
    Answer,
    Commission,
    CommissionMember,
    CommissionStatus,
    MemberRole,
    ScheduledCandidate,
)
from config.links import make_token
from tests.factories import make_commission, member

pytestmark = pytest.mark.django_db
PARIS = ZoneInfo("Europe/Paris")


@pytest.fixture
def candidates(ready_factory):
    return [ready_factory(), ready_factory()]


@pytest.fixture
def composed(commission, president, assessor, candidates, staff):
    """A complete draft commission: president, member, two candidates."""
    services.add_member(commission=commission, evaluator=president, role=MemberRole.PRESIDENT,
                        actor=staff)
    services.add_member(commission=commission, evaluator=assessor, actor=staff)
    for hour, registration in zip((9, 11), candidates, strict=True):
        services.schedule_candidate(commission=commission, registration=registration,
                                    start_time=datetime.time(hour, 0), actor=staff)
    return commission


def confirm(commission, staff, capture):
    with capture(execute=True):
        return services.confirm_commission(commission=commission, actor=staff)


@pytest.fixture
def confirmed(composed, staff, django_capture_on_commit_callbacks):
    return confirm(composed, staff, django_capture_on_commit_callbacks)


def mail_to(outbox, address):
    [message] = [m for m in outbox if m.to == [address]]
    return message


def ics_event(message) -> icalendar.Event:
    [attachment] = message.attachments
    name, content, mimetype = attachment
    assert (name, mimetype) == ("convocation.ics", "text/calendar")
    calendar = icalendar.Calendar.from_ical(content)
    [event] = calendar.walk("VEVENT")
    return event


def member_of(commission, evaluator) -> CommissionMember:
    return commission.members.get(evaluator=evaluator)


# ---------------------------------------------------------------------------
# Convocation e-mails
# ---------------------------------------------------------------------------
def test_confirming_sends_one_email_per_member_and_per_candidate(
    confirmed, president, assessor, candidates, mailoutbox
):
    assert sorted(m.to[0] for m in mailoutbox) == sorted([
        president.user.email, assessor.user.email,
        *(r.candidate.email for r in candidates)])


def test_nothing_is_sent_before_the_transaction_commits(composed, staff, mailoutbox,
                                                       django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.confirm_commission(commission=composed, actor=staff)

    assert len(callbacks) == 1
    assert mailoutbox == []


def test_member_email_has_the_answer_link_and_the_candidates(confirmed, president, candidates,
                                                             mailoutbox):
    message = mail_to(mailoutbox, president.user.email)
    member = member_of(confirmed, president)

    assert message.subject == (
        "Convocation à la commission d'évaluation du "
        f"{_french_date(confirmed.date)}")
    assert tasks.answer_url(member) in message.body
    assert "président de la commission d'évaluation" in message.body
    for registration in candidates:
        assert registration.candidate.full_name in message.body
    assert "09:00" in message.body and "11:00" in message.body
    assert confirmed.place in message.body


def _french_date(day: datetime.date) -> str:
    return date_format(day, "l j F Y")


def test_member_invitation_is_at_the_commission_time_in_paris(confirmed, president, mailoutbox):
    event = ics_event(mail_to(mailoutbox, president.user.email))

    start = event.decoded("DTSTART")
    end = event.decoded("DTEND")
    assert start == datetime.datetime.combine(confirmed.date, confirmed.start_time, PARIS)
    assert end == datetime.datetime.combine(confirmed.date, confirmed.end_time, PARIS)
    assert start.astimezone(PARIS).time() == datetime.time(8, 30)


def test_member_invitation_has_summary_location_and_a_uid_per_member(
    confirmed, president, assessor, centre, mailoutbox
):
    event = ics_event(mail_to(mailoutbox, president.user.email))
    other = ics_event(mail_to(mailoutbox, assessor.user.email))

    assert str(event["SUMMARY"]) == f"Commission d'évaluation — {centre}"
    assert str(event["LOCATION"]) == "Pôle Formation UIMM, 2 rue de la Fonderie, Nantes"
    assert "président" in str(event["DESCRIPTION"])
    assert "2 candidat(s)" in str(event["DESCRIPTION"])
    assert str(event["UID"]) != str(other["UID"])


def test_remote_commission_invitation_says_so(commission, president, assessor, candidates,
                                              staff, mailoutbox,
                                              django_capture_on_commit_callbacks):
    Commission.objects.filter(pk=commission.pk).update(remote=True, place="")
    commission.refresh_from_db()
    make_members_and_schedule(commission, staff, [president, assessor], candidates[:1])

    confirm(commission, staff, django_capture_on_commit_callbacks)

    event = ics_event(mail_to(mailoutbox, president.user.email))
    assert str(event["LOCATION"]) == "À distance"


def make_members_and_schedule(commission, staff, evaluators, registrations):
    for index, evaluator in enumerate(evaluators):
        services.add_member(commission=commission, evaluator=evaluator, actor=staff,
                            role=MemberRole.PRESIDENT if index == 0 else MemberRole.MEMBER)
    for registration in registrations:
        services.schedule_candidate(commission=commission, registration=registration,
                                    start_time=datetime.time(9, 0), actor=staff)


def test_candidate_email_gives_date_time_and_place(confirmed, candidates, mailoutbox):
    registration = candidates[1]
    message = mail_to(mailoutbox, registration.candidate.email)

    assert message.subject == (
        f"Convocation à votre évaluation du {date_format(confirmed.date, 'j F Y')}")
    assert registration.candidate.first_names in message.body
    assert registration.version.certification.title in message.body
    assert "11:00" in message.body
    assert confirmed.place in message.body
    assert message.attachments == []


def test_candidate_without_an_email_address_is_skipped(
    composed, candidates, staff, mailoutbox, django_capture_on_commit_callbacks
):
    candidate = candidates[0].candidate
    candidate.email = ""
    candidate.save()

    confirm(composed, staff, django_capture_on_commit_callbacks)

    assert len(mailoutbox) == 3
    assert ScheduledCandidate.objects.get(registration=candidates[0]).convocation_sent_at is None


def test_convocations_are_recorded_and_never_sent_twice(confirmed, mailoutbox):
    assert all(m.convocation_sent_at for m in confirmed.members.all())
    assert all(s.convocation_sent_at for s in confirmed.scheduled.all())

    sent_again = tasks.send_convocations.delay(commission_id=confirmed.pk).get()

    assert sent_again == 0
    assert len(mailoutbox) == 4


def test_draft_commission_sends_nothing(composed, mailoutbox):
    assert tasks.send_convocations(commission_id=composed.pk) == 0
    assert mailoutbox == []


def test_member_added_after_confirmation_is_convoked(
    confirmed, evaluator_factory, staff, mailoutbox, django_capture_on_commit_callbacks
):
    late = evaluator_factory()
    mailoutbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        services.add_member(commission=confirmed, evaluator=late, actor=staff)

    [message] = mailoutbox
    assert message.to == [late.user.email]
    assert ics_event(message)["SUMMARY"]


def test_candidate_scheduled_after_confirmation_is_convoked(
    confirmed, ready_factory, staff, mailoutbox, django_capture_on_commit_callbacks
):
    late = ready_factory()
    mailoutbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        services.schedule_candidate(commission=confirmed, registration=late,
                                    start_time=datetime.time(14, 0), actor=staff)

    [message] = mailoutbox
    assert message.to == [late.candidate.email]


# ---------------------------------------------------------------------------
# Reminders (Celery beat)
# ---------------------------------------------------------------------------
@pytest.fixture
def soon(centre, certification, president, assessor, ready_factory, staff,
         django_capture_on_commit_callbacks, mailoutbox, settings):
    """A confirmed commission within the reminder horizon; convocations already sent."""
    days = settings.COMMISSIONS["REMINDER_DAYS_BEFORE"]
    with django_capture_on_commit_callbacks(execute=True):
        commission = make_commission(
            centre=centre, certifications=[certification], actor=staff,
            date=timezone.localdate() + datetime.timedelta(days=days),
            members=[president, assessor], registrations=[ready_factory()], confirm=True)
    mailoutbox.clear()
    return commission


def test_reminders_go_to_the_members_of_a_commission_within_the_horizon(
    soon, president, assessor, mailoutbox
):
    sent = tasks.send_due_reminders()

    assert sent == 2
    assert sorted(m.to[0] for m in mailoutbox) == sorted([president.user.email,
                                                          assessor.user.email])
    assert all(m.subject.startswith("Rappel — Convocation à la commission") for m in mailoutbox)
    assert all(m.reminder_sent_at for m in soon.members.all())


def test_reminders_are_sent_once(soon, mailoutbox):
    tasks.send_due_reminders()

    assert tasks.send_due_reminders() == 0
    assert len(mailoutbox) == 2


def test_declined_member_gets_no_reminder(soon, assessor, president, mailoutbox):
    services.answer_convocation(member=member_of(soon, assessor), answer=Answer.DECLINED)

    tasks.send_due_reminders()

    assert [m.to for m in mailoutbox] == [[president.user.email]]


def test_far_away_commission_gets_no_reminder_yet(confirmed, mailoutbox, settings):
    assert confirmed.date > timezone.localdate() + datetime.timedelta(
        days=settings.COMMISSIONS["REMINDER_DAYS_BEFORE"])
    mailoutbox.clear()

    assert tasks.send_due_reminders() == 0
    assert mailoutbox == []


def test_draft_or_past_commissions_get_no_reminder(centre, certification, president, staff,
                                                  mailoutbox):
    make_commission(centre=centre, certifications=[certification], members=[president],
                    date=timezone.localdate() + datetime.timedelta(days=1))
    past = make_commission(centre=centre, certifications=[certification], members=[president],
                           date=timezone.localdate() - datetime.timedelta(days=1))
    Commission.objects.filter(pk=past.pk).update(status=CommissionStatus.CONFIRMED)

    assert tasks.send_due_reminders() == 0
    assert mailoutbox == []


def test_reminder_job_is_in_the_beat_schedule_and_names_a_registered_task(settings):
    from celery.schedules import crontab

    from config.celery import app

    job = settings.CELERY_BEAT_SCHEDULE["commission-reminders"]

    assert isinstance(job["schedule"], crontab)
    assert job["task"] == tasks.send_due_reminders.name
    assert job["task"] in app.tasks
    assert app.tasks[job["task"]].delay().get() == 0


# ---------------------------------------------------------------------------
# Confirm / decline link (HTTP)
# ---------------------------------------------------------------------------
def link_path(member: CommissionMember) -> str:
    """The path part of the answer URL sent in the member's e-mail."""
    return tasks.answer_url(member).removeprefix(settings.SITE_URL)


def link_from_email(mailoutbox, evaluator, commission) -> str:
    """The answer link as the member reads it in the convocation (the other link of the
    e-mail is the commission page)."""
    body = mail_to(mailoutbox, evaluator.user.email).body
    urls = re.findall(re.escape(settings.SITE_URL) + r"/\S+", body)
    page = settings.SITE_URL + reverse("commissions:commission_detail", args=[commission.pk])
    [url] = [u for u in urls if u != page]
    return url.removeprefix(settings.SITE_URL)


def test_email_link_lets_the_member_confirm_then_decline(client, confirmed, president,
                                                        mailoutbox):
    path = link_from_email(mailoutbox, president, confirmed)
    client.force_login(president.user)

    page = client.get(path)
    assert page.status_code == 200
    confirmed_answer = client.post(path, {"answer": Answer.CONFIRMED})
    member = member_of(confirmed, president)
    assert confirmed_answer.status_code == 302
    assert (member.answer, member.answered_at is not None) == (Answer.CONFIRMED, True)
    first_answer_at = member.answered_at

    client.post(path, {"answer": Answer.DECLINED})
    member.refresh_from_db()
    assert member.answer == Answer.DECLINED
    assert member.answered_at >= first_answer_at


def test_someone_elses_link_is_not_found_and_changes_nothing(client, confirmed, president,
                                                             assessor):
    path = link_path(member_of(confirmed, president))
    client.force_login(assessor.user)

    assert client.get(path).status_code == 404
    assert client.post(path, {"answer": Answer.DECLINED}).status_code == 404
    member = member_of(confirmed, president)
    assert (member.answer, member.answered_at) == (Answer.PENDING, None)


def test_staff_using_a_members_link_is_not_found(client, confirmed, president, staff):
    client.force_login(staff)

    assert client.get(link_path(member_of(confirmed, president))).status_code == 404


def test_anonymous_visitor_is_sent_to_the_login_page(client, confirmed, president):
    path = link_path(member_of(confirmed, president))

    response = client.get(path)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert member_of(confirmed, president).answer == Answer.PENDING


def test_tampered_token_is_not_found(client, confirmed, president):
    member = member_of(confirmed, president)
    token = make_token(link_id=member.pk, nonce=member.link_nonce,
                       purpose=tasks.CONVOCATION_PURPOSE)
    client.force_login(president.user)

    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    assert client.get(reverse("commissions:convocation_answer", args=[tampered])
                      ).status_code == 404


def test_token_with_a_wrong_nonce_is_not_found(client, confirmed, president):
    member = member_of(confirmed, president)
    token = make_token(link_id=member.pk, nonce="pas-le-bon-nonce",
                       purpose=tasks.CONVOCATION_PURPOSE)
    client.force_login(president.user)

    assert client.get(reverse("commissions:convocation_answer", args=[token])
                      ).status_code == 404


def test_token_for_another_purpose_is_not_found(client, confirmed, president):
    member = member_of(confirmed, president)
    token = make_token(link_id=member.pk, nonce=member.link_nonce, purpose="candidate")
    client.force_login(president.user)

    assert client.get(reverse("commissions:convocation_answer", args=[token])
                      ).status_code == 404


def test_link_of_a_past_commission_has_expired(client, confirmed, president):
    Commission.objects.filter(pk=confirmed.pk).update(
        date=timezone.localdate() - datetime.timedelta(days=1))
    client.force_login(president.user)
    path = link_path(member_of(confirmed, president))

    page = client.get(path)
    answer = client.post(path, {"answer": Answer.CONFIRMED})

    assert page.status_code == 410
    assert answer.status_code == 410
    assert member_of(confirmed, president).answer == Answer.PENDING


def test_link_of_a_removed_member_is_not_found(client, confirmed, president, assessor, staff):
    member = member_of(confirmed, assessor)
    path = link_path(member)
    services.remove_member(member=member, actor=staff)
    client.force_login(assessor.user)

    assert client.get(path).status_code == 404


def test_staff_see_the_answers_on_the_commission_page(client, confirmed, president, assessor,
                                                      staff):
    services.answer_convocation(member=member_of(confirmed, president),
                                answer=Answer.CONFIRMED)
    services.answer_convocation(member=member_of(confirmed, assessor), answer=Answer.DECLINED)
    client.force_login(staff)

    response = client.get(reverse("commissions:commission_detail", args=[confirmed.pk]))

    page = response.content.decode()
    assert response.status_code == 200
    assert "Présence confirmée" in page
    assert "Empêché" in page


def test_answer_service_refuses_an_unknown_answer_or_a_draft_commission(composed, president):
    from django.core.exceptions import ValidationError

    member = member_of(composed, president)
    with pytest.raises(ValidationError) as draft:
        services.answer_convocation(member=member, answer=Answer.CONFIRMED)

    assert draft.value.messages == ["Cette convocation n'attend plus de réponse."]


def test_unknown_answer_is_refused(confirmed, president):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as unknown:
        services.answer_convocation(member=member_of(confirmed, president), answer=Answer.PENDING)

    assert unknown.value.messages == ["Réponse inconnue."]


def test_jury_member_cannot_use_an_evaluators_link(client, confirmed, president, centre):
    juror = member(Role.JURY, centre=centre)
    client.force_login(juror)

    assert client.get(link_path(member_of(confirmed, president))).status_code == 404
