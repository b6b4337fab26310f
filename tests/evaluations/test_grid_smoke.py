"""Smoke tests of the grid page and its autosave endpoint (evaluations.views_grid): the
happy path, the stale revision, the lock, who may do what, and the page's query budget."""

from html import unescape

import pytest
from django.urls import reverse

from certifications.models import Role
from evaluations.models import CriterionResult, Grid
from tests.evaluations.conftest import competence_row, criterion_row, level_id
from tests.factories import build_version, make_evaluator, member


@pytest.fixture
def version(request, db):
    """The conftest's referential by default; a test may ask for another shape."""
    return build_version(**getattr(request, "param", {}))


def autosave(client, grid, row, field, value, revision=None):
    kind = "criterion" if isinstance(row, CriterionResult) else "competence"
    return client.post(reverse("grids:save_field", args=[grid.pk]), {
        "row_kind": kind, "row_id": row.pk, "field": field, "value": value,
        "revision": row.revision if revision is None else revision,
    }, HTTP_HX_REQUEST="true")


def test_open_creates_the_grid_and_redirects_to_it(client, scheduled, president):
    client.force_login(president.user)
    response = client.get(reverse("grids:open", args=[scheduled.pk]))
    grid = Grid.objects.get(scheduled=scheduled)
    assert response.status_code == 302
    assert response["Location"] == reverse("grids:detail", args=[grid.pk])


def test_grid_page_shows_the_candidate_the_tools_and_what_is_missing(client, grid, president):
    client.force_login(president.user)
    html = unescape(client.get(reverse("grids:detail", args=[grid.pk])).content.decode())
    registration = grid.scheduled.registration
    assert registration.candidate.full_name in html
    assert "0/4</strong> compétences évaluées" in html
    assert "0/12</strong> critères renseignés" in html
    assert reverse("commissions:dossier", args=[grid.scheduled.commission_id,
                                                registration.pk]) in html
    row = competence_row(grid, "C1")
    assert f'href="#competence-{row.pk}"' in html
    assert f'data-revision="{row.revision}"' in html
    assert reverse("grids:save_field", args=[grid.pk]) in html


def test_autosave_saves_one_field_and_returns_the_new_revision(client, grid, president):
    client.force_login(president.user)
    row = criterion_row(grid, "C1.1")
    response = autosave(client, grid, row, "satisfied", "oui")
    assert response.status_code == 200
    assert response["X-Grid-Revision"] == str(row.revision + 1)
    assert response["X-Grid-Saved-At"]
    body = response.content.decode()
    assert 'id="grid-progress" class="grid-progress" hx-swap-oob="true"' in body
    assert "1/12</strong> critères renseignés" in body
    row.refresh_from_db()
    assert row.satisfied is True


def test_notes_are_saved_without_rereading_the_grid(client, grid, president,
                                                    django_assert_max_num_queries):
    client.force_login(president.user)
    row = criterion_row(grid, "C1.1")
    with django_assert_max_num_queries(15):
        response = autosave(client, grid, row, "notes", "Réglage vérifié au comparateur.")
    assert response.status_code == 200
    assert response.content == b""


def test_stale_revision_is_refused_with_what_the_other_member_saved(client, grid, president,
                                                                   assessor):
    row = competence_row(grid, "C1")
    read_revision = row.revision
    client.force_login(assessor.user)
    assert autosave(client, grid, row, "comment", "Vu par Sophie.").status_code == 200
    client.force_login(president.user)
    response = autosave(client, grid, row, "comment", "Vu par Marc.", revision=read_revision)
    assert response.status_code == 409
    data = response.json()
    assert data["error"] == "stale"
    assert data["current_value"] == "Vu par Sophie."
    assert data["revision"] == read_revision + 1
    assert "Sophie Martin" in data["message"]
    row.refresh_from_db()
    assert row.comment == "Vu par Sophie."
    # A deliberate re-save with the revision the 409 gave succeeds.
    again = autosave(client, grid, row, "comment", "Vu par Marc.", revision=data["revision"])
    assert again.status_code == 200


def test_not_mastered_level_shows_the_comment_requirement(client, grid, president):
    client.force_login(president.user)
    row = competence_row(grid, "C2")
    response = autosave(client, grid, row, "level", level_id(grid, "NM"))
    assert response.status_code == 200
    body = unescape(response.content.decode())
    assert f'id="competence-{row.pk}-status"' in body
    assert "un commentaire est obligatoire" in body


def test_invalid_value_is_a_400_with_the_reason(client, grid, president):
    client.force_login(president.user)
    response = autosave(client, grid, competence_row(grid, "C1"), "modality_used", "inconnue")
    assert response.status_code == 400
    assert "n'autorise pas cette modalité" in response.json()["message"]


def test_autosave_on_a_signed_grid_is_locked(client, signed, president):
    client.force_login(president.user)
    row = competence_row(signed, "C1")
    response = autosave(client, signed, row, "comment", "Après signature.")
    assert response.status_code == 423
    assert response.json()["error"] == "locked"
    html = client.get(reverse("grids:detail", args=[signed.pk])).content.decode()
    assert 'data-field="comment"' not in html
    assert "Empreinte SHA-256" in html


def test_staff_read_but_do_not_fill_and_outsiders_get_404(client, grid, staff, centre,
                                                          certification):
    row = criterion_row(grid, "C1.1")
    client.force_login(staff)
    page = client.get(reverse("grids:detail", args=[grid.pk]))
    assert page.status_code == 200
    assert 'data-field="satisfied"' not in page.content.decode()
    assert autosave(client, grid, row, "satisfied", "oui").status_code == 403
    outsider = make_evaluator(centre=centre, certifications=[certification])
    for user in (outsider.user, member(Role.STAFF), member(Role.JURY, centre=centre)):
        client.force_login(user)
        assert client.get(reverse("grids:detail", args=[grid.pk])).status_code == 404
        assert autosave(client, grid, row, "satisfied", "oui").status_code == 404
        assert client.get(reverse("grids:history", args=[grid.pk])).status_code == 404


def test_unauthenticated_autosave_is_401_not_a_login_page(client, grid):
    response = autosave(client, grid, criterion_row(grid, "C1.1"), "satisfied", "oui")
    assert response.status_code == 401


def test_signature_page_refuses_a_wrong_password_then_signs(client, to_sign, president):
    client.force_login(president.user)
    url = reverse("grids:sign", args=[to_sign.pk])
    page = unescape(client.get(url).content.decode())
    assert "aucun conflit d'intérêts" in page
    refused = client.post(url, {"consent": "on", "password": "faux"})
    assert refused.status_code == 200
    assert "Mot de passe incorrect" in unescape(refused.content.decode())
    signed = client.post(url, {"consent": "on", "password": "motdepasse-solide-42"})
    assert signed.status_code == 302
    assert to_sign.signatures.filter(voided_at__isnull=True).count() == 1


@pytest.mark.parametrize("version", [
    {"blocs": 1, "competences": 2, "criteria": 3},
    {"blocs": 4, "competences": 3, "criteria": 5},
], indirect=True, ids=["6-criteres", "60-criteres"])
def test_grid_page_has_a_fixed_query_budget(client, grid, president, version,
                                            django_assert_max_num_queries):
    client.force_login(president.user)
    with django_assert_max_num_queries(20):
        response = client.get(reverse("grids:detail", args=[grid.pk]))
    assert response.status_code == 200


def test_attendance_and_incidents_from_the_page(client, grid, president, staff):
    client.force_login(president.user)
    base = reverse("grids:detail", args=[grid.pk])
    assert client.post(reverse("grids:attendance", args=[grid.pk]),
                       {"attendance": "present"})["Location"] == f"{base}#attendance"
    client.post(reverse("grids:incident_report", args=[grid.pk]),
                {"kind": "equipement", "description": "Panne du banc de mesure à 10 h."})
    incident = grid.incidents.get()
    resolve = reverse("grids:incident_resolve", args=[grid.pk, incident.pk])
    assert client.post(resolve, {"resolution": "Banc remplacé."}).status_code == 403
    client.force_login(staff)
    assert client.post(reverse("grids:attendance", args=[grid.pk]),
                       {"attendance": "absent"}).status_code == 403
    client.post(resolve, {"resolution": "Banc remplacé, épreuve reprise à 10 h 20."})
    incident.refresh_from_db()
    assert incident.is_resolved
    grid.scheduled.refresh_from_db()
    assert grid.scheduled.attendance == "present"
    html = unescape(client.get(reverse("grids:history", args=[grid.pk])).content.decode())
    assert "Incident résolu" in html
    assert "présence" in html
