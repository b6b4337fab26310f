"""The benchmark harness works (``make bench``): targets chosen by query, a page measured with
its query count and its floor, autosave requests that each save, the lost-update check, the
holders file measured in its own process, the report. Structure only — never a duration
(benchmarks are not timed tests)."""

import json
import sqlite3
import sys
from urllib.parse import quote

import pytest
from django.db import connection
from django.test import override_settings

from certifications.models import Role
from evaluations.models import CriterionResult
from reporting.models import Award, AwardEvent, AwardState, BatchItem, DeclarationBatch
from tests.bench import holders, load, report, targets
from tests.bench.pages import key_pages, run_page
from tests.factories import (
    CentreFactory,
    CertificationFactory,
    build_version,
    make_commission,
    make_evaluator,
    make_ready,
    make_registration,
    member,
)
from tests.reporting.conftest import final_decision, make_award_registration

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
    # The floor: one query of its own, a response of (nearly) the same size. Like every
    # request of a signed-in user behind the same middleware, it also reads the session and
    # the user (the two-factor check needs both).
    assert result["floor_queries"] == 1 + 2
    assert abs(result["floor_size"] - result["size"]) <= max(200, result["size"] // 20)
    assert result["ratio"] == pytest.approx(result["median_ms"] / result["floor_median_ms"],
                                            rel=0.01)
    assert set(result["budget"]) == {"status", "queries", "ratio"}
    assert isinstance(result["budget_ok"], bool)


def test_page_and_floor_runs_are_interleaved(db):
    """Both series are timed under the same machine conditions: after their warm-ups and
    counted runs, page and floor requests alternate."""
    from tests.bench.measure import measure_with_floor

    calls = []

    class Response:
        status_code = 200

        def __init__(self, body: bytes):
            self.content = body

    def send():
        calls.append("page")
        return Response(b"x" * 1234)

    class FloorClient:
        def get(self, url):
            calls.append(url)
            return Response(b"y" * 1234)

    page, floor = measure_with_floor(send, FloorClient(), warmup=2, repeat=4)
    floor_url = "/__bench__/floor/1234/"
    assert calls[:6] == ["page"] * 3 + [floor_url] * 3  # warm-ups, then the counted run
    assert calls[6:] == ["page", floor_url] * 4
    assert page.runs == floor.runs == 4 and page.size == floor.size == 1234


@BENCH
@override_settings(TWO_FACTOR={"REQUIRED": True})
def test_with_two_factor_required_pages_are_measured_signed_in_not_redirected(world):
    # The bench runs with production settings, where staff must use a second factor: its
    # clients are verified ones, or every staff page would measure a redirect.
    pages = {page.key: page for page in key_pages(targets.choose())}
    for key in ["dashboard_staff", "registration_list", "admin_candidates_registration"]:
        result = run_page(pages[key], warmup=0, repeat=1)
        assert "error" not in result, result.get("traceback")
        assert result["statuses"] == [200], key
    # Behind OTPMiddleware a verified session also reads its device, page and floor alike.
    assert result["floor_queries"] == 1 + 3


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
    # What a cached page costs computed again is shown, judged on its queries only.
    fresh = report.judge_page({**page, "key": "statistics_national_fresh", "group": "fresh",
                               "queries": 20, "ratio": 15.0})
    assert fresh["budget"] == {"status": True, "queries": True} and fresh["budget_ok"]
    results = {"meta": {"git_commit": "abc"}, "database": {"vendor": "sqlite"},
               "scale": {"registrations": 11}, "pages": [page],
               "pdf": {"grid": {"skipped": "aucune grille"}, "pv": {"skipped": "aucun PV"}},
               "batch": {"skipped": "pas de broker"}, "load": {"skipped": "SQLite"},
               "holders": {"passages": 3, "wall_s": 1.5, "projected_s": 10000.0,
                           "peak_rss_mib": 80.0, "startup_s": 1.0, "startup_rss_mib": 70.0,
                           "size": 9000, "sha256_ok": True, "target": 20000,
                           "budget": {"time": False, "memory": True}, "budget_ok": False,
                           "notes": ["Seulement 3 passage(s)"]},
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
    row = next(line for line in lines if line.startswith("| 3 |"))
    assert "10 000.00 ❌" in row and "80.0 ✅" in row and "Seulement 3 passage(s)" in markdown


def test_a_child_process_is_measured_with_its_own_peak_memory(tmp_path):
    """The peak is the child's own, not this process's (a forked child counts what its parent
    held until exec: hence the launcher)."""
    measured = holders.run_measured(
        [sys.executable, "-c", "data = b'x' * (64 * 1024 * 1024); print(len(data))"],
        env={}, log_path=tmp_path / "child.log")
    assert measured["returncode"] == 0 and measured["wall_s"] > 0
    assert 64 <= measured["peak_rss_mib"] < 64 * 4
    small = holders.run_measured([sys.executable, "-c", "pass"], env={},
                                 log_path=tmp_path / "child.log")
    assert small["peak_rss_mib"] < 64
    failing = holders.run_measured([sys.executable, "-c", "raise SystemExit(3)"], env={},
                                   log_path=tmp_path / "child.log")
    assert failing["returncode"] == 3


@pytest.fixture
def shared_database(transactional_db, tmp_path):
    """``share()`` returns the URL by which a child process reads the database this test
    reads (committed data: transactional_db). PostgreSQL: the test database itself. SQLite:
    the test database lives in this process's memory, so it is copied to a file that this
    process then reads too, until the end of the test."""
    saved = []

    def share() -> str:
        conf = connection.settings_dict
        if connection.vendor == "postgresql":
            return (f"postgres://{quote(conf['USER'] or '')}:{quote(conf['PASSWORD'] or '')}"
                    f"@{conf['HOST'] or 'localhost'}:{conf['PORT'] or 5432}/{conf['NAME']}")
        path = tmp_path / "shared.sqlite3"
        connection.ensure_connection()
        target = sqlite3.connect(path)
        connection.connection.backup(target)
        target.close()
        saved.append((conf["NAME"], connection.connection))
        connection.connection = None  # keep the in-memory database open, unused
        conf["NAME"] = str(path)
        return f"sqlite:///{path}"

    yield share
    if saved:
        connection.close()
        connection.settings_dict["NAME"], connection.connection = saved[0]


def test_the_holders_file_is_measured_by_the_real_command(shared_database, tmp_path,
                                                          settings, monkeypatch):
    """At a tiny scale: ``manage.py export_holders`` in its own process writes one file of
    every due award, its time and peak memory are read, and the database is put back as it
    was (the next run measures the same file)."""
    ids = {"CDC_ID_CLIENT": "BANC0001", "CDC_ID_CONTRAT": "BANC-CONTRAT-01",
           "CDC_NATURE_DEPOSANT": "CERTIFICATEUR", "CDC_DELAY_DAYS": "15"}
    for key, value in ids.items():
        monkeypatch.setenv(key, value)  # the child's settings
    settings.CDC_DECLARATION = {**settings.CDC_DECLARATION, "ID_CLIENT": "BANC0001",
                                "ID_CONTRAT": "BANC-CONTRAT-01", "DELAY_DAYS": 15}
    centre = CentreFactory()
    staff = member(Role.STAFF, centre=centre)
    version = build_version(certification=CertificationFactory(registry="RNCP",
                                                               registry_number="RNCP34567"))
    for name in ["Lefèvre", "D'Alembert", "Dupont-Moreau"]:
        final_decision(make_award_registration(centre, version, birth_name=name), actor=staff)
    final_decision(make_award_registration(centre, version, birth_name="Sanscommune",
                                           birth_commune_code=""), actor=staff)
    url = shared_database()

    result = holders.run(tmp_path / "bench", target=10, database_url=url)
    assert result["returncode"] == 0, (tmp_path / "bench" / "export_holders.log").read_text()
    assert result["due"] == result["passages"] == 3  # without birth place: blocked
    # Four awards created, one of them then blocked: five changes.
    assert result["awards_synced"] == 5 and result["sha256_ok"] is True
    assert result["size"] > 3 * 1000
    assert result["wall_s"] > 0 and result["peak_rss_mib"] > 0
    assert result["startup_s"] > 0 and result["startup_rss_mib"] > 0
    assert result["projected_s"] == pytest.approx(result["wall_s"] * 10 / 3, abs=0.02)
    assert set(result["budget"]) == {"time", "memory"}
    assert isinstance(result["budget_ok"], bool)
    assert any("Seulement 3 passage(s)" in note for note in result["notes"])
    assert not (tmp_path / "bench" / "holders.xml").exists()
    # Put back: the same awards due again, no batch, no item, no timeline row of it.
    assert Award.objects.filter(state=AwardState.DUE, last_batch__isnull=True).count() == 3
    assert not DeclarationBatch.objects.exists() and not BatchItem.objects.exists()
    assert not AwardEvent.objects.filter(to_state=AwardState.IN_BATCH).exists()
    again = holders.run(tmp_path / "bench", target=10, database_url=url)
    assert again["passages"] == 3 and again["awards_synced"] == 0


def test_the_holders_measure_says_why_it_did_not_run(db, settings, tmp_path):
    settings.CDC_DECLARATION = {**settings.CDC_DECLARATION, "ID_CLIENT": ""}
    assert "CDC_ID_CLIENT" in holders.run(tmp_path)["skipped"]
    settings.CDC_DECLARATION = {**settings.CDC_DECLARATION, "ID_CLIENT": "BANC0001",
                                "ID_CONTRAT": "BANC-CONTRAT-01"}
    assert "aucun passage" in holders.run(tmp_path)["skipped"]
