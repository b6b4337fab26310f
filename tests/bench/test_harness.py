"""The benchmark harness works (``make bench``): targets chosen by query, a page measured with
its query count and its floor, autosave requests that each save, the lost-update check, the
report. Structure only — never a duration (benchmarks are not timed tests)."""

import json

import pytest
from django.test import override_settings

from certifications.models import Role
from evaluations.models import CriterionResult
from tests.bench import load, report, targets
from tests.bench.pages import key_pages, run_page
from tests.factories import (
    CentreFactory,
    build_version,
    make_commission,
    make_evaluator,
    make_ready,
    make_registration,
    member,
)

BENCH = override_settings(ROOT_URLCONF="tests.bench.urls",
                          ALLOWED_HOSTS=["127.0.0.1", "testserver"])


@pytest.fixture
def world(db):
    """A centre with its gestionnaire and a confirmed commission (two evaluators) where one
    registration prête pour l'évaluation is scheduled; no grid opened yet."""
    centre = CentreFactory()
    staff = member(Role.STAFF, centre=centre)
    version = build_version()
    certification = version.certification
    president = make_evaluator(centre=centre, certifications=[certification])
    assessor = make_evaluator(centre=centre, certifications=[certification])
    registration = make_ready(make_registration(centre=centre, version=version, actor=staff),
                              actor=staff)
    make_commission(centre=centre, certifications=[certification], actor=staff,
                    members=[president, assessor], registrations=[registration], confirm=True)
    return {"centre": centre, "staff": staff, "president": president.user}


def test_targets_are_chosen_by_query_and_a_draft_grid_opened(world):
    chosen = targets.choose()
    assert chosen.centre == world["centre"]
    assert chosen.staff == world["staff"]
    assert chosen.national.memberships.filter(role=Role.NATIONAL).exists()
    assert chosen.admin.is_superuser
    # No draft grid in the data: the bench opens one, as its evaluator would.
    assert chosen.grid is not None and chosen.grid_criteria > 0
    assert chosen.evaluator == world["president"]
    assert any("ouverte" in note for note in chosen.notes)
    # The bench's own accounts never stand for the data's.
    targets.all_centres_staff()
    again = targets.choose()
    assert again.staff == world["staff"] and again.national == chosen.national
    keys = [page.key for page in key_pages(chosen)]
    for key in ["dashboard_staff", "dashboard_evaluator", "registration_list",
                "search_name_centre", "search_reference_all", "registration_detail",
                "commission_detail", "grid_detail", "autosave_notes", "autosave_satisfied",
                "admin_candidates_registration"]:
        assert key in keys


@BENCH
def test_a_page_is_measured_with_its_query_count_and_floor(world):
    pages = {page.key: page for page in key_pages(targets.choose())}
    result = run_page(pages["dashboard_staff"], warmup=1, repeat=2)
    assert "error" not in result, result.get("traceback")
    assert result["status"] == 200 and result["statuses"] == [200]
    assert isinstance(result["queries"], int) and result["queries"] > 0
    assert result["size"] > 0 and result["runs"] == 2
    assert result["median_ms"] > 0 and result["p95_ms"] >= result["median_ms"]
    # The floor: one query, a response of (nearly) the same size.
    assert result["floor_queries"] == 1
    assert abs(result["floor_size"] - result["size"]) <= max(200, result["size"] // 20)
    assert result["ratio"] == pytest.approx(result["median_ms"] / result["floor_median_ms"],
                                            rel=0.01)
    assert set(result["budget"]) == {"status", "queries", "ratio"}
    assert isinstance(result["budget_ok"], bool)


@BENCH
def test_every_autosave_request_saves_with_the_current_revision(world):
    chosen = targets.choose()
    pages = {page.key: page for page in key_pages(chosen)}
    for key in ["autosave_notes", "autosave_satisfied"]:
        result = run_page(pages[key], warmup=2, repeat=3)
        assert "error" not in result, result.get("traceback")
        assert result["statuses"] == [200], key  # no 409: each request had the revision
        assert "median" in result["budget"]
    # warm-up + counted run + timed runs, two fields of the same row: one revision each.
    row = CriterionResult.objects.filter(competence_result__grid=chosen.grid,
                                         notes__startswith="Mesure").get()
    assert row.revision == 1 + 2 * (2 + 1 + 3)


def test_lost_updates_compare_the_last_acknowledged_value_with_the_database(world):
    grid = targets.choose().grid
    row = CriterionResult.objects.filter(competence_result__grid=grid).first()
    CriterionResult.objects.filter(pk=row.pk).update(notes="b", satisfied=True, revision=4)
    ack = {"kind": "criterion", "row": row.pk, "user": 0}
    acks = [{**ack, "field": "notes", "value": "a", "sent_revision": 1, "revision": 2},
            {**ack, "field": "notes", "value": "b", "sent_revision": 2, "revision": 3},
            {**ack, "field": "satisfied", "value": "oui", "sent_revision": 3, "revision": 4}]
    assert load.lost_updates(acks, [])["lost"] == []
    # The database lost the last acknowledged value of the notes.
    CriterionResult.objects.filter(pk=row.pk).update(notes="a")
    check = load.lost_updates(acks, [])
    assert [(lost["field"], lost["acknowledged"]) for lost in check["lost"]] == [("notes", "b")]
    # ... unless a write whose answer never came may have put it there.
    unanswered = [{**ack, "field": "notes", "value": "a", "sent_revision": 3}]
    assert load.lost_updates(acks, unanswered)["lost"] == []
    # Two real changes acknowledged with the same revision: not serialised.
    twice = [*acks, {**ack, "field": "concerned", "value": "on", "sent_revision": 3,
                     "revision": 4}]
    assert load.lost_updates(twice, [])["revision_collisions"] == 1


def test_the_report_is_valid_json_and_a_markdown_table(tmp_path):
    page = report.judge_page({
        "key": "dashboard_staff", "label": "Tableau de bord — gestionnaire",
        "url_name": "dashboard", "user": "gestionnaire", "group": "page", "status": 200,
        "statuses": [200], "queries": 30, "median_ms": 12.0, "p95_ms": 15.0, "size": 5000,
        "floor_median_ms": 5.0, "ratio": 2.4})
    assert page["budget"] == {"status": True, "queries": False, "ratio": True}
    assert page["budget_ok"] is False
    results = {"meta": {"git_commit": "abc"}, "database": {"vendor": "sqlite"},
               "scale": {"registrations": 11}, "pages": [page],
               "pdf": {"grid": {"skipped": "aucune grille"}, "pv": {"skipped": "aucun PV"}},
               "batch": {"skipped": "pas de broker"}, "load": {"skipped": "SQLite"},
               "notes": ["une note"], "budgets_ok": False}
    json_path, md_path = report.write(results, tmp_path / "bench")
    assert json.loads(json_path.read_text(encoding="utf-8"))["pages"][0]["queries"] == 30
    markdown = md_path.read_text(encoding="utf-8")
    header = next(line for line in markdown.splitlines() if line.startswith("| Page |"))
    lines = markdown.splitlines()
    table = lines[lines.index(header):lines.index(header) + 3]
    assert table[1].startswith("|---") and "Tableau de bord — gestionnaire" in table[2]
    assert table[2].count("|") == header.count("|")
    assert "30 ❌" in table[2] and "2.40 ✅" in table[2]
    assert "Non mesuré : pas de broker" in markdown and "une note" in markdown
