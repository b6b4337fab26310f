"""Who sees and fills a grid (DOMAIN.md §4 confidentiality, evaluations.rules): the members
of the candidate's commission fill and sign it; the centre's staff read it (and reopen it);
anyone else — an evaluator of another commission, a jury member, staff of another centre —
gets a 404 on every grid URL; anonymous visitors are sent to the login page, and a tutor's
or candidate's personal link never leads to a grid. The page's queries do not grow with the
referential."""

from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.shortcuts import resolve_url
from django.urls import reverse

from candidates import services as candidate_services
from candidates.models import LinkPurpose
from candidates.tasks import link_url
from certifications.models import Role
from evaluations import services
from evaluations.models import CompetenceResult, CriterionResult, Grid, GridEvent, GridState
from tests.evaluations.conftest import PASSWORD, competence_row, criterion_row, fill_grid
from tests.factories import (
    build_version,
    make_commission,
    make_evaluator,
    make_ready,
    make_registration,
    member,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def incident(grid, president):
    return services.report_incident(grid=grid, kind="equipement", actor=president.user,
                                    description="Banc hydraulique en panne.")


def grid_urls(grid, incident) -> list[tuple[str, str]]:
    """Every grid URL, with the method a browser would use."""
    pk = grid.pk
    return [
        ("get", reverse("grids:open", args=[grid.scheduled_id])),
        ("get", reverse("grids:detail", args=[pk])),
        ("post", reverse("grids:save_field", args=[pk])),
        ("post", reverse("grids:submit", args=[pk])),
        ("get", reverse("grids:sign", args=[pk])),
        ("post", reverse("grids:sign", args=[pk])),
        ("get", reverse("grids:reopen", args=[pk])),
        ("post", reverse("grids:attendance", args=[pk])),
        ("post", reverse("grids:incident_report", args=[pk])),
        ("post", reverse("grids:incident_resolve", args=[pk, incident.pk])),
        ("get", reverse("grids:history", args=[pk])),
        ("get", reverse("grids:pdf", args=[pk])),
    ]


def post_data(grid) -> dict:
    row = competence_row(grid, "C1")
    return {"row_kind": "competence", "row_id": row.pk, "field": "comment",
            "value": "Intrusion.", "revision": row.revision, "attendance": "absent",
            "kind": "fraude", "description": "Intrusion.", "resolution": "Intrusion.",
            "reason": "Intrusion.", "password": PASSWORD, "consent": "on"}


def snapshot_of(grid) -> list:
    return [
        list(CompetenceResult.objects.filter(grid=grid).order_by("pk").values()),
        list(CriterionResult.objects.filter(competence_result__grid=grid)
             .order_by("pk").values()),
        Grid.objects.filter(pk=grid.pk).values().get(),
        list(grid.incidents.values()),
        GridEvent.objects.filter(grid=grid).count(),
    ]


def assert_all_404(client, grid, incident):
    before = snapshot_of(grid)
    for method, url in grid_urls(grid, incident):
        response = getattr(client, method)(url, post_data(grid) if method == "post" else None)
        assert response.status_code == 404, (method, url, response.status_code)
    assert snapshot_of(grid) == before


# ---------------------------------------------------------------------------
# Outsiders: 404 everywhere
# ---------------------------------------------------------------------------
def test_evaluator_of_another_commission_gets_404_everywhere(client, grid, incident, centre,
                                                             certification, staff):
    outsider = make_evaluator(centre=centre, certifications=[certification],
                              user__username="paul.autre")
    partner = make_evaluator(centre=centre, certifications=[certification])
    make_commission(centre=centre, certifications=[certification], actor=staff,
                    members=[outsider, partner])
    client.force_login(outsider.user)
    assert_all_404(client, grid, incident)


def test_jury_member_gets_404_everywhere(client, grid, incident, centre):
    client.force_login(member(Role.JURY, centre=centre))
    assert_all_404(client, grid, incident)


def test_staff_of_another_centre_gets_404_everywhere(client, grid, incident):
    client.force_login(member(Role.STAFF))
    assert_all_404(client, grid, incident)


def test_national_reader_gets_404_everywhere(client, grid, incident):
    client.force_login(member(Role.NATIONAL))
    assert_all_404(client, grid, incident)


def test_anonymous_visitor_is_sent_to_login(client, grid, incident):
    before = snapshot_of(grid)
    for method, url in grid_urls(grid, incident):
        response = getattr(client, method)(url, post_data(grid) if method == "post" else None)
        if url == reverse("grids:save_field", args=[grid.pk]):
            # htmx autosave: a JSON answer the page shows (« session expirée »), not a redirect.
            assert response.status_code == 401
            assert response.json()["error"] == "session"
            continue
        assert response.status_code == 302, (method, url)
        assert urlsplit(response["Location"]).path == resolve_url(settings.LOGIN_URL)
    assert snapshot_of(grid) == before


def test_a_personal_link_never_gives_access_to_the_grid(client, grid, registration, staff):
    for purpose in (LinkPurpose.COMPANY_OPINION, LinkPurpose.CANDIDATE_UPLOAD):
        link = candidate_services.issue_link(registration=registration, purpose=purpose,
                                             actor=staff)
        page = client.get(urlsplit(link_url(link)).path)
        assert page.status_code == 200
        assert "/grilles/" not in page.content.decode()
        response = client.get(reverse("grids:detail", args=[grid.pk]))
        assert response.status_code == 302
        assert urlsplit(response["Location"]).path == resolve_url(settings.LOGIN_URL)


def test_the_tutors_own_account_gets_404(client, grid, registration):
    """Even a tutor who happens to have an account sees nothing of the grid."""
    tutor_user = member(Role.EVALUATOR, centre=registration.centre,
                        email=registration.tutor.email)
    client.force_login(tutor_user)
    assert client.get(reverse("grids:detail", args=[grid.pk])).status_code == 404


# ---------------------------------------------------------------------------
# Members fill; staff read
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("who", ["president", "assessor"])
def test_a_member_opens_and_fills_the_grid(client, grid, who, request):
    user = request.getfixturevalue(who).user
    client.force_login(user)
    opened = client.get(reverse("grids:open", args=[grid.scheduled_id]))
    assert opened.status_code == 302 and opened["Location"] == reverse("grids:detail",
                                                                      args=[grid.pk])
    page = client.get(opened["Location"])
    assert page.status_code == 200
    assert page.context["editable"] is True
    row = criterion_row(grid, "C1.1")
    response = client.post(reverse("grids:save_field", args=[grid.pk]), {
        "row_kind": "criterion", "row_id": row.pk, "field": "satisfied", "value": "oui",
        "revision": row.revision})
    assert response.status_code == 200
    assert response["X-Grid-Revision"] == "2"
    row.refresh_from_db()
    assert row.satisfied is True and row.updated_by == user


def test_the_first_member_to_open_creates_the_grid(client, scheduled, president):
    client.force_login(president.user)
    assert not Grid.objects.filter(scheduled=scheduled).exists()
    response = client.get(reverse("grids:open", args=[scheduled.pk]))
    grid = Grid.objects.get(scheduled=scheduled)
    assert response["Location"] == reverse("grids:detail", args=[grid.pk])
    assert grid.competence_results.count() == 4


def test_staff_read_the_grid_but_cannot_fill_or_sign_it(client, grid, incident, staff,
                                                        president):
    fill_grid(grid, president.user)
    client.force_login(staff)
    page = client.get(reverse("grids:detail", args=[grid.pk]))
    assert page.status_code == 200
    assert page.context["editable"] is False and page.context["can_sign"] is False
    body = page.content.decode()
    assert 'data-testid="grid-readonly"' in body
    assert "hx-post" not in body
    assert client.get(reverse("grids:history", args=[grid.pk])).status_code == 200
    before = snapshot_of(grid)
    row = competence_row(grid, "C1")
    autosave = client.post(reverse("grids:save_field", args=[grid.pk]), {
        "row_kind": "competence", "row_id": row.pk, "field": "comment", "value": "Staff.",
        "revision": row.revision})
    assert autosave.status_code in (403, 404)
    for name in ("submit", "sign", "attendance", "incident_report"):
        response = client.post(reverse(f"grids:{name}", args=[grid.pk]), post_data(grid))
        assert response.status_code in (403, 404), name
    assert client.get(reverse("grids:sign", args=[grid.pk])).status_code in (403, 404)
    assert snapshot_of(grid) == before
    assert Grid.objects.get(pk=grid.pk).state == GridState.DRAFT


def test_members_do_not_resolve_incidents_staff_do(client, grid, incident, president, staff):
    url = reverse("grids:incident_resolve", args=[grid.pk, incident.pk])
    client.force_login(president.user)
    assert client.post(url, {"resolution": "Réparé."}).status_code == 403
    incident.refresh_from_db()
    assert not incident.is_resolved
    client.force_login(staff)
    assert client.post(url, {"resolution": "Banc remplacé, épreuve reprise."}).status_code == 302
    incident.refresh_from_db()
    assert incident.resolved_by == staff


# ---------------------------------------------------------------------------
# Query budget
# ---------------------------------------------------------------------------
GRID_PAGE_MAX_QUERIES = 20


def grid_of_size(*, centre, staff, president, assessor, blocs, competences, criteria) -> Grid:
    version = build_version(blocs=blocs, competences=competences, criteria=criteria)
    from commissions.models import Habilitation

    for evaluator in (president, assessor):
        Habilitation.objects.get(evaluator=evaluator).certifications.add(version.certification)
    registration = make_ready(make_registration(centre=centre, version=version, actor=staff),
                              actor=staff)
    commission = make_commission(centre=centre, certifications=[version.certification],
                                 actor=staff, members=[president, assessor],
                                 registrations=[registration])
    grid = services.ensure_grid(scheduled=commission.scheduled.get(), actor=staff)
    fill_grid(grid, president.user, non_mastered={"C1"})
    return grid


@pytest.mark.parametrize("who", ["president", "staff"])
def test_grid_page_queries_do_not_grow_with_the_referential(
        client, centre, staff, president, assessor, who, request,
        django_assert_max_num_queries):
    small = grid_of_size(centre=centre, staff=staff, president=president, assessor=assessor,
                         blocs=1, competences=2, criteria=3)
    large = grid_of_size(centre=centre, staff=staff, president=president, assessor=assessor,
                         blocs=3, competences=4, criteria=5)
    assert CriterionResult.objects.filter(competence_result__grid=small).count() == 6
    assert CriterionResult.objects.filter(competence_result__grid=large).count() == 60
    client.force_login(request.getfixturevalue(who) if who == "staff" else president.user)
    for grid in (small, large):
        with django_assert_max_num_queries(GRID_PAGE_MAX_QUERIES):
            response = client.get(reverse("grids:detail", args=[grid.pk]))
        assert response.status_code == 200
    body = response.content.decode()
    assert all(f"Critère observable {n}.{k}" in body for n in range(1, 13) for k in range(1, 6))


def test_grid_page_query_count_is_the_same_for_both_sizes(client, centre, staff, president,
                                                          assessor):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts = []
    client.force_login(president.user)
    for size in ({"blocs": 1, "competences": 2, "criteria": 3},
                 {"blocs": 3, "competences": 4, "criteria": 5}):
        grid = grid_of_size(centre=centre, staff=staff, president=president,
                            assessor=assessor, **size)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("grids:detail", args=[grid.pk])).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1], counts


def test_staff_read_the_audit_trail_with_who_and_before_after(client, grid, staff, president):
    from tests.evaluations.conftest import save

    save(grid, competence_row(grid, "C2"), "comment", "Premier jet.", president.user)
    save(grid, competence_row(grid, "C2"), "comment", "Version revue.", president.user)
    client.force_login(staff)
    response = client.get(reverse("grids:history", args=[grid.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Marc Durand" in body
    assert "C2.comment" in body
    assert "Premier jet. → <strong>Version revue.</strong>" in body


def test_the_seat_read_with_the_grid_answers_the_rule_for_that_user_only(
        grid, president, staff, django_assert_num_queries):
    """The grid reads of the page and of the autosave note whether the user sits on the
    commission; the fill rule then asks nothing more, and only for that user."""
    from evaluations import selectors

    outsider = make_evaluator(centre=grid.scheduled.commission.centre).user
    for read in (selectors.grid_for_page, selectors.grid_for_saving):
        mine = read(president.user, grid.pk)
        with django_assert_num_queries(0):
            assert president.user.has_perm("evaluations.fill_grid", mine)
        seen_by_staff = read(staff, grid.pk)
        with django_assert_num_queries(0):
            assert not staff.has_perm("evaluations.fill_grid", seen_by_staff)
        # Another user asked about a grid read for the president: asked to the database.
        with django_assert_num_queries(1):
            assert not outsider.has_perm("evaluations.fill_grid", mine)
        with django_assert_num_queries(1):
            assert staff.has_perm("evaluations.fill_grid", mine) is False
    with pytest.raises(Grid.DoesNotExist):
        selectors.grid_for_saving(outsider, grid.pk)


def test_the_autosave_read_lets_through_exactly_whom_the_grid_list_shows(
        grid, president, assessor, staff, centre, certification, django_user_model):
    """The autosave's read keeps a grid by the access rule (``see_grid``), the other reads
    by a ``WHERE`` (``grids_visible_to``): for every kind of user, they agree."""
    from django.contrib.auth.models import AnonymousUser

    from evaluations import selectors

    other_commission = make_evaluator(centre=centre, certifications=[certification])
    make_commission(centre=centre, certifications=[certification], actor=staff,
                    members=[other_commission, make_evaluator(centre=centre,
                                                               certifications=[certification])])
    users = {
        "président": president.user, "assesseur": assessor.user, "gestionnaire": staff,
        "gestionnaire d'un autre centre": member(Role.STAFF),
        "membre de jury": member(Role.JURY, centre=centre),
        "lecture nationale": member(Role.NATIONAL),
        "évaluateur d'une autre commission": other_commission.user,
        "superutilisateur": django_user_model.objects.create_superuser("racine", "", "x"),
        "anonyme": AnonymousUser(),
    }
    seen = {}
    for label, user in users.items():
        listed = selectors.grids_visible_to(user).filter(pk=grid.pk).exists()
        try:
            selectors.grid_for_saving(user, grid.pk)
            read = True
        except Grid.DoesNotExist:
            read = False
        assert read == listed, label
        seen[label] = read
    assert {label for label, read in seen.items() if read} == {
        "président", "assesseur", "gestionnaire"}


def test_autosave_reads_the_grid_without_the_dossier(client, grid, president,
                                                    django_assert_max_num_queries):
    """The autosave reads the grid and its commission, not the dossier the page shows."""
    row = CriterionResult.objects.filter(competence_result__grid=grid).first()
    client.force_login(president.user)
    with django_assert_max_num_queries(11):  # 12 when the page's read served it
        response = client.post(reverse("grids:save_field", args=[grid.pk]), {
            "row_kind": "criterion", "row_id": row.pk, "field": "notes",
            "value": "Relevé fait.", "revision": row.revision}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert CriterionResult.objects.get(pk=row.pk).notes == "Relevé fait."


def test_a_satisfied_autosave_answers_without_reading_the_referential_texts(client, grid,
                                                                           president):
    """The answer to a save that changes the completeness (progress, « Ce qui manque ») is
    read through services.completeness_content: neither the competences' conditions and
    expected results nor the criteria's wording (the grid page's full read does)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    row = CriterionResult.objects.filter(competence_result__grid=grid).first()
    client.force_login(president.user)
    with CaptureQueriesContext(connection) as queries:
        response = client.post(reverse("grids:save_field", args=[grid.pk]), {
            "row_kind": "criterion", "row_id": row.pk, "field": "satisfied",
            "value": "oui", "revision": row.revision}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert CriterionResult.objects.get(pk=row.pk).satisfied is True
    # The grid-wide reads behind the answer: its competence results, then their criteria
    # (the saved row itself is read apart, by its id, with what it shows).
    read = " ".join(q["sql"] for q in queries.captured_queries
                    if 'FROM "evaluations_competenceresult"' in q["sql"]
                    or '"evaluations_criterionresult"."competence_result_id" IN (' in q["sql"])
    assert '"evaluations_competenceresult"."grid_id"' in read
    assert '"expected_results"' not in read
    assert '"certifications_criterion"."text"' not in read
