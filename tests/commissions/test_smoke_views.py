"""Smoke tests of the commissions pages as their author wrote them: each page renders for its
user, the staff forms reach the services, and the composition pages stay within a query
budget that does not grow with members or candidates."""

import datetime
from html import unescape

import pytest
from django.urls import reverse
from django.utils import timezone

from commissions import services
from commissions.models import (
    Commission,
    CommissionMember,
    CommissionStatus,
    MemberRole,
    ScheduledCandidate,
)
from tests.factories import make_commission

pytestmark = pytest.mark.django_db


def page(client, name, *args, **kwargs):
    response = client.get(reverse(f"commissions:{name}", args=args), **kwargs)
    assert response.status_code == 200, response.status_code
    return unescape(response.content.decode())


@pytest.fixture
def composed(commission, president, assessor, ready_factory, staff):
    services.add_member(commission=commission, evaluator=president, role=MemberRole.PRESIDENT,
                        actor=staff)
    services.add_member(commission=commission, evaluator=assessor, actor=staff)
    services.schedule_candidate(commission=commission, registration=ready_factory(),
                                start_time=datetime.time(9, 0), actor=staff)
    return commission


# ---------------------------------------------------------------------------
# Staff
# ---------------------------------------------------------------------------
def test_staff_creates_a_commission_then_lands_on_its_composition(client, staff, centre,
                                                                  certification):
    certification.status = "published"
    certification.save()
    client.force_login(staff)

    response = client.post(reverse("commissions:commission_create"), {
        "date": (timezone.localdate() + datetime.timedelta(days=30)).isoformat(),
        "start_time": "08:30", "end_time": "16:30", "place": "Atelier 3, Saint-Nazaire",
        "certifications": [certification.pk],
    })

    commission = Commission.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("commissions:compose", args=[commission.pk])
    assert (commission.centre, commission.created_by, list(commission.certifications.all())) \
        == (centre, staff, [certification])


def test_commission_without_place_nor_remote_is_refused_in_french(client, staff,
                                                                  certification):
    certification.status = "published"
    certification.save()
    client.force_login(staff)

    response = client.post(reverse("commissions:commission_create"), {
        "date": "2031-03-04", "start_time": "08:30", "certifications": [certification.pk]})

    assert response.status_code == 200
    assert "Indiquez le lieu" in response.content.decode()
    assert not Commission.objects.exists()


def test_compose_page_shows_a_conflict_before_it_happens(client, staff, commission, president,
                                                         linked_registration):
    services.schedule_candidate(commission=commission,
                                registration=linked_registration("tutor", president),
                                start_time=datetime.time(9, 0), actor=staff)
    client.force_login(staff)

    html = page(client, "compose", commission.pk)

    assert "est le tuteur de" in html
    assert f'data-testid="suggestion-{president.pk}" data-eligible="false"' in html
    assert "Justification de la dérogation" not in html


def test_compose_page_offers_a_justification_when_the_centre_allows_overrides(
    client, staff, commission, president, linked_registration, settings
):
    settings.COMMISSIONS = {**settings.COMMISSIONS, "IMPARTIALITY_OVERRIDE_ALLOWED": True}
    services.schedule_candidate(commission=commission,
                                registration=linked_registration("manager", president),
                                start_time=datetime.time(9, 0), actor=staff)
    client.force_login(staff)

    assert "Justification de la dérogation" in page(client, "compose", commission.pk)


def test_staff_page_adds_members_and_schedules_then_confirms(client, staff, commission,
                                                             president, assessor, ready):
    client.force_login(staff)
    compose = reverse("commissions:compose", args=[commission.pk])

    client.post(compose, {"action": "add_member", "evaluator": president.pk,
                          "role": "president"})
    client.post(compose, {"action": "add_member", "evaluator": assessor.pk, "role": "member"})
    client.post(compose, {"action": "schedule", "registration": ready.pk,
                          "start_time": "10:20", "end_time": "11:00"})
    response = client.post(reverse("commissions:commission_detail", args=[commission.pk]),
                           {"action": "confirm"})

    commission.refresh_from_db()
    assert response.status_code == 302
    assert commission.status == CommissionStatus.CONFIRMED
    assert dict(commission.members.values_list("evaluator", "role")) == {
        president.pk: "president", assessor.pk: "member"}
    assert ScheduledCandidate.objects.get(commission=commission).start_time \
        == datetime.time(10, 20)


def test_a_refused_addition_is_explained_and_keeps_the_page(client, staff, composed,
                                                            evaluator_factory):
    client.force_login(staff)
    newcomer = evaluator_factory()

    response = client.post(reverse("commissions:compose", args=[composed.pk]),
                           {"action": "add_member", "evaluator": newcomer.pk,
                            "role": "president"})

    assert response.status_code == 200
    assert "La commission a déjà un président." in unescape(response.content.decode())
    assert not CommissionMember.objects.filter(evaluator=newcomer).exists()


def test_staff_removes_a_member_and_unschedules_a_candidate(client, staff, composed,
                                                            assessor):
    client.force_login(staff)
    compose = reverse("commissions:compose", args=[composed.pk])
    scheduled = composed.scheduled.get()

    client.post(compose, {"action": "remove_member",
                          "member": composed.members.get(evaluator=assessor).pk})
    client.post(compose, {"action": "unschedule", "scheduled": scheduled.pk})

    assert list(composed.members.values_list("evaluator", flat=True)) != [assessor.pk]
    assert not composed.members.filter(evaluator=assessor).exists()
    assert not composed.scheduled.exists()


def test_detail_shows_the_checklist_until_the_composition_is_complete(client, staff,
                                                                      commission):
    client.force_login(staff)

    html = page(client, "commission_detail", commission.pk)

    assert "Désignez le président de la commission." in html
    assert "Aucun candidat n'est convoqué." in html


def test_cancelling_needs_a_reason(client, staff, composed):
    client.force_login(staff)
    detail = reverse("commissions:commission_detail", args=[composed.pk])

    refused = client.post(detail, {"action": "cancel", "reason": ""})
    done = client.post(detail, {"action": "cancel", "reason": "Atelier indisponible"})

    composed.refresh_from_db()
    assert refused.status_code == 200
    assert "Indiquez le motif de l'annulation." in unescape(refused.content.decode())
    assert done.status_code == 302
    assert composed.status == CommissionStatus.CANCELLED
    assert composed.history.first().history_change_reason == "Atelier indisponible"


def test_staff_lists_render(client, staff, composed):
    client.force_login(staff)

    assert "Commission" in page(client, "commission_list")
    assert "Marc Durand" in page(client, "evaluator_list")
    assert "Candidatures" in page(client, "application_list")


# ---------------------------------------------------------------------------
# Evaluators
# ---------------------------------------------------------------------------
def test_member_reads_the_commission_without_staff_buttons(client, composed, president):
    client.force_login(president.user)

    html = page(client, "commission_detail", composed.pk)

    scheduled = composed.scheduled.get()
    assert reverse("grids:open", args=[scheduled.pk]) in html
    assert "Confirmer et convoquer" not in html
    assert "Composer la commission" not in html
    registration = composed.scheduled.get().registration
    assert reverse("commissions:dossier", args=[composed.pk, registration.pk]) in html


def test_member_reads_the_dossier(client, composed, president, upload):
    registration = composed.scheduled.get().registration
    document = upload(registration)
    client.force_login(president.user)

    html = page(client, "dossier", composed.pk, registration.pk)

    assert registration.candidate.full_name in html
    assert reverse("commissions:dossier_document", args=[composed.pk, document.pk]) in html
    assert "Situation professionnelle" in html or "situation professionnelle" in html.lower()


def test_my_commissions_and_dashboard_list_the_upcoming_commission(client, composed,
                                                                   president):
    client.force_login(president.user)

    assert composed.date.strftime("%Y") in page(client, "my_commissions")
    dashboard = client.get(reverse("dashboard")).content.decode()
    assert reverse("commissions:commission_detail", args=[composed.pk]) in dashboard


def test_charter_page_records_the_acceptance(client, evaluator_factory):
    newcomer = evaluator_factory(charter=False)
    client.force_login(newcomer.user)

    assert "Lire et accepter la charte" in client.get(reverse("dashboard")).content.decode()
    response = client.post(reverse("commissions:charter"), {})

    assert response.status_code == 302
    assert newcomer.charter_acceptances.count() == 1
    assert "Vous avez accepté la version" in page(client, "charter")


# ---------------------------------------------------------------------------
# Query budgets: fixed, whatever the number of members and candidates
# ---------------------------------------------------------------------------
def _grow(commission, staff, evaluator_factory, ready_factory, n):
    for _ in range(n):
        services.add_member(commission=commission, evaluator=evaluator_factory(), actor=staff)
        services.schedule_candidate(commission=commission, registration=ready_factory(),
                                    start_time=datetime.time(14, 0), actor=staff)


@pytest.mark.parametrize("name", ["commission_detail", "compose"])
def test_staff_pages_of_a_commission_do_not_grow_with_it(
    client, staff, composed, evaluator_factory, ready_factory, django_assert_max_num_queries,
    name,
):
    client.force_login(staff)
    with django_assert_max_num_queries(24) as small:
        page(client, name, composed.pk)
    _grow(composed, staff, evaluator_factory, ready_factory, 4)
    with django_assert_max_num_queries(len(small.captured_queries)):
        page(client, name, composed.pk)


def test_member_pages_do_not_grow_with_the_commissions(
    client, staff, composed, president, evaluator_factory, ready_factory, certification,
    django_assert_max_num_queries,
):
    client.force_login(president.user)
    with django_assert_max_num_queries(20) as small:
        page(client, "my_commissions")
        page(client, "commission_detail", composed.pk)
    _grow(composed, staff, evaluator_factory, ready_factory, 3)
    make_commission(centre=composed.centre, certifications=[certification], actor=staff,
                    members=[president], date=composed.date + datetime.timedelta(days=7))
    with django_assert_max_num_queries(len(small.captured_queries)):
        page(client, "my_commissions")
        page(client, "commission_detail", composed.pk)


def test_convocation_link_answers_then_closes_with_the_commission(
    client, staff, composed, president, django_capture_on_commit_callbacks
):
    from commissions.views import answer_path

    with django_capture_on_commit_callbacks(execute=True):
        services.confirm_commission(commission=composed, actor=staff)
    member = composed.members.get(evaluator=president)
    client.force_login(president.user)

    client.post(answer_path(member), {"answer": "declined"})
    client.post(answer_path(member), {"answer": "confirmed"})
    member.refresh_from_db()
    assert member.answer == "confirmed"

    Commission.objects.filter(pk=composed.pk).update(
        date=timezone.localdate() - datetime.timedelta(days=1))
    closed = client.get(answer_path(member))
    assert closed.status_code == 410
    assert "Cette convocation n'attend plus de réponse" in unescape(closed.content.decode())
