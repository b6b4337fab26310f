"""Query budgets of the commissions pages (STYLE.md §9, issue 7): the commission page as staff
and as a member, « Mes commissions », the staff lists and the admin of commissions and
evaluators run the same number of queries whatever the number of members, candidates or
commissions."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from certifications.demo import staff_group
from commissions import services
from tests.budgets import assert_flat, page_queries
from tests.factories import make_commission

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_staff(staff):
    staff.groups.add(staff_group())
    return staff


@pytest.fixture
def grow_commission(staff, evaluator_factory, ready_factory, upload):
    """``grow(commission, n)``: ``n`` more members and ``n`` more candidates (each with its
    planned modalities and a document), scheduled after the others."""

    def grow(commission, n):
        for index in range(n):
            services.add_member(commission=commission, evaluator=evaluator_factory(),
                                actor=staff)
            registration = ready_factory()
            upload(registration)
            services.schedule_candidate(commission=commission, registration=registration,
                                        start_time=datetime.time(13, index), actor=staff)

    return grow


@pytest.fixture
def sitting(centre, certification, staff, president, assessor, ready_factory):
    """A commission in two weeks: ``president`` presides, ``assessor`` sits, one candidate."""
    return make_commission(centre=centre, certifications=[certification], actor=staff,
                           members=[president, assessor], registrations=[ready_factory()])


@pytest.mark.parametrize("who", ["staff", "member"])
def test_commission_page_queries_do_not_grow_with_members_and_candidates(
        client, staff, president, sitting, grow_commission, who):
    client.force_login(staff if who == "staff" else president.user)
    url = reverse("commissions:commission_detail", args=[sitting.pk])
    small = page_queries(client, url, warm=True)
    grow_commission(sitting, 5)
    assert_flat(small, page_queries(client, url))


def test_my_commissions_queries_do_not_grow_with_commissions(
        client, centre, certification, staff, president, assessor, sitting, ready_factory):
    client.force_login(president.user)
    url = reverse("commissions:my_commissions")
    small = page_queries(client, url, warm=True)
    today = timezone.localdate()
    for days in (-20, -10, 3, 21, 30, 60):  # past and upcoming, each with a candidate
        make_commission(centre=centre, certifications=[certification], actor=staff,
                        members=[president, assessor], registrations=[ready_factory()],
                        date=today + datetime.timedelta(days=days))
    assert_flat(small, page_queries(client, url))


@pytest.mark.parametrize("name", ["commission_list", "evaluator_list"])
def test_staff_lists_queries_do_not_grow_with_commissions_and_evaluators(
        client, centre, certification, staff, sitting, evaluator_factory, name):
    client.force_login(staff)
    url = reverse(f"commissions:{name}")
    small = page_queries(client, url, warm=True)
    today = timezone.localdate()
    for days in (-30, 5, 25, 45):
        make_commission(centre=centre, certifications=[certification], actor=staff,
                        members=[evaluator_factory(), evaluator_factory()],
                        date=today + datetime.timedelta(days=days))
    assert_flat(small, page_queries(client, url))


@pytest.mark.parametrize("model", ["commission", "evaluator"])
def test_admin_changelists_queries_do_not_grow_with_rows(
        client, centre, certification, admin_staff, sitting, evaluator_factory,
        ready_factory, model):
    client.force_login(admin_staff)
    url = reverse(f"admin:commissions_{model}_changelist")
    small = page_queries(client, url, warm=True)
    today = timezone.localdate()
    for days in (-30, 5, 25, 45):
        make_commission(centre=centre, certifications=[certification], actor=admin_staff,
                        members=[evaluator_factory(), evaluator_factory()],
                        registrations=[ready_factory()],
                        date=today + datetime.timedelta(days=days))
    assert_flat(small, page_queries(client, url))

