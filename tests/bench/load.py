"""Load run: concurrent evaluators autosaving grids against gunicorn (4 workers, DEBUG off) on
PostgreSQL, driven by locust (``tests/bench/locustfile.py``); then the lost-update check.

Who: the evaluators sitting on the commissions of draft grids, the members of one
commission on the same grid (they fill it together, as in the workshop: stale answers are
expected and counted, not errors). A lost update is an acknowledged write whose value is not
in the database although no later acknowledged write replaced it: for every field, the
acknowledgement with the highest row revision must match the database (unless a write whose
answer never came — stopped run, network error — may have replaced it)."""

import json
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections import defaultdict
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.utils.crypto import get_random_string

from commissions.models import CommissionMember
from evaluations.models import CompetenceResult, CriterionResult, Grid, GridState
from tests.bench import report
from tests.bench.batch import stop
from tests.bench.measure import bench_client, percentile
from tests.bench.targets import OPEN_COMMISSIONS

USERS = 50
SECONDS = 60
SPAWN_RATE = 10
WAIT = "1,3"  # seconds between two saves of one evaluator (min,max)
GUNICORN_WORKERS = 4


# ---------------------------------------------------------------------------
# Who loads what
# ---------------------------------------------------------------------------
def evaluator_grids(limit: int) -> list[tuple[object, Grid]]:
    """Up to ``limit`` (evaluator user, draft grid) pairs, distinct evaluators; the members
    of one commission share one of its draft grids (they fill it together)."""
    pairs, seen = [], set()
    grids = (Grid.objects.filter(state=GridState.DRAFT,
                                 scheduled__commission__status__in=OPEN_COMMISSIONS)
             .select_related("scheduled__commission").order_by("scheduled__commission_id", "pk"))
    by_commission: dict[int, Grid] = {}
    for grid in grids.iterator():
        by_commission.setdefault(grid.scheduled.commission_id, grid)
    members = (CommissionMember.objects.filter(commission_id__in=list(by_commission))
               .select_related("evaluator__user").order_by("commission_id", "pk"))
    for member in members:
        user = member.evaluator.user
        if user.pk in seen or not user.is_active:
            continue
        seen.add(user.pk)
        pairs.append((user, by_commission[member.commission_id]))
        if len(pairs) >= limit:
            break
    return pairs


def write_sessions(pairs, path: Path) -> None:
    """Log each evaluator in (a database session, as a browser would hold) for locust."""
    rows = []
    for user, grid in pairs:
        client = bench_client(user)
        rows.append({"username": user.get_username(), "grid_id": grid.pk,
                     "sessionid": client.cookies[settings.SESSION_COOKIE_NAME].value,
                     "csrftoken": get_random_string(32)})
    path.write_text(json.dumps(rows, indent=1), encoding="utf-8")


# ---------------------------------------------------------------------------
# Lost updates
# ---------------------------------------------------------------------------
def stored_value(row, field: str) -> str:
    """The field as the page's inputs hold it (what the load script sent)."""
    value = getattr(row, "level_id" if field == "level" else field)
    if field == "satisfied":
        return {True: "oui", False: "non"}.get(value, "")
    if field == "concerned":
        return "on" if value else ""
    if value is None:
        return ""
    return str(value)


def lost_updates(acks: list[dict], unanswered: list[dict]) -> dict:
    last: dict[tuple, dict] = {}
    for ack in acks:
        key = (ack["kind"], ack["row"], ack["field"])
        if key not in last or ack["revision"] >= last[key]["revision"]:
            last[key] = ack
    maybe = defaultdict(set)
    for write in unanswered:
        maybe[(write["kind"], write["row"], write["field"])].add(write["value"])
    rows = {
        "criterion": CriterionResult.objects.in_bulk(
            [k[1] for k in last if k[0] == "criterion"]),
        "competence": CompetenceResult.objects.in_bulk(
            [k[1] for k in last if k[0] == "competence"]),
    }
    lost, unconfirmed = [], 0
    for key, ack in last.items():
        row = rows[key[0]].get(key[1])
        stored = stored_value(row, key[2]) if row is not None else None
        if stored == ack["value"].strip():
            continue
        if stored in maybe[key]:
            unconfirmed += 1
            continue
        lost.append({"row_kind": key[0], "row_id": key[1], "field": key[2],
                     "acknowledged": ack["value"], "revision": ack["revision"],
                     "in_database": stored})
    # Two real changes acknowledged with the same row revision: two writers were not
    # serialised (a lost update in the making even when the values happen to agree).
    seen, collisions = set(), 0
    for ack in acks:
        if ack["revision"] > ack["sent_revision"]:
            key = (ack["kind"], ack["row"], ack["revision"])
            collisions += key in seen
            seen.add(key)
    return {"fields_checked": len(last), "lost": lost, "unconfirmed": unconfirmed,
            "revision_collisions": collisions}


# ---------------------------------------------------------------------------
# Servers
# ---------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(port: int, log_path: Path) -> subprocess.Popen:
    command = [str(Path(sys.executable).with_name("gunicorn")), "config.wsgi",
               "-w", str(GUNICORN_WORKERS), "-b", f"127.0.0.1:{port}", "--timeout", "60",
               "--error-logfile", str(log_path), "--log-level", "warning"]
    return subprocess.Popen(command, cwd=settings.BASE_DIR, env=os.environ.copy(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)


def wait_http(port: int, process: subprocess.Popen, timeout: float = 60) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                return True
        except urllib.error.HTTPError:
            return True  # it answers (503: the broker is down — not this run's concern)
        except OSError:
            time.sleep(0.3)
    return False


# ---------------------------------------------------------------------------
# The run
# ---------------------------------------------------------------------------
def run(out_dir: Path, *, users: int = USERS, seconds: int = SECONDS, wait: str = WAIT,
        spawn_rate: int = SPAWN_RATE) -> dict:
    if connection.vendor != "postgresql":
        return {"skipped": "la charge se mesure sur PostgreSQL (SQLite sérialise toutes les "
                           "écritures)"}
    locust = Path(sys.executable).with_name("locust")
    gunicorn = Path(sys.executable).with_name("gunicorn")
    if not locust.exists() or not gunicorn.exists():
        return {"skipped": "locust ou gunicorn absent : pip install -c requirements.lock "
                           "-e \".[dev,bench]\""}
    pairs = evaluator_grids(users)
    if not pairs:
        return {"skipped": "aucune grille en brouillon avec ses évaluateurs"}
    notes = []
    if len(pairs) < users:
        notes.append(f"Seulement {len(pairs)} évaluateur(s) distinct(s) sur des grilles en "
                     f"brouillon (au lieu de {users}) : charge réduite d'autant.")
    work = out_dir / "load"
    work.mkdir(parents=True, exist_ok=True)
    users_path, record_path = work / "users.json", work / "record.json"
    record_path.unlink(missing_ok=True)
    write_sessions(pairs, users_path)
    port = free_port()
    server = start_gunicorn(port, work / "gunicorn.log")
    try:
        if not wait_http(port, server):
            return {"skipped": f"gunicorn n'a pas démarré (voir {work}/gunicorn.log)"}
        env = {**os.environ, "BENCH_LOAD_USERS": str(users_path),
               "BENCH_LOAD_OUT": str(record_path), "BENCH_LOAD_WAIT": wait}
        command = [str(locust), "-f", str(Path(__file__).with_name("locustfile.py")),
                   "--headless", "-u", str(len(pairs)), "-r", str(spawn_rate),
                   "-t", f"{seconds}s", "--stop-timeout", "10",
                   "--host", f"http://127.0.0.1:{port}", "--csv", str(work / "locust"),
                   "--only-summary", "--loglevel", "WARNING"]
        with open(work / "locust.log", "wb") as log:
            subprocess.run(command, cwd=settings.BASE_DIR, env=env, stdout=log,
                           stderr=subprocess.STDOUT, timeout=seconds + 180, check=False)
    finally:
        stop(server)
    if not record_path.exists():
        return {"skipped": f"locust n'a rien enregistré (voir {work}/locust.log)"}
    return summarise(json.loads(record_path.read_text(encoding="utf-8")), pairs, notes,
                     seconds=seconds, wait=wait)


def summarise(record: dict, pairs, notes: list[str], *, seconds: int, wait: str) -> dict:
    saves = record["saves"]
    latencies = [ms for _t, ms, status in saves if status in (200, 409)]
    duration = (record["stopped"] or time.time()) - record["started"]
    check = lost_updates(record["acks"], record["unanswered"])
    errors = len(record["errors"])
    result = {
        "users": len(pairs), "grids": len({grid.pk for _u, grid in pairs}),
        "duration_s": round(duration, 1), "target_s": seconds, "wait_s": wait,
        "gunicorn_workers": GUNICORN_WORKERS,
        "requests": len(saves), "saves": len(record["acks"]), "stale_409": record["stale"],
        "errors": errors, "error_samples": record["errors"][:5],
        "throughput_rps": round(len(saves) / duration, 1) if duration else None,
        "p50_ms": round(statistics.median(latencies), 1) if latencies else None,
        "p95_ms": round(percentile(latencies, 0.95), 1) if latencies else None,
        "page_p50_ms": (round(statistics.median(record["pages"]), 1)
                        if record["pages"] else None),
        "fields_checked": check["fields_checked"], "lost_updates": len(check["lost"]),
        "lost_samples": check["lost"][:5], "unconfirmed_writes": check["unconfirmed"],
        "revision_collisions": check["revision_collisions"], "notes": notes,
    }
    if check["unconfirmed"]:
        notes.append(f"{check['unconfirmed']} champ(s) portent une écriture restée sans "
                     "réponse (arrêt du test) : ni perdue ni confirmée.")
    if check["revision_collisions"]:
        notes.append(f"{check['revision_collisions']} écriture(s) acquittée(s) avec une "
                     "révision déjà attribuée : écritures concurrentes non sérialisées.")
    budget = {"errors": errors == 0, "lost_updates": not check["lost"],
              "p95": result["p95_ms"] is not None and result["p95_ms"] <= report.LOAD_P95_MS}
    result["budget"], result["budget_ok"] = budget, all(budget.values())
    return result
