"""Heartbeats for /healthz (issue 11 §5): « a worker runs tasks » and « beat is ticking ».

- beat records ``"beat"`` from its own loop (``HeartbeatScheduler``, CELERY_BEAT_SCHEDULER), so
  it shows alive even when no worker runs;
- beat sends ``worker_heartbeat`` every HEALTH["HEARTBEAT_SECONDS"]; a worker running it records
  ``"worker"``: the message went through the broker and a worker consumed it.

/healthz (config/health.py) reads both back from the shared cache and calls one stale after
HEALTH["STALE_SECONDS"].
"""

import logging
import time

from celery import shared_task
from celery.beat import PersistentScheduler
from django.conf import settings

from config import ops_status

logger = logging.getLogger(__name__)


@shared_task(name="config.heartbeat.worker_heartbeat", ignore_result=True)
def worker_heartbeat() -> None:
    ops_status.record("worker", hostname=worker_heartbeat.request.hostname)


class HeartbeatScheduler(PersistentScheduler):
    """Celery beat's default scheduler (schedule kept in its file), which also records
    ``"beat"`` at most every HEARTBEAT_SECONDS and wakes up at least that often."""

    _recorded_at = None

    def tick(self, *args, **kwargs):
        interval = settings.HEALTH["HEARTBEAT_SECONDS"]
        now = time.monotonic()
        if self._recorded_at is None or now - self._recorded_at >= interval:
            self._recorded_at = now
            try:
                ops_status.record("beat")
            except Exception:  # the cache is down: /healthz will say so; beat goes on
                logger.warning("Beat heartbeat not recorded", exc_info=True)
        return min(super().tick(*args, **kwargs), interval)
