"""Who may open which commissions page (DESIGN.md §2, DOMAIN.md §4 confidentiality): staff of
the centre manage its commissions; an evaluator sees only the commissions they sit on and the
dossiers scheduled there; everyone else gets a 404 — never a hint that the page exists.
And each list and detail page stays within a fixed query budget."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from certifications.models import Role
from commissions import services
from commissions.models import CommissionStatus, EvaluatorApplication
from tests.factories import make_commission, make_evaluator, member

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(centre, certification, staff, president, assessor, evaluator_factory,
          ready_factory, upload):
    """Two commissions of one centre. ``ours``: president + assessor, two candidates (one
    with a rapport d'activités). ``theirs``: two other evaluators, another candidate."""
    scheduled = [ready_factory(), ready_factory()]
    elsewhere = ready_factory()
    not_scheduled = ready_factory()
    documents = {"ours": upload(scheduled[0]), "theirs": upload(elsewhere),
                 "not_scheduled": upload(not_scheduled)}
    outsider = evaluator_factory(user__first_name="Karim", user__last_name="Benali")
    ours = make_commission(centre=centre, certifications=[certification], actor=staff,
                           members=[president, assessor], registrations=scheduled)
    theirs = make_commission(centre=centre, certifications=[certification], actor=staff,
                             members=[outsider, evaluator_factory()],
                             registrations=[elsewhere],
                             date=timezone.localdate() + datetime.timedelta(days=21))
    application = EvaluatorApplication.objects.create(
        centre=centre, first_name="Inès", last_name="Morel", email="ines@example.org",
        employer_name="Usinage Morel", profession="Tourneuse", experience_years=8,
        expertise="Tournage CN")
    return {"ours": ours, "theirs": theirs, "scheduled": scheduled, "elsewhere": elsewhere,
            "not_scheduled": not_scheduled, "documents": documents, "outsider": outsider,
            "application": application}


def url(name, world, *args):
    return reverse(f"commissions:{name}", args=args)


def status(client, path) -> int:
    """The status of a GET; a downloaded file is closed like a server would."""
    response = client.get(path)
    if response.streaming:  # the test client closes the file once it is consumed
        b"".join(response.streaming_content)
    return response.status_code


# The pages of one commission, as a member of ``ours`` may open them.
COMMISSION_PAGES = {
    "commission_detail": lambda w: url("commission_detail", w, w["ours"].pk),
    "dossier": lambda w: url("dossier", w, w["ours"].pk, w["scheduled"][0].pk),
    "dossier_document": lambda w: url("dossier_document", w, w["ours"].pk,
                                      w["documents"]["ours"].pk),
}
# Staff pages: nobody but the centre's gestionnaires (the commission list sends an evaluator
# to « Mes commissions », see below).
STAFF_PAGES = {
    "commission_create": lambda w: url("commission_create", w),
    "compose": lambda w: url("compose", w, w["ours"].pk),
    "application_list": lambda w: url("application_list", w),
    "application_review": lambda w: url("application_review", w, w["application"].pk),
    "evaluator_list": lambda w: url("evaluator_list", w),
}
# Pages scoped to one centre: another centre's gestionnaire gets a 404.
CENTRE_PAGES = {**COMMISSION_PAGES, "compose": STAFF_PAGES["compose"],
                "application_review": STAFF_PAGES["application_review"]}
LOGIN_PAGES = {**COMMISSION_PAGES, **STAFF_PAGES,
               "commission_list": lambda w: url("commission_list", w),
               "my_commissions": lambda w: url("my_commissions", w),
               "charter": lambda w: url("charter", w)}


# ---------------------------------------------------------------------------
# Anonymous
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("page", list(LOGIN_PAGES))
def test_anonymous_visitor_is_sent_to_login(client, world, page):
    path = LOGIN_PAGES[page](world)

    response = client.get(path)

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={path}"


@pytest.mark.parametrize("page", ["apply", "apply_thanks"])
def test_application_pages_are_public(client, world, page):
    assert status(client, reverse(f"commissions:{page}")) == 200


# ---------------------------------------------------------------------------
# The centre's staff
# ---------------------------------------------------------------------------
STAFF_OPENS = {**COMMISSION_PAGES, **STAFF_PAGES,
               "commission_list": lambda w: url("commission_list", w)}


@pytest.mark.parametrize("page", list(STAFF_OPENS))
def test_staff_of_the_centre_open_every_page(client, world, staff, page):
    client.force_login(staff)

    assert status(client, STAFF_OPENS[page](world)) == 200


@pytest.mark.parametrize("page", list(CENTRE_PAGES))
def test_staff_of_another_centre_get_404(client, world, other_staff, page):
    client.force_login(other_staff)

    assert status(client, CENTRE_PAGES[page](world)) == 404


def test_staff_of_another_centre_see_none_of_the_commissions_in_their_list(client, world,
                                                                        other_staff):
    client.force_login(other_staff)

    response = client.get(reverse("commissions:commission_list"))

    assert response.status_code == 200
    assert list(response.context["page_obj"]) == []


def test_staff_of_another_centre_cannot_compose(client, world, other_staff, assessor):
    client.force_login(other_staff)
    ours = world["ours"]

    response = client.post(reverse("commissions:compose", args=[ours.pk]),
                           {"action": "add_member", "evaluator": world["outsider"].pk,
                            "role": "member"})

    assert response.status_code == 404
    assert ours.members.count() == 2


# ---------------------------------------------------------------------------
# Evaluators
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("page", list(COMMISSION_PAGES))
def test_member_reads_the_commission_and_its_dossiers(client, world, president, page):
    client.force_login(president.user)

    assert status(client, COMMISSION_PAGES[page](world)) == 200


def test_member_downloads_the_document_of_a_scheduled_candidate(client, world, president,
                                                                real_pdf):
    client.force_login(president.user)

    response = client.get(COMMISSION_PAGES["dossier_document"](world))

    content = b"".join(response.streaming_content)
    assert content == real_pdf
    assert "attachment" in response["Content-Disposition"]


@pytest.mark.parametrize("page", list(COMMISSION_PAGES))
def test_evaluator_of_another_commission_gets_404(client, world, page):
    client.force_login(world["outsider"].user)

    assert status(client, COMMISSION_PAGES[page](world)) == 404


def test_member_cannot_read_a_dossier_not_scheduled_in_the_commission(client, world,
                                                                      president):
    client.force_login(president.user)
    ours = world["ours"]

    for registration in (world["elsewhere"], world["not_scheduled"]):
        path = reverse("commissions:dossier", args=[ours.pk, registration.pk])
        assert status(client, path) == 404
    for key in ("theirs", "not_scheduled"):
        path = reverse("commissions:dossier_document", args=[ours.pk, world["documents"][key].pk])
        assert status(client, path) == 404


def test_member_of_a_cancelled_commission_reads_nothing_more(client, world, president, staff):
    services.cancel_commission(commission=world["ours"], actor=staff)
    client.force_login(president.user)

    assert status(client, COMMISSION_PAGES["dossier"](world)) == 404
    assert status(client, COMMISSION_PAGES["dossier_document"](world)) == 404


@pytest.mark.parametrize("page", list(STAFF_PAGES))
def test_evaluator_cannot_reach_staff_pages(client, world, president, page):
    client.force_login(president.user)

    assert status(client, STAFF_PAGES[page](world)) == 404


def test_commission_list_sends_an_evaluator_to_their_own_commissions(client, world,
                                                                     president):
    client.force_login(president.user)

    response = client.get(reverse("commissions:commission_list"))

    assert response.status_code == 302
    assert response["Location"] == reverse("commissions:my_commissions")


def test_commission_list_is_not_found_for_a_jury_member(client, world, centre):
    client.force_login(member(Role.JURY, centre=centre))

    assert status(client, reverse("commissions:commission_list")) == 404


def test_member_cannot_confirm_the_commission(client, world, president):
    client.force_login(president.user)
    ours = world["ours"]

    response = client.post(reverse("commissions:commission_detail", args=[ours.pk]),
                           {"action": "confirm"})

    assert response.status_code == 404
    ours.refresh_from_db()
    assert ours.status == CommissionStatus.DRAFT


def test_evaluator_of_another_centre_gets_404(client, world, certification):
    stranger = make_evaluator(certifications=[certification])
    client.force_login(stranger.user)

    for page in COMMISSION_PAGES.values():
        assert status(client, page(world)) == 404


def test_my_commissions_lists_only_the_commissions_one_sits_on(client, world, president):
    client.force_login(president.user)

    response = client.get(reverse("commissions:my_commissions"))

    assert response.status_code == 200
    assert list(response.context["upcoming"]) == [world["ours"]]
    assert list(response.context["past"]) == []


def test_my_commissions_separates_upcoming_and_past(client, world, president, centre,
                                                   certification):
    past = make_commission(centre=centre, certifications=[certification], members=[president],
                           date=timezone.localdate() - datetime.timedelta(days=30))
    client.force_login(president.user)

    response = client.get(reverse("commissions:my_commissions"))

    assert list(response.context["upcoming"]) == [world["ours"]]
    assert list(response.context["past"]) == [past]


# ---------------------------------------------------------------------------
# Jury members and other roles
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("page", list({**COMMISSION_PAGES, **STAFF_PAGES}))
def test_jury_member_of_the_centre_gets_404(client, world, centre, page):
    client.force_login(member(Role.JURY, centre=centre))

    assert status(client, {**COMMISSION_PAGES, **STAFF_PAGES}[page](world)) == 404


@pytest.mark.parametrize("page", ["my_commissions", "charter"])
def test_user_without_evaluator_profile_has_no_evaluator_pages(client, world, centre, page):
    client.force_login(member(Role.JURY, centre=centre))

    assert status(client, reverse(f"commissions:{page}")) == 404


# ---------------------------------------------------------------------------
# Query budgets: the cost of a page does not grow with its rows
# ---------------------------------------------------------------------------
DETAIL_BUDGET = 20  # measured: 18 for staff, 11 for a member
MINE_BUDGET = 12  # measured: 9
LIST_BUDGET = 14  # measured: 12
COMPOSE_BUDGET = 22  # measured: 20


@pytest.fixture
def crowded(centre, certification, staff, president, assessor, ready_factory, upload):
    def create(n):
        registrations = [ready_factory() for _ in range(n)]
        for registration in registrations:
            upload(registration)
        return make_commission(centre=centre, certifications=[certification], actor=staff,
                               members=[president, assessor], registrations=registrations)

    return create


@pytest.mark.parametrize("n", [2, 20])
@pytest.mark.parametrize("who", ["staff", "member"])
def test_commission_page_cost_does_not_grow_with_its_candidates(
    client, crowded, staff, president, n, who, django_assert_max_num_queries
):
    commission = crowded(n)
    client.force_login(staff if who == "staff" else president.user)

    with django_assert_max_num_queries(DETAIL_BUDGET):
        response = client.get(reverse("commissions:commission_detail", args=[commission.pk]))

    assert response.status_code == 200
    assert len(response.context["scheduled_rows"]) == n


@pytest.mark.parametrize("n", [1, 15])
def test_my_commissions_cost_does_not_grow_with_the_commissions(
    client, centre, certification, president, assessor, ready_factory, n,
    django_assert_max_num_queries
):
    today = timezone.localdate()
    for index in range(n):
        make_commission(centre=centre, certifications=[certification],
                        members=[president, assessor], registrations=[ready_factory()],
                        date=today + datetime.timedelta(days=index * (1 if index % 2 else -1)))
    client.force_login(president.user)

    with django_assert_max_num_queries(MINE_BUDGET):
        response = client.get(reverse("commissions:my_commissions"))

    assert response.status_code == 200
    assert len(response.context["upcoming"]) + len(response.context["past"]) == n


@pytest.mark.parametrize("n", [1, 15])
def test_commission_list_cost_does_not_grow_with_the_commissions(
    client, centre, certification, staff, president, assessor, n,
    django_assert_max_num_queries
):
    for index in range(n):
        make_commission(centre=centre, certifications=[certification],
                        members=[president, assessor],
                        date=timezone.localdate() + datetime.timedelta(days=index))
    client.force_login(staff)

    with django_assert_max_num_queries(LIST_BUDGET):
        response = client.get(reverse("commissions:commission_list"))

    assert response.status_code == 200
    assert len(response.context["page_obj"]) == n


@pytest.mark.parametrize("n", [2, 12])
def test_compose_page_cost_does_not_grow_with_candidates_and_suggestions(
    client, crowded, staff, evaluator_factory, ready_factory, n, django_assert_max_num_queries
):
    commission = crowded(n)
    for _ in range(n):
        ready_factory()  # suggested for scheduling
        evaluator_factory()  # suggested as member
    client.force_login(staff)

    with django_assert_max_num_queries(COMPOSE_BUDGET):
        response = client.get(reverse("commissions:compose", args=[commission.pk]))

    assert response.status_code == 200
    assert len(response.context["suggestions"]) == n
    assert len(response.context["candidates"]) == n
