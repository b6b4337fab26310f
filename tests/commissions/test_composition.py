"""Composing a commission: every path that assigns an evaluator or schedules a candidate —
the services, the admin and the staff page — enforces impartiality, the charter and the
habilitation; the optional override; the minimum composition checked at confirmation."""

import datetime

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from candidates.models import Registration, RegistrationState
from candidates.services import transition
from certifications.models import Role
from commissions import impartiality, services
from commissions.models import (
    CharterVersion,
    Commission,
    CommissionMember,
    CommissionStatus,
    MemberRole,
    Unavailability,
)
from commissions.services import AssignmentRefused
from tests.commissions.conftest import LINKS
from tests.factories import (
    CentreFactory,
    CertificationFactory,
    UserFactory,
    make_commission,
    make_ready,
    make_registration,
)

pytestmark = pytest.mark.django_db

NINE = datetime.time(9, 0)
TEN = datetime.time(10, 0)
CONFLICT_CODES = set(LINKS.values())


def test_only_the_links_to_the_candidate_can_be_overridden():
    # Eligibility problems (charter, habilitation, unavailability…) are never overridable.
    assert impartiality.OVERRIDABLE_CODES == CONFLICT_CODES


def publish_new_charter() -> CharterVersion:
    return CharterVersion.objects.create(label="2026-1", text="Charte révisée.",
                                         published_at=timezone.now())


def allow_override(settings):
    settings.COMMISSIONS = {**settings.COMMISSIONS, "IMPARTIALITY_OVERRIDE_ALLOWED": True}


# Each way an evaluator may be unfit to sit, whatever the candidates: kind → setup
def _stale_charter(evaluator, commission):
    publish_new_charter()


def _expired(evaluator, commission):
    evaluator.habilitations.update(valid_until=commission.date - datetime.timedelta(days=1))


def _not_yet_valid(evaluator, commission):
    evaluator.habilitations.update(valid_from=commission.date + datetime.timedelta(days=1),
                                   valid_until=commission.date + datetime.timedelta(days=90))


def _out_of_scope(evaluator, commission):
    evaluator.habilitations.get().certifications.set([CertificationFactory()])


def _inactive(evaluator, commission):
    evaluator.is_active = False
    evaluator.save()


def _unavailable(evaluator, commission):
    Unavailability.objects.create(evaluator=evaluator, start_on=commission.date,
                                  end_on=commission.date, reason="formation")


UNFIT = {
    "charter": _stale_charter,
    "habilitation_expired": _expired,
    "habilitation_not_yet_valid": _not_yet_valid,
    "habilitation_out_of_scope": _out_of_scope,
    "inactive": _inactive,
    "unavailable": _unavailable,
}


@pytest.fixture(params=list(UNFIT))
def unfit(request):
    return request.param


# ---------------------------------------------------------------------------
# Service: add_member
# ---------------------------------------------------------------------------
def test_fit_evaluator_is_added_as_president(commission, president, staff):
    member = services.add_member(commission=commission, evaluator=president,
                                 role=MemberRole.PRESIDENT, actor=staff)

    assert member.role == MemberRole.PRESIDENT
    assert member.override_justification == ""
    assert list(commission.members.all()) == [member]


def test_add_member_refuses_an_evaluator_linked_to_a_scheduled_candidate(
    commission, president, linked_registration, link, staff
):
    registration = linked_registration(link, president)
    services.schedule_candidate(commission=commission, registration=registration,
                                start_time=NINE, actor=staff)

    with pytest.raises(AssignmentRefused) as refused:
        services.add_member(commission=commission, evaluator=president, actor=staff)

    [message] = refused.value.messages
    assert "Marc Durand" in message
    assert registration.candidate.full_name in message
    assert not commission.members.exists()


def test_add_member_refuses_an_unfit_evaluator(commission, president, unfit, staff):
    UNFIT[unfit](president, commission)

    with pytest.raises(AssignmentRefused) as refused:
        services.add_member(commission=commission, evaluator=president, actor=staff)

    assert len(refused.value.messages) == 1
    assert "Marc Durand" in refused.value.messages[0]
    assert not commission.members.exists()


def test_evaluator_with_an_old_charter_is_added_once_the_current_one_is_accepted(
    commission, president, staff
):
    publish_new_charter()
    with pytest.raises(AssignmentRefused) as refused:
        services.add_member(commission=commission, evaluator=president, actor=staff)
    assert refused.value.messages == [
        "Marc Durand n'a pas accepté la version en vigueur de la charte de déontologie."]

    services.accept_charter(evaluator=president)
    member = services.add_member(commission=commission, evaluator=president, actor=staff)

    assert member.evaluator == president


def test_add_member_refuses_an_evaluator_of_another_centre(commission, certification, staff):
    from tests.factories import make_evaluator

    stranger = make_evaluator(certifications=[certification])

    with pytest.raises(AssignmentRefused) as refused:
        services.add_member(commission=commission, evaluator=stranger, actor=staff)

    assert refused.value.messages == ["L'évaluateur n'appartient pas au réseau de ce centre."]


def test_add_member_refuses_the_same_evaluator_twice(commission, president, staff):
    services.add_member(commission=commission, evaluator=president, actor=staff)

    with pytest.raises(AssignmentRefused) as refused:
        services.add_member(commission=commission, evaluator=president, actor=staff)

    assert refused.value.messages == ["Marc Durand siège déjà dans cette commission."]


def test_second_president_is_refused_by_the_service(commission, president, assessor, staff):
    services.add_member(commission=commission, evaluator=president, role=MemberRole.PRESIDENT,
                        actor=staff)

    with pytest.raises(AssignmentRefused) as refused:
        services.add_member(commission=commission, evaluator=assessor,
                            role=MemberRole.PRESIDENT, actor=staff)

    assert refused.value.messages == ["La commission a déjà un président."]
    assert commission.members.count() == 1


def test_second_president_is_refused_by_the_database(commission, president, assessor):
    CommissionMember.objects.create(commission=commission, evaluator=president,
                                    role=MemberRole.PRESIDENT)

    with pytest.raises(IntegrityError), transaction.atomic():
        CommissionMember.objects.create(commission=commission, evaluator=assessor,
                                        role=MemberRole.PRESIDENT)


def test_members_of_a_cancelled_commission_cannot_change(commission, president, staff):
    services.cancel_commission(commission=commission, actor=staff)

    with pytest.raises(Exception) as refused:
        services.add_member(commission=commission, evaluator=president, actor=staff)

    assert refused.value.messages == ["Cette commission ne peut plus être modifiée."]


# ---------------------------------------------------------------------------
# Service: schedule_candidate
# ---------------------------------------------------------------------------
def test_ready_registration_is_scheduled(commission, ready, staff):
    scheduled = services.schedule_candidate(commission=commission, registration=ready,
                                            start_time=NINE, end_time=TEN, actor=staff)

    assert (scheduled.registration, scheduled.start_time, scheduled.end_time) == (
        ready, NINE, TEN)


def test_schedule_candidate_refuses_a_candidate_linked_to_a_member(
    commission, president, linked_registration, link, staff
):
    services.add_member(commission=commission, evaluator=president, actor=staff)
    registration = linked_registration(link, president)

    with pytest.raises(AssignmentRefused) as refused:
        services.schedule_candidate(commission=commission, registration=registration,
                                    start_time=NINE, actor=staff)

    [message] = refused.value.messages
    assert "Marc Durand" in message
    assert registration.candidate.full_name in message
    assert not commission.scheduled.exists()


@pytest.mark.parametrize(
    ("state", "label"),
    [(RegistrationState.INSCRIT, "Inscrit"), (RegistrationState.EVALUE, "Évalué")],
)
def test_only_registrations_ready_for_evaluation_can_be_scheduled(
    commission, centre, version, staff, state, label
):
    registration = make_registration(centre=centre, version=version, actor=staff)
    if state == RegistrationState.EVALUE:
        registration = make_ready(registration, actor=staff)
        registration = transition(registration=registration, to_state=state, system=True)

    with pytest.raises(AssignmentRefused) as refused:
        services.schedule_candidate(commission=commission, registration=registration,
                                    start_time=NINE, actor=staff)

    assert refused.value.messages == [
        "Seuls les candidats « prêts pour l'évaluation » peuvent être convoqués "
        f"({registration.reference} est « {label} »)."]
    assert not commission.scheduled.exists()


def test_registration_already_scheduled_in_another_upcoming_commission_is_refused(
    commission, centre, certification, ready, staff
):
    services.schedule_candidate(commission=commission, registration=ready, start_time=NINE,
                                actor=staff)
    later = make_commission(centre=centre, certifications=[certification],
                            date=commission.date + datetime.timedelta(days=7))

    with pytest.raises(AssignmentRefused) as refused:
        services.schedule_candidate(commission=later, registration=ready, start_time=NINE,
                                    actor=staff)

    assert refused.value.messages == [
        f"{ready.reference} est déjà convoqué dans une commission à venir."]


def test_registration_of_a_cancelled_commission_can_be_scheduled_again(
    commission, centre, certification, ready, staff
):
    services.schedule_candidate(commission=commission, registration=ready, start_time=NINE,
                                actor=staff)
    services.cancel_commission(commission=commission, actor=staff)
    later = make_commission(centre=centre, certifications=[certification])

    scheduled = services.schedule_candidate(commission=later, registration=ready,
                                            start_time=NINE, actor=staff)

    assert scheduled.commission == later


def test_registration_of_another_centre_is_refused(commission, version, staff):
    elsewhere = CentreFactory()
    registration = make_ready(make_registration(centre=elsewhere, version=version))

    with pytest.raises(AssignmentRefused) as refused:
        services.schedule_candidate(commission=commission, registration=registration,
                                    start_time=NINE, actor=staff)

    assert refused.value.messages == ["Ce candidat n'est pas inscrit dans ce centre."]


def test_registration_for_another_certification_is_refused(commission, centre, staff):
    registration = make_ready(make_registration(centre=centre, actor=staff))

    with pytest.raises(AssignmentRefused) as refused:
        services.schedule_candidate(commission=commission, registration=registration,
                                    start_time=NINE, actor=staff)

    assert refused.value.messages == ["La commission n'évalue pas la certification de ce "
                                      "candidat."]


# ---------------------------------------------------------------------------
# Optional staff override (setting, off by default)
# ---------------------------------------------------------------------------
def conflicted_setup(commission, president, linked_registration, staff, kind="tutor"):
    registration = linked_registration(kind, president)
    services.schedule_candidate(commission=commission, registration=registration,
                                start_time=NINE, actor=staff)
    return registration


def test_override_is_off_by_default_and_a_justification_does_not_help(
    commission, president, linked_registration, staff, settings
):
    assert settings.COMMISSIONS["IMPARTIALITY_OVERRIDE_ALLOWED"] is False
    conflicted_setup(commission, president, linked_registration, staff)

    with pytest.raises(AssignmentRefused):
        services.add_member(commission=commission, evaluator=president, actor=staff,
                            justification="Seul expert disponible sur ce métier.")

    assert not commission.members.exists()


def test_allowed_override_still_requires_a_justification(
    commission, president, linked_registration, staff, settings
):
    allow_override(settings)
    conflicted_setup(commission, president, linked_registration, staff)

    with pytest.raises(AssignmentRefused):
        services.add_member(commission=commission, evaluator=president, actor=staff,
                            justification="   ")

    assert not commission.members.exists()


def test_allowed_override_with_justification_is_kept_in_the_member_history(
    commission, president, linked_registration, staff, settings
):
    allow_override(settings)
    conflicted_setup(commission, president, linked_registration, staff)

    member = services.add_member(commission=commission, evaluator=president, actor=staff,
                                 justification="  Seul expert disponible sur ce métier.  ")

    assert member.override_justification == "Seul expert disponible sur ce métier."
    [record] = member.history.all()
    assert record.history_type == "+"
    assert record.override_justification == "Seul expert disponible sur ce métier."


def test_charter_and_habilitation_are_never_overridable(
    commission, president, linked_registration, staff, settings, unfit
):
    allow_override(settings)
    UNFIT[unfit](president, commission)

    with pytest.raises(AssignmentRefused):
        services.add_member(commission=commission, evaluator=president, actor=staff,
                            justification="Urgence : commission à maintenir.")

    assert not commission.members.exists()


def test_overridden_conflict_does_not_block_confirmation(
    commission, president, assessor, linked_registration, staff, settings
):
    allow_override(settings)
    conflicted_setup(commission, president, linked_registration, staff)
    services.add_member(commission=commission, evaluator=president, role=MemberRole.PRESIDENT,
                        actor=staff, justification="Seul expert disponible sur ce métier.")
    services.add_member(commission=commission, evaluator=assessor, actor=staff)

    confirmed = services.confirm_commission(commission=commission, actor=staff)

    assert confirmed.status == CommissionStatus.CONFIRMED


def test_scheduling_against_a_member_is_refused_without_justification_when_allowed(
    commission, president, linked_registration, staff, settings
):
    allow_override(settings)
    services.add_member(commission=commission, evaluator=president, actor=staff)
    registration = linked_registration("manager", president)

    with pytest.raises(AssignmentRefused):
        services.schedule_candidate(commission=commission, registration=registration,
                                    start_time=NINE, actor=staff)


def test_scheduling_override_is_recorded_on_the_linked_member_and_allows_confirmation(
    commission, president, assessor, linked_registration, ready, staff, settings
):
    allow_override(settings)
    services.add_member(commission=commission, evaluator=president, role=MemberRole.PRESIDENT,
                        actor=staff)
    services.add_member(commission=commission, evaluator=assessor, actor=staff)
    registration = linked_registration("manager", president)

    services.schedule_candidate(commission=commission, registration=registration,
                                start_time=NINE, actor=staff,
                                justification="Le candidat a changé de service depuis.")

    linked = commission.members.get(evaluator=president)
    assert linked.override_justification == "Le candidat a changé de service depuis."
    assert linked.history.first().override_justification == (
        "Le candidat a changé de service depuis.")
    assert commission.members.get(evaluator=assessor).override_justification == ""
    assert services.confirm_commission(commission=commission,
                                       actor=staff).status == CommissionStatus.CONFIRMED


# ---------------------------------------------------------------------------
# Minimum composition, checked when confirming
# ---------------------------------------------------------------------------
def test_complete_commission_is_confirmed(commission, president, assessor, ready, staff):
    make_members(commission, staff, president, assessor)
    services.schedule_candidate(commission=commission, registration=ready, start_time=NINE,
                                actor=staff)

    confirmed = services.confirm_commission(commission=commission, actor=staff)

    assert confirmed.status == CommissionStatus.CONFIRMED
    assert confirmed.confirmed_at is not None


def make_members(commission, staff, president=None, *members):
    if president is not None:
        services.add_member(commission=commission, evaluator=president,
                            role=MemberRole.PRESIDENT, actor=staff)
    for evaluator in members:
        services.add_member(commission=commission, evaluator=evaluator, actor=staff)


def refusal(commission, staff) -> list[str]:
    with pytest.raises(AssignmentRefused) as refused:
        services.confirm_commission(commission=commission, actor=staff)
    assert Commission.objects.get(pk=commission.pk).status == CommissionStatus.DRAFT
    return refused.value.messages


def test_commission_with_fewer_members_than_the_minimum_is_not_confirmed(
    commission, president, ready, staff, settings
):
    assert settings.COMMISSIONS["MIN_MEMBERS"] == 2
    make_members(commission, staff, president)
    services.schedule_candidate(commission=commission, registration=ready, start_time=NINE,
                                actor=staff)

    assert refusal(commission, staff) == [
        "Une commission compte au moins 2 membres (1 actuellement)."]


def test_minimum_members_follows_the_setting(commission, president, assessor, ready, staff,
                                             settings):
    settings.COMMISSIONS = {**settings.COMMISSIONS, "MIN_MEMBERS": 3}
    make_members(commission, staff, president, assessor)
    services.schedule_candidate(commission=commission, registration=ready, start_time=NINE,
                                actor=staff)

    assert refusal(commission, staff) == [
        "Une commission compte au moins 3 membres (2 actuellement)."]


def test_commission_without_president_is_not_confirmed(commission, president, assessor, ready,
                                                       staff):
    make_members(commission, staff, None, president, assessor)
    services.schedule_candidate(commission=commission, registration=ready, start_time=NINE,
                                actor=staff)

    assert refusal(commission, staff) == ["Désignez le président de la commission."]


def test_commission_without_candidate_is_not_confirmed(commission, president, assessor, staff):
    make_members(commission, staff, president, assessor)

    assert refusal(commission, staff) == ["Aucun candidat n'est convoqué."]


def test_empty_commission_lists_every_missing_piece(commission, staff):
    assert refusal(commission, staff) == [
        "Une commission compte au moins 2 membres (0 actuellement).",
        "Désignez le président de la commission.",
        "Aucun candidat n'est convoqué.",
    ]


def test_confirmation_checks_the_members_again(commission, president, assessor, ready, staff):
    """Data may have changed since composition: a new charter the president has not accepted
    yet blocks the confirmation."""
    make_members(commission, staff, president, assessor)
    services.schedule_candidate(commission=commission, registration=ready, start_time=NINE,
                                actor=staff)
    publish_new_charter()
    services.accept_charter(evaluator=assessor)

    assert refusal(commission, staff) == [
        "Marc Durand n'a pas accepté la version en vigueur de la charte de déontologie."]


def test_confirmation_sees_a_link_that_appeared_after_composition(
    commission, president, assessor, ready, staff
):
    make_members(commission, staff, president, assessor)
    services.schedule_candidate(commission=commission, registration=ready, start_time=NINE,
                                actor=staff)
    Registration.objects.filter(pk=ready.pk).update(manager_email=assessor.user.email)

    [message] = refusal(commission, staff)

    assert message == (f"Sophie Martin est le responsable hiérarchique de "
                       f"{ready.candidate.full_name}.")


def test_confirmed_commission_is_not_confirmed_twice(commission, president, assessor, ready,
                                                     staff):
    make_members(commission, staff, president, assessor)
    services.schedule_candidate(commission=commission, registration=ready, start_time=NINE,
                                actor=staff)
    services.confirm_commission(commission=commission, actor=staff)

    with pytest.raises(Exception) as refused:
        services.confirm_commission(commission=commission, actor=staff)

    assert refused.value.messages == ["Seule une commission en préparation peut être "
                                      "confirmée."]


# ---------------------------------------------------------------------------
# Suggestions: staff see the conflict before it happens
# ---------------------------------------------------------------------------
def test_suggestions_show_fit_evaluators_first_and_explain_the_others(
    commission, president, assessor, evaluator_factory, linked_registration, staff
):
    registration = linked_registration("referent_trainer", assessor)
    services.schedule_candidate(commission=commission, registration=registration,
                                start_time=NINE, actor=staff)
    expired = evaluator_factory(user__first_name="Paul", user__last_name="Expiré",
                                valid_until=commission.date - datetime.timedelta(days=1))

    rows = services.suggest_evaluators(commission)

    # fit first; then by load, then by name (Expiré before Martin)
    assert [(row["evaluator"], row["eligible"]) for row in rows] == [
        (president, True), (expired, False), (assessor, False)]
    problems = {row["evaluator"]: [p.code for p in row["problems"]] for row in rows}
    assert problems == {president: [], assessor: ["trainer"], expired: ["habilitation"]}


def test_suggestions_leave_out_sitting_and_inactive_evaluators_and_count_the_year(
    commission, centre, certification, president, assessor, evaluator_factory, staff
):
    retired = evaluator_factory(is_active=False)
    services.add_member(commission=commission, evaluator=president, actor=staff)
    for days in (30, 60):
        other = make_commission(centre=centre, certifications=[certification],
                                date=commission.date + datetime.timedelta(days=days))
        services.add_member(commission=other, evaluator=assessor, actor=staff)
        if commission.date.year != other.date.year:  # near New Year: same-year load only
            Commission.objects.filter(pk=other.pk).update(date=commission.date)

    rows = services.suggest_evaluators(commission)

    assert [row["evaluator"] for row in rows] == [assessor]
    assert rows[0]["load"] == 2
    assert retired not in [row["evaluator"] for row in rows]


# ---------------------------------------------------------------------------
# Admin: the Commission change form and its inlines
# ---------------------------------------------------------------------------
def admin_staff(centre):
    """A gestionnaire of ``centre`` with the model permissions the admin needs."""
    from django.contrib.auth.models import Permission

    from tests.factories import MembershipFactory

    user = UserFactory(is_staff=True)
    MembershipFactory(user=user, centre=centre, role=Role.STAFF)
    user.user_permissions.set(Permission.objects.filter(
        content_type__app_label="commissions",
        codename__in=["view_commission", "change_commission", "add_commission",
                      "view_commissionmember", "add_commissionmember",
                      "change_commissionmember", "delete_commissionmember",
                      "view_scheduledcandidate", "add_scheduledcandidate",
                      "change_scheduledcandidate", "delete_scheduledcandidate"]))
    return user


@pytest.fixture
def admin_user(centre):
    return admin_staff(centre)


@pytest.fixture(params=["superuser", "staff_with_permissions"])
def admin_client(request, client, admin_user):
    if request.param == "superuser":
        client.force_login(UserFactory(is_staff=True, is_superuser=True))
    else:
        client.force_login(admin_user)
    return client


def admin_change_url(commission) -> str:
    return reverse("admin:commissions_commission_change", args=[commission.pk])


def admin_post_data(commission, *, members=(), scheduled=(), new_member=None,
                    new_scheduled=None) -> dict:
    """The change form as the browser posts it: the commission's fields, the existing
    inline rows unchanged, and at most one new row per inline."""
    data = {
        "centre": commission.centre_id,
        "certifications": [c.pk for c in commission.certifications.all()],
        "date": commission.date.isoformat(),
        "start_time": commission.start_time.strftime("%H:%M"),
        "end_time": commission.end_time.strftime("%H:%M") if commission.end_time else "",
        "place": commission.place,
        "notes": commission.notes,
        "_continue": "Enregistrer et continuer les modifications",
    }
    rows = list(commission.members.all())
    prefix = "members"
    data.update({f"{prefix}-TOTAL_FORMS": len(rows) + (1 if new_member else 0),
                 f"{prefix}-INITIAL_FORMS": len(rows), f"{prefix}-MIN_NUM_FORMS": 0,
                 f"{prefix}-MAX_NUM_FORMS": 1000})
    for index, row in enumerate(rows):
        data.update({f"{prefix}-{index}-id": row.pk, f"{prefix}-{index}-commission":
                     commission.pk, f"{prefix}-{index}-evaluator": row.evaluator_id,
                     f"{prefix}-{index}-role": row.role})
    if new_member:
        index = len(rows)
        data.update({f"{prefix}-{index}-commission": commission.pk,
                     f"{prefix}-{index}-evaluator": new_member[0].pk,
                     f"{prefix}-{index}-role": new_member[1]})
    rows = list(commission.scheduled.all())
    prefix = "scheduled"
    data.update({f"{prefix}-TOTAL_FORMS": len(rows) + (1 if new_scheduled else 0),
                 f"{prefix}-INITIAL_FORMS": len(rows), f"{prefix}-MIN_NUM_FORMS": 0,
                 f"{prefix}-MAX_NUM_FORMS": 1000})
    for index, row in enumerate(rows):
        data.update({f"{prefix}-{index}-id": row.pk, f"{prefix}-{index}-commission":
                     commission.pk, f"{prefix}-{index}-registration": row.registration_id,
                     f"{prefix}-{index}-start_time": row.start_time.strftime("%H:%M"),
                     f"{prefix}-{index}-end_time": ""})
    if new_scheduled:
        index = len(rows)
        data.update({f"{prefix}-{index}-commission": commission.pk,
                     f"{prefix}-{index}-registration": new_scheduled.pk,
                     f"{prefix}-{index}-start_time": "09:00",
                     f"{prefix}-{index}-end_time": ""})
    return data


def test_admin_change_form_opens(admin_client, commission):
    response = admin_client.get(admin_change_url(commission))

    assert response.status_code == 200


def test_admin_adds_a_fit_member_through_the_service(admin_client, commission, president):
    response = admin_client.post(admin_change_url(commission), admin_post_data(
        commission, new_member=(president, MemberRole.PRESIDENT)))

    assert response.status_code == 302, response.content.decode()[:3000]
    assert [(m.evaluator, m.role) for m in commission.members.all()] == [
        (president, MemberRole.PRESIDENT)]


def test_admin_refuses_a_member_linked_to_a_scheduled_candidate(
    admin_client, commission, president, linked_registration, link, staff
):
    registration = linked_registration(link, president)
    services.schedule_candidate(commission=commission, registration=registration,
                                start_time=NINE, actor=staff)

    response = admin_client.post(admin_change_url(commission), admin_post_data(
        commission, new_member=(president, MemberRole.MEMBER)))

    assert response.status_code == 200
    assert not commission.members.exists()
    page = response.content.decode()
    [message] = [p.message for p in services.member_problems(president, commission)]
    from django.utils.html import escape

    assert escape(message) in page


def test_admin_refuses_an_unfit_member(admin_client, commission, president, unfit):
    UNFIT[unfit](president, commission)

    response = admin_client.post(admin_change_url(commission), admin_post_data(
        commission, new_member=(president, MemberRole.MEMBER)))

    assert response.status_code == 200
    assert not commission.members.exists()
    assert "Marc Durand" in response.content.decode()


def test_admin_refuses_a_candidate_linked_to_a_member(
    admin_client, commission, president, linked_registration, link, staff
):
    services.add_member(commission=commission, evaluator=president, actor=staff)
    registration = linked_registration(link, president)

    response = admin_client.post(admin_change_url(commission), admin_post_data(
        commission, new_scheduled=registration))

    assert response.status_code == 200
    assert not commission.scheduled.exists()
    assert "Marc Durand" in response.content.decode()


def test_admin_refuses_a_candidate_not_ready_for_evaluation(admin_client, commission, centre,
                                                           version, staff):
    registration = make_registration(centre=centre, version=version, actor=staff)

    response = admin_client.post(admin_change_url(commission), admin_post_data(
        commission, new_scheduled=registration))

    assert response.status_code == 200
    assert not commission.scheduled.exists()
    assert "prêts pour l&#x27;évaluation" in response.content.decode()


def test_admin_refuses_replacing_a_member_by_a_linked_evaluator(
    admin_client, commission, president, assessor, linked_registration, staff
):
    """Changing the evaluator of an existing row is an assignment too."""
    services.add_member(commission=commission, evaluator=president, actor=staff)
    registration = linked_registration("tutor", assessor)
    services.schedule_candidate(commission=commission, registration=registration,
                                start_time=NINE, actor=staff)
    data = admin_post_data(commission)
    data["members-0-evaluator"] = assessor.pk

    response = admin_client.post(admin_change_url(commission), data)

    assert response.status_code == 200
    assert [m.evaluator for m in commission.members.all()] == [president]
    assert "Sophie Martin est le tuteur de" in response.content.decode()


def test_admin_schedules_a_ready_candidate(admin_client, commission, president, ready, staff):
    services.add_member(commission=commission, evaluator=president, actor=staff)

    response = admin_client.post(admin_change_url(commission), admin_post_data(
        commission, new_scheduled=ready))

    assert response.status_code == 302, response.content.decode()[:3000]
    assert [s.registration for s in commission.scheduled.all()] == [ready]


def test_admin_of_another_centre_does_not_see_the_commission(client, commission):
    client.force_login(admin_staff(CentreFactory()))

    response = client.get(admin_change_url(commission))
    listing = client.get(reverse("admin:commissions_commission_changelist"))

    assert response.status_code == 302  # « n'existe pas », back to the admin index
    assert listing.status_code == 200
    assert listing.context["cl"].result_count == 0


# ---------------------------------------------------------------------------
# Staff page: the compose view
# ---------------------------------------------------------------------------
def compose_url(commission) -> str:
    return reverse("commissions:compose", args=[commission.pk])


def page_messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def post_member(client, commission, evaluator, role=MemberRole.MEMBER, **extra):
    return client.post(compose_url(commission), {
        "action": "add_member", "evaluator": evaluator.pk, "role": role, **extra})


def post_schedule(client, commission, registration, **extra):
    return client.post(compose_url(commission), {
        "action": "schedule", "registration": registration.pk, "start_time": "09:00",
        "end_time": "", **extra})


def test_staff_page_adds_a_fit_member(client, commission, president, staff):
    client.force_login(staff)

    response = post_member(client, commission, president, MemberRole.PRESIDENT)

    assert response.status_code == 302
    assert [(m.evaluator, m.role) for m in commission.members.all()] == [
        (president, MemberRole.PRESIDENT)]


def test_staff_page_refuses_a_member_linked_to_a_scheduled_candidate(
    client, commission, president, linked_registration, link, staff
):
    registration = linked_registration(link, president)
    services.schedule_candidate(commission=commission, registration=registration,
                                start_time=NINE, actor=staff)
    client.force_login(staff)

    response = post_member(client, commission, president)

    assert response.status_code == 200
    assert not commission.members.exists()
    [message] = page_messages(response)
    assert "Marc Durand" in message
    assert registration.candidate.full_name in message


def test_staff_page_shows_the_conflict_before_adding(client, commission, president,
                                                    linked_registration, staff):
    registration = linked_registration("tutor", president)
    services.schedule_candidate(commission=commission, registration=registration,
                                start_time=NINE, actor=staff)
    client.force_login(staff)

    response = client.get(compose_url(commission))

    [row] = [r for r in response.context["suggestions"] if r["evaluator"] == president]
    assert row["eligible"] is False
    assert [p.message for p in row["problems"]] == [
        f"Marc Durand est le tuteur de {registration.candidate.full_name}."]
    assert "Marc Durand est le tuteur de" in response.content.decode()


def test_staff_page_refuses_an_unfit_member(client, commission, president, unfit, staff):
    UNFIT[unfit](president, commission)
    client.force_login(staff)

    response = post_member(client, commission, president)

    assert response.status_code == 200
    assert not commission.members.exists()
    [message] = page_messages(response)
    assert "Marc Durand" in message


def test_staff_page_adds_a_member_once_the_current_charter_is_accepted(client, commission,
                                                                       president, staff):
    publish_new_charter()
    client.force_login(staff)
    refused = post_member(client, commission, president)
    assert page_messages(refused) == [
        "Marc Durand n'a pas accepté la version en vigueur de la charte de déontologie."]

    services.accept_charter(evaluator=president)
    accepted = post_member(client, commission, president)

    assert accepted.status_code == 302
    assert [m.evaluator for m in commission.members.all()] == [president]


def test_staff_page_refuses_a_candidate_linked_to_a_member(
    client, commission, president, linked_registration, link, staff
):
    services.add_member(commission=commission, evaluator=president, actor=staff)
    registration = linked_registration(link, president)
    client.force_login(staff)

    response = post_schedule(client, commission, registration)

    assert response.status_code == 200
    assert not commission.scheduled.exists()
    [message] = page_messages(response)
    assert "Marc Durand" in message
    assert registration.candidate.full_name in message


def test_staff_page_schedules_a_ready_candidate(client, commission, ready, staff):
    client.force_login(staff)

    response = post_schedule(client, commission, ready)

    assert response.status_code == 302
    assert [(s.registration, s.start_time) for s in commission.scheduled.all()] == [
        (ready, NINE)]


def test_staff_page_refuses_a_registration_not_ready(client, commission, centre, version,
                                                     staff):
    registration = make_registration(centre=centre, version=version, actor=staff)
    client.force_login(staff)

    response = post_schedule(client, commission, registration)

    assert response.status_code == 200
    assert not commission.scheduled.exists()
    assert page_messages(response) == [
        "Seuls les candidats « prêts pour l'évaluation » peuvent être convoqués "
        f"({registration.reference} est « Inscrit »)."]


def test_staff_page_justification_is_ignored_when_override_is_off(
    client, commission, president, linked_registration, staff
):
    conflicted_setup(commission, president, linked_registration, staff)
    client.force_login(staff)

    response = post_member(client, commission, president,
                           justification="Seul expert disponible sur ce métier.")

    assert response.status_code == 200
    assert not commission.members.exists()


def test_staff_page_override_with_justification_when_allowed(
    client, commission, president, linked_registration, staff, settings
):
    allow_override(settings)
    conflicted_setup(commission, president, linked_registration, staff)
    client.force_login(staff)

    without = post_member(client, commission, president, justification="")
    assert without.status_code == 200
    assert not commission.members.exists()

    response = post_member(client, commission, president,
                           justification="Seul expert disponible sur ce métier.")

    assert response.status_code == 302
    member = commission.members.get()
    assert member.override_justification == "Seul expert disponible sur ce métier."
    assert member.history.first().override_justification == (
        "Seul expert disponible sur ce métier.")


def test_staff_page_never_overrides_the_charter(client, commission, president, staff,
                                                settings):
    allow_override(settings)
    publish_new_charter()
    client.force_login(staff)

    response = post_member(client, commission, president,
                           justification="Urgence : commission à maintenir.")

    assert response.status_code == 200
    assert not commission.members.exists()


def test_staff_page_cannot_add_an_evaluator_of_another_centre(client, commission,
                                                              certification, staff):
    from tests.factories import make_evaluator

    stranger = make_evaluator(certifications=[certification])
    client.force_login(staff)

    response = post_member(client, commission, stranger)

    assert response.status_code == 404
    assert not commission.members.exists()


def test_staff_page_confirms_a_complete_commission(client, commission, president, assessor,
                                                   ready, staff, mailoutbox,
                                                   django_capture_on_commit_callbacks):
    make_members(commission, staff, president, assessor)
    services.schedule_candidate(commission=commission, registration=ready, start_time=NINE,
                                actor=staff)
    client.force_login(staff)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("commissions:commission_detail", args=[commission.pk]),
                               {"action": "confirm"})

    assert response.status_code == 302
    commission.refresh_from_db()
    assert commission.status == CommissionStatus.CONFIRMED
    assert len(mailoutbox) == 3


def test_staff_page_refuses_to_confirm_an_incomplete_commission(client, commission, president,
                                                                staff):
    make_members(commission, staff, president)
    client.force_login(staff)

    response = client.post(reverse("commissions:commission_detail", args=[commission.pk]),
                           {"action": "confirm"}, follow=True)

    commission.refresh_from_db()
    assert commission.status == CommissionStatus.DRAFT
    assert page_messages(response) == [
        "Une commission compte au moins 2 membres (1 actuellement).",
        "Aucun candidat n'est convoqué.",
    ]


def test_admin_removes_a_member_through_the_service_and_logs_it(admin_client, commission,
                                                                president, staff):
    from django.contrib.admin.models import LogEntry

    services.add_member(commission=commission, evaluator=president, actor=staff)
    data = admin_post_data(commission)
    data["members-0-DELETE"] = "on"

    response = admin_client.post(admin_change_url(commission), data)

    assert response.status_code == 302
    assert not commission.members.exists()
    entry = LogEntry.objects.get(object_id=str(commission.pk))
    assert "Marc Durand" in entry.get_change_message()


def test_admin_refuses_a_second_president_on_an_existing_row(admin_client, commission,
                                                             president, assessor, staff):
    make_members(commission, staff, president, assessor)
    data = admin_post_data(commission)
    row = next(i for i, m in enumerate(commission.members.all()) if m.evaluator == assessor)
    data[f"members-{row}-role"] = MemberRole.PRESIDENT

    response = admin_client.post(admin_change_url(commission), data)

    assert response.status_code == 200
    assert "La commission a déjà un président." in response.content.decode()
    assert commission.members.get(evaluator=assessor).role == MemberRole.MEMBER


def test_admin_shows_the_service_refusal_for_a_registration_of_another_centre(
    admin_client, commission, version
):
    elsewhere = make_ready(make_registration(centre=CentreFactory(), version=version))

    response = admin_client.post(admin_change_url(commission), admin_post_data(
        commission, new_scheduled=elsewhere), follow=True)

    assert not commission.scheduled.exists()
    assert "Ce candidat n&#x27;est pas inscrit dans ce centre." in response.content.decode()
