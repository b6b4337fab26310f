"""/healthz (DESIGN.md §6, issue 11 §5): each check down answers 503; anonymous callers read only
the status; staff and the bearer token read every check."""

import os
import shutil
import signal
import subprocess
import sys
from datetime import timedelta
from functools import partial

import pytest
from django.core.cache import cache
from django.core.files.storage import FileSystemStorage
from django.test import override_settings
from django.utils import timezone

from certifications.models import Role
from config import ops_status
from config.celery import app as celery_app
from config.heartbeat import worker_heartbeat
from tests.factories import UserFactory, member
from tests.trust.faults import ROOT, RedisServer, broker, wait_for

pytestmark = pytest.mark.django_db
TOKEN = "jeton-de-sonde-0123456789"


class BrokenStorage(FileSystemStorage):
    def _save(self, name, content):
        raise OSError("disque plein")


@pytest.fixture(autouse=True)
def _clean(settings, media_root):
    settings.HEALTH = {**settings.HEALTH, "TOKEN": TOKEN}
    settings.BACKUP_DIR = ""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def with_broker(monkeypatch):
    """Tasks sent to a broker (not eager); heartbeats then matter."""
    celery_app.conf.task_always_eager = False  # restored by tests/conftest.py
    monkeypatch.setattr("config.health._broker", lambda: {"state": "ok"})


def details(client):
    return client.get("/healthz", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")


def test_healthz_is_ok_and_eager_without_broker_and_without_backups(client):
    response = details(client)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"status": "ok", "checks": {
        "database": {"state": "ok"}, "broker": {"state": "eager"},
        "worker": {"state": "eager"}, "beat": {"state": "eager"},
        "storage": {"state": "ok"}, "backup": {"state": "disabled"}}}


def test_healthz_is_never_cached(client):
    assert "no-cache" in client.get("/healthz")["Cache-Control"]


def test_anonymous_and_wrong_token_see_no_details(client, with_broker):
    # No heartbeat was ever recorded: worker and beat are down.
    for headers in ({}, {"HTTP_AUTHORIZATION": "Bearer faux"}):
        response = client.get("/healthz", **headers)
        assert response.status_code == 503
        assert response.json() == {"status": "error"}
    client.force_login(UserFactory())
    assert client.get("/healthz").json() == {"status": "error"}


@pytest.mark.parametrize("user", ["gestionnaire", "is_staff"])
def test_staff_sees_the_details(client, user):
    account = member(Role.STAFF) if user == "gestionnaire" else UserFactory(is_staff=True)
    client.force_login(account)
    assert client.get("/healthz").json()["checks"]["database"] == {"state": "ok"}


def test_unreachable_broker_is_503(client, monkeypatch):
    celery_app.conf.task_always_eager = False  # restored by tests/conftest.py
    monkeypatch.setattr(celery_app, "connection_for_write", partial(
        celery_app.connection_for_write, "redis://127.0.0.1:1/0"))  # nothing on port 1
    response = details(client)
    assert response.status_code == 503
    assert response.json()["checks"]["broker"] == {"state": "unreachable"}


def test_fresh_heartbeats_are_ok_stale_and_missing_are_503(client, with_broker, settings):
    worker_heartbeat.apply()  # as a worker runs it
    ops_status.record("beat")
    response = details(client)
    assert response.status_code == 200, response.json()
    assert response.json()["checks"]["worker"]["state"] == "ok"

    cache.set(ops_status.PREFIX + "beat", {
        "at": (timezone.now() - timedelta(seconds=181)).isoformat(), "ok": True}, None)
    response = details(client)
    assert response.status_code == 503
    assert response.json()["checks"]["beat"] == {"state": "stale", "age_seconds": 181}

    cache.delete(ops_status.PREFIX + "worker")
    assert details(client).json()["checks"]["worker"] == {"state": "missing"}


def test_failing_storage_is_503(client, settings):
    settings.STORAGES = {**settings.STORAGES,
                         "default": {"BACKEND": "tests.config.test_health.BrokenStorage"}}
    response = details(client)
    assert response.status_code == 503
    assert response.json()["checks"]["storage"] == {"state": "error"}


def test_backup_failed_old_or_missing_is_503_recent_is_ok(client, settings, tmp_path):
    settings.BACKUP_DIR = str(tmp_path)
    assert details(client).json()["checks"]["backup"] == {"state": "missing"}
    ops_status.record("backup", ok=True)
    assert details(client).status_code == 200
    ops_status.record("backup", ok=False, error="pg_dump introuvable")
    response = details(client)
    assert response.status_code == 503
    assert response.json()["checks"]["backup"]["state"] == "failed"
    cache.set(ops_status.PREFIX + "backup", {
        "at": (timezone.now() - timedelta(hours=27)).isoformat(), "ok": True}, None)
    assert details(client).json()["checks"]["backup"]["state"] == "stale"


@pytest.mark.worker
def test_healthz_reaches_the_real_broker(client):
    assert details(client).json()["checks"]["broker"] == {"state": "ok"}
    replies = celery_app.control.ping(timeout=5, limit=1)  # returns at the first reply
    assert replies, "no Celery worker answered the ping (.ci/run starts one)"


def start(tmp_path, redis_url: str, *args: str) -> subprocess.Popen:
    """``celery -A config <args>`` on ``redis_url`` (broker and cache), heartbeat every second."""
    env = {**os.environ, "CELERY_BROKER_URL": redis_url, "CACHE_URL": redis_url,
           "HEALTH_HEARTBEAT_SECONDS": "1", "DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3",
           "MEDIA_ROOT": str(tmp_path / "media"), "DJANGO_SETTINGS_MODULE": "config.settings",
           "PYTHONPATH": str(ROOT)}
    with (tmp_path / f"{args[0]}.log").open("ab") as log:  # the child keeps its own copy
        return subprocess.Popen([sys.executable, "-m", "celery", "-A", "config", *args],
                                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("redis-server") is None,
                    reason="redis-server absent (paquet Debian redis-server)")
def test_real_worker_and_beat_are_ok_then_stale_once_stopped(client, settings, tmp_path):
    redis = RedisServer(tmp_path)
    redis.start()
    processes = [
        start(tmp_path, redis.url, "worker", "--concurrency=1", "--pool=solo",
              "--without-gossip", "--without-mingle", "--without-heartbeat"),
        start(tmp_path, redis.url, "beat", f"--schedule={tmp_path / 'beat-schedule'}"),
    ]
    settings.HEALTH = {**settings.HEALTH, "STALE_SECONDS": 3}
    shared_cache = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                "LOCATION": redis.url, "KEY_PREFIX": "uimm"}}
    try:
        with override_settings(CACHES=shared_cache), broker(redis.url):
            wait_for(lambda: details(client).status_code == 200, timeout=25,
                     message="worker et beat ne battent pas")
            checks = details(client).json()["checks"]
            assert checks["worker"]["state"] == checks["beat"]["state"] == "ok"
            assert checks["broker"] == {"state": "ok"}

            for process in processes:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(10)

            def both_stale():
                response = details(client)
                checks = response.json()["checks"]
                return (response.status_code == 503
                        and checks["worker"]["state"] == checks["beat"]["state"] == "stale")

            wait_for(both_stale, timeout=8, message="worker et beat arrêtés non signalés")
    finally:
        for process in processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(10)
        redis.stop()
