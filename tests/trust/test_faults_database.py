"""Database faults (issue 8), PostgreSQL only.

- The connection dropped between two requests (a restart of PostgreSQL, a proxy that cut an
  idle connection): the next request succeeds — CONN_HEALTH_CHECKS pings a reused connection
  before using it. Measured on a real gunicorn process, since Django's test client and live
  server open a fresh connection per request and would hide the fault.
- A transaction that fails half-way (a lock that never comes, here) leaves nothing behind.
- Two staff acting on the same signed grid or final decision at the same instant: a single
  consistent outcome."""

import subprocess
import sys
import time
import urllib.error
import urllib.request

import psycopg2
import pytest
from django.core.exceptions import ValidationError
from django.db import OperationalError, connection

from certifications.models import Role
from commissions.models import SessionStatus
from evaluations import deliberation, services
from evaluations.models import Decision, GeneratedDocument, Grid, GridEvent, GridState, Minutes
from tests.evaluations.conftest import PASSWORD
from tests.evaluations.test_concurrency import at_the_same_instant
from tests.factories import member
from tests.trust.faults import ROOT, database_url, free_port, wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 — 127.0.0.1
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except urllib.error.URLError:
        return 0  # not listening yet


def _terminate_other_backends() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                       "WHERE datname = current_database() AND pid <> pg_backend_pid()")
        return cursor.fetchone()[0]


@pytest.mark.slow
def test_a_connection_dropped_between_requests_does_not_fail_the_next_one(tmp_path, signed):
    port = free_port()
    code = GeneratedDocument.objects.get(grid=signed).verification_code
    env = {"DATABASE_URL": database_url(), "DEBUG": "1",
           "ALLOWED_HOSTS": "127.0.0.1", "SECURE_SSL_REDIRECT": "0", "CONN_MAX_AGE": "600",
           "PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "MEDIA_ROOT": str(tmp_path)}
    log = (tmp_path / "gunicorn.log").open("wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "config.wsgi", "--bind", f"127.0.0.1:{port}",
         "--workers", "1", "--threads", "1"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/verify/{code}/"
    try:
        wait_for(lambda: _get(url) == 200, timeout=30, step=0.3,
                 message="gunicorn ne répond pas")
        assert _terminate_other_backends() >= 1  # the web process's idle connection is cut
        time.sleep(0.3)
        assert _get(url) == 200
        assert _get(url) == 200
    finally:
        server.terminate()
        server.wait(10)
        log.close()


def test_a_pv_signature_that_fails_half_way_leaves_nothing_behind(jury_open, jury_members):
    """The PV is written, decisions finalised, registrations deliberated, the session closed —
    then issuing the documents waits on a lock held elsewhere and times out: everything the
    signature wrote is rolled back, and signing again afterwards works."""
    params = connection.settings_dict
    blocker = psycopg2.connect(dbname=params["NAME"], user=params["USER"],
                               host=params["HOST"] or "127.0.0.1", port=params["PORT"] or 5432)
    try:
        with blocker.cursor() as cursor:
            cursor.execute("LOCK TABLE evaluations_generateddocument IN SHARE MODE")
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '300ms'")
        with pytest.raises(OperationalError):
            deliberation.sign_minutes(session=jury_open, actor=jury_members["president"].user,
                                      password=PASSWORD, ip="192.0.2.20")
    finally:
        blocker.rollback()
        blocker.close()
        with connection.cursor() as cursor:
            cursor.execute("RESET lock_timeout")

    jury_open.refresh_from_db()
    assert jury_open.status == SessionStatus.OPEN
    assert not Minutes.objects.filter(session=jury_open).exists()
    assert not Decision.objects.filter(session_candidate__session=jury_open,
                                       final_at__isnull=False).exists()
    assert not GeneratedDocument.objects.filter(session=jury_open).exists()
    assert {c.registration.state for c in jury_open.candidates.select_related("registration")
            } == {"evalue"}

    deliberation.sign_minutes(session=jury_open, actor=jury_members["president"].user,
                              password=PASSWORD, ip="192.0.2.20")
    assert Minutes.objects.filter(session=jury_open).count() == 1


def test_two_staff_reopening_the_same_grid_at_once_reopen_it_once(signed, staff, centre):
    other_staff = member(Role.STAFF, centre=centre, username="gestion.2")
    outcomes = at_the_same_instant(
        lambda: services.reopen_grid(grid=Grid.objects.get(pk=signed.pk), actor=staff,
                                     reason="Erreur de saisie signalée par le président"),
        lambda: services.reopen_grid(grid=Grid.objects.get(pk=signed.pk), actor=other_staff,
                                     reason="Réclamation du candidat"),
    )
    errors = [o for o in outcomes if isinstance(o, Exception)]
    assert len(errors) == 1 and isinstance(errors[0], ValidationError), outcomes
    grid = Grid.objects.get(pk=signed.pk)
    assert grid.state == GridState.DRAFT
    assert grid.reopen_count == 1
    assert grid.events.filter(action=GridEvent.Action.REOPENED).count() == 1


def test_two_staff_correcting_the_same_final_decision_at_once_make_one_correction(
        jury_closed, staff):
    decision = Decision.objects.filter(session_candidate__session=jury_closed,
                                       outcome="admis_partiel").get()

    def correct(reason):
        return lambda: deliberation.correct_decision(
            decision=Decision.objects.get(pk=decision.pk), actor=staff, outcome="admis",
            acquired_blocs=[], reason=reason)

    outcomes = at_the_same_instant(correct("Erreur matérielle sur le bloc B2"),
                                   correct("Recours gracieux du candidat"))
    errors = [o for o in outcomes if isinstance(o, Exception)]
    assert len(errors) == 1, outcomes
    assert Decision.objects.filter(supersedes=decision).count() == 1
    decision.refresh_from_db()
    assert decision.outcome == "admis_partiel"  # the final decision itself never changes
