"""A batch of grid PDFs through a real Celery worker (2 processes), as in production.

The documents: signed grids' documents whose PDF is not rendered yet, then, to reach the
batch size, current documents whose file is dropped the way ``tasks.ensure_rendered`` does
for a lost file (empty ``file``: the task renders it again, identically, once). The bench
starts the worker, enqueues the real task ``render_grid_pdf`` for each, polls the database
until every file is there, and stops the worker."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.db.models import F

from config.celery import app
from evaluations.models import GeneratedDocument, GridState
from evaluations.tasks import render_grid_pdf
from tests.bench import report

BATCH_SIZE = 100
READY_TIMEOUT_S = 60
DONE_TIMEOUT_S = 600
STALLED_S = 45  # no new PDF for that long: the missing ones failed (no result backend)


def choose_documents(size: int) -> tuple[list[int], int]:
    """Ids of up to ``size`` grid documents to render, and how many had to be reset."""
    grid_documents = GeneratedDocument.objects.filter(
        kind=GeneratedDocument.Kind.GRID, grid__state=GridState.SIGNED,
        content_sha256=F("grid__snapshot_sha256"))
    pending = list(grid_documents.filter(file="").order_by("pk").values_list("pk", flat=True)
                   [:size])
    reset = []
    if len(pending) < size:
        rendered = list(grid_documents.exclude(file="").order_by("-pk")[:size - len(pending)])
        for document in rendered:
            if document.file and document.file.storage.exists(document.file.name):
                document.file.storage.delete(document.file.name)
            reset.append(document.pk)
        GeneratedDocument.objects.filter(pk__in=reset).update(file="", file_sha256="",
                                                              generated_at=None)
    return pending + reset, len(reset)


def start_worker(log_path: Path) -> subprocess.Popen:
    celery = Path(sys.executable).with_name("celery")
    command = [str(celery), "-A", "config", "worker", "--concurrency=2", "--without-heartbeat",
               "--without-gossip", "--without-mingle", "--loglevel=WARNING",
               "-n", f"bench-{os.getpid()}@%h"]
    log = open(log_path, "wb")  # noqa: SIM115 - closed with the process
    return subprocess.Popen(command, cwd=settings.BASE_DIR, stdout=log, stderr=log,
                            env=os.environ.copy(), start_new_session=True)


def stop(process: subprocess.Popen, timeout: float = 30) -> None:
    """Stop a process the bench started (and its children: its own session group)."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    except ProcessLookupError:
        pass


def wait_ready(process: subprocess.Popen, prefix: str) -> bool:
    """Until the worker named ``prefix…`` answers a ping (False if it dies or never does)."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        replies = app.control.ping(timeout=1.0)
        if any(name.startswith(prefix) for reply in replies for name in reply):
            return True
    return False


def run(out_dir: Path, size: int = BATCH_SIZE) -> dict:
    if not settings.CELERY_BROKER_URL:
        return {"skipped": "pas de broker Redis (CELERY_BROKER_URL) : les tâches s'exécutent "
                           "sur place, aucun worker à mesurer"}
    ids, reset = choose_documents(size)
    if not ids:
        return {"skipped": "aucune grille signée avec son document dans la base"}
    notes = []
    if reset:
        notes.append(f"{reset} document(s) déjà rendus remis à rendre (fichier supprimé, comme "
                     "un fichier perdu).")
    if len(ids) < size:
        notes.append(f"Seulement {len(ids)} document(s) de grille signée dans la base (au lieu "
                     f"de {size}) : durée pour 100 projetée au débit mesuré.")
    if connection.vendor == "sqlite":
        notes.append("SQLite : les deux processus du worker attendent chacun le verrou "
                     "d'écriture de la base (la tâche rend le PDF dans sa transaction) ; "
                     "chiffre indicatif, la production est sur PostgreSQL.")
    app.control.purge()  # the bench broker database: nothing left from an interrupted run
    out_dir.mkdir(parents=True, exist_ok=True)
    worker = start_worker(out_dir / "worker.log")
    try:
        if not wait_ready(worker, f"bench-{os.getpid()}@"):
            return {"skipped": f"le worker Celery n'a pas démarré (voir {out_dir}/worker.log)"}
        start = time.perf_counter()
        for pk in ids:
            render_grid_pdf.delay(document_id=pk)
        done, deadline = 0, time.monotonic() + DONE_TIMEOUT_S
        progressed = start
        while time.monotonic() < deadline:
            count = GeneratedDocument.objects.filter(pk__in=ids).exclude(file="").count()
            if count > done:
                done, progressed = count, time.perf_counter()
            if done == len(ids) or time.perf_counter() - progressed > STALLED_S:
                break
            time.sleep(0.1)
        wall = progressed - start  # until the last PDF, not the wait for failed ones
    finally:
        stop(worker)
    failed = (out_dir / "worker.log").read_text(errors="replace").count("raised unexpected")
    if failed:
        notes.append(f"{failed} tâche(s) en échec dans le worker (voir {out_dir}/worker.log).")
    result = {"documents": len(ids), "rendered": done, "wall_s": round(wall, 2),
              "docs_per_s": round(done / wall, 2) if wall else None, "concurrency": 2,
              "notes": notes}
    if done < len(ids):
        notes.append(f"Seulement {done}/{len(ids)} PDF rendus : la durée ne compte que ceux-là.")
    result["projected_100_s"] = (round(100 * wall / done, 1) if done else None)
    result["budget_ok"] = (done == len(ids) and result["projected_100_s"] is not None
                           and result["projected_100_s"] <= report.BATCH_100_S)
    return result
