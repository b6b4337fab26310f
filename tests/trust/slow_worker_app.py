"""The project's Celery app with one fault hook, for tests/trust/test_faults_services.py only:
in each worker process, rendering a grid PDF first notes the process id in FAULT_MARKER_DIR
and waits FAULT_RENDER_SECONDS — long enough for the test to kill that process mid-task."""

import os
import time
from pathlib import Path

from celery.signals import worker_process_init

from config.celery import app  # noqa: F401 — the app this worker runs


@worker_process_init.connect
def _slow_grid_rendering(**_kwargs):
    from evaluations import pdf

    marker_dir = Path(os.environ["FAULT_MARKER_DIR"])
    delay = float(os.environ.get("FAULT_RENDER_SECONDS", "3"))
    original = pdf.grid_pdf

    def grid_pdf(document):
        (marker_dir / f"render-{os.getpid()}-{time.monotonic_ns()}").touch()
        time.sleep(delay)
        return original(document)

    pdf.grid_pdf = grid_pdf
