"""/healthz (DESIGN.md §6, issue 11 §5): database, broker, worker and beat heartbeats, storage,
last backup. 503 when one is down. Anonymous callers read only ``{"status": …}``; staff, and
callers sending ``Authorization: Bearer <HEALTHZ_TOKEN>``, also read each check.

Each probe is cheap, bounded (about 2 s) and never raises: a failure is a state.
"""

import hmac
import uuid
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as ProbeTimeout

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from config import ops_status

TIMEOUT = 2
HEALTHY = {"ok", "eager", "disabled"}
# One storage probe at a time: a hung object store never piles up threads.
_storage_probes = ThreadPoolExecutor(max_workers=1, thread_name_prefix="healthz")


def _database() -> dict:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return {"state": "ok" if cursor.fetchone() == (1,) else "error"}
    except Exception:  # noqa: BLE001 - any failure means "not reachable"
        return {"state": "unreachable"}


def _eager() -> bool:
    from config.celery import app

    return bool(app.conf.task_always_eager)


def _broker() -> dict:
    if _eager():
        return {"state": "eager"}
    from config.celery import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=TIMEOUT)
        return {"state": "ok"}
    except Exception:  # noqa: BLE001
        return {"state": "unreachable"}


def _heartbeat(name: str) -> dict:
    if _eager():
        return {"state": "eager"}
    try:
        entry = ops_status.read(name)
    except Exception:  # noqa: BLE001 - the shared cache is down
        return {"state": "unknown"}
    if entry is None:
        return {"state": "missing"}
    age = round(ops_status.age_seconds(entry))
    stale = age > settings.HEALTH["STALE_SECONDS"]
    return {"state": "stale" if stale else "ok", "age_seconds": age}


def _probe_storage() -> None:
    name = default_storage.save(f"healthz/probe-{uuid.uuid4().hex}.txt", ContentFile(b"ok"))
    try:
        with default_storage.open(name) as stream:
            if stream.read() != b"ok":
                raise OSError("storage probe read back other content")
    finally:
        default_storage.delete(name)


def _storage() -> dict:
    try:
        _storage_probes.submit(_probe_storage).result(timeout=TIMEOUT)
    except ProbeTimeout:
        return {"state": "timeout"}
    except Exception:  # noqa: BLE001
        return {"state": "error"}
    return {"state": "ok"}


def _backup() -> dict:
    if not getattr(settings, "BACKUP_DIR", ""):
        return {"state": "disabled"}
    try:
        entry = ops_status.read("backup")
    except Exception:  # noqa: BLE001
        return {"state": "unknown"}
    if entry is None:
        return {"state": "missing"}
    age = round(ops_status.age_seconds(entry))
    if not entry.get("ok"):
        return {"state": "failed", "age_seconds": age}
    too_old = age > settings.HEALTH["BACKUP_MAX_AGE_HOURS"] * 3600
    return {"state": "stale" if too_old else "ok", "age_seconds": age}


def _may_see_details(request) -> bool:
    token = settings.HEALTH["TOKEN"]
    sent = request.headers.get("Authorization", "")
    if token and hmac.compare_digest(sent.encode(), f"Bearer {token}".encode()):
        return True
    user = request.user
    return user.is_authenticated and (
        user.is_staff or user.has_perm("certifications.view_operations"))


@never_cache
@require_GET
def healthz(request):
    checks = {"database": _database(), "broker": _broker(), "worker": _heartbeat("worker"),
              "beat": _heartbeat("beat"), "storage": _storage(), "backup": _backup()}
    healthy = all(check["state"] in HEALTHY for check in checks.values())
    body = {"status": "ok" if healthy else "error"}
    if _may_see_details(request):
        body["checks"] = checks
    return JsonResponse(body, status=200 if healthy else 503)
