"""Faults on the real services (issue 8), PostgreSQL only: a private redis-server that the
test stops and starts again, and real Celery worker processes on the test database.

- Redis down while a grid is locked: the signature succeeds, the PDF is produced once the
  broker is back (the outbox sweep), exactly once even when its message is sent twice.
- A worker process killed in the middle of a PDF: the task runs again (late acknowledgement,
  reject on worker lost) and exactly one document results."""

import os
import shutil
import signal
import time

import pytest

from evaluations.models import GeneratedDocument, GridEvent
from evaluations.tasks import requeue_pending_work
from tests.evaluations.conftest import sign
from tests.trust.faults import RedisServer, Worker, broker, wait_for

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(shutil.which("redis-server") is None,
                       reason="redis-server absent (paquet Debian redis-server)"),
]


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MEDIA_ROOT.mkdir()
    return settings.MEDIA_ROOT


@pytest.fixture
def redis(tmp_path):
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()


def grid_files(media) -> list:
    folder = media / "documents" / "grille"
    return sorted(folder.iterdir()) if folder.exists() else []


def rendered(document):
    document.refresh_from_db()
    return bool(document.file)


def test_redis_down_while_a_grid_locks_then_back_gives_one_pdf(
        tmp_path, settings, media, redis, to_sign, president_member, assessor_member):
    worker = Worker(redis.url, media, tmp_path / "worker.log", concurrency=2)
    worker.start()
    try:
        sign(to_sign, president_member)
        redis.stop()
        with broker(redis.url):
            result = sign(to_sign, assessor_member)  # the broker is down: still signs
        assert result.locked
        document = GeneratedDocument.objects.get(grid=to_sign, kind="grille")
        time.sleep(1)
        assert not rendered(document)

        redis.start()  # same port: the worker reconnects by itself
        settings.OUTBOX = {**settings.OUTBOX, "GRACE_SECONDS": 0}  # time has passed
        with broker(redis.url):
            # Sent twice (two sweeps before the worker is done): produced once.
            assert requeue_pending_work()["documents"] == 1
            assert requeue_pending_work()["documents"] == 1
        wait_for(lambda: rendered(document), message="pas de PDF après le retour de Redis")
        wait_for(lambda: worker.log_text().count("render_grid_pdf") >= 4
                 and worker.log_text().count("succeeded") >= 2,
                 message="le second message n'a pas été traité")
    finally:
        worker.stop()
    assert len(grid_files(media)) == 1
    assert GridEvent.objects.filter(grid=to_sign, action=GridEvent.Action.DOCUMENT).count() == 1
    with document.file.open("rb") as stream:
        assert stream.read(5) == b"%PDF-"


def test_a_worker_process_killed_mid_pdf_runs_the_task_again_once(
        tmp_path, media, redis, to_sign, president_member, assessor_member):
    markers = tmp_path / "markers"
    markers.mkdir()
    worker = Worker(redis.url, media, tmp_path / "worker.log", concurrency=1,
                    app="tests.trust.slow_worker_app",
                    extra_env={"FAULT_MARKER_DIR": str(markers), "FAULT_RENDER_SECONDS": "3"})
    worker.start()
    try:
        sign(to_sign, president_member)
        with broker(redis.url):
            assert sign(to_sign, assessor_member).locked  # the PDF task goes to Redis
        document = GeneratedDocument.objects.get(grid=to_sign, kind="grille")
        first = wait_for(lambda: sorted(markers.iterdir()),
                         message="le worker n'a pas commencé le PDF")[0]
        pid = int(first.name.split("-")[1])
        os.kill(pid, signal.SIGKILL)  # the process rendering the PDF dies mid-task

        wait_for(lambda: rendered(document), timeout=60,
                 message="la tâche n'a pas été relancée après la mort du processus")
    finally:
        worker.stop()
    log = worker.log_text()
    assert "WorkerLostError" in log or "SIGKILL" in log, log[-3000:]
    starts = sorted(markers.iterdir())
    assert len(starts) >= 2 and int(starts[-1].name.split("-")[1]) != pid
    assert len(grid_files(media)) == 1
    assert GridEvent.objects.filter(grid=to_sign, action=GridEvent.Action.DOCUMENT).count() == 1
