"""The declaration file of holders (issue 10 §5): ``python manage.py export_holders --out FILE``
run for real, in its own process, on the bench database — its wall time and its peak memory
(the resident set size of that process, read from ``os.wait4`` by the small launcher
``tests/bench/peak.py``: no dependency).

Before: the awards follow the decisions (``sync_awards`` in the bench process, so that the
command measures the file, not the first creation of the awards). The command puts every due
award of every centre in one batch, as « Générer le fichier » does. After: the bench database
is put back as it was (awards due again, the batch, its items and its timeline rows
deleted: see ``restore``), so that the next run measures the same file. The file itself is
deleted once its size and SHA-256 are read (tens of megabytes).

The budget is for a file of 20 000 passages: with fewer due awards in the data, the time for
20 000 is projected at the measured rate (the whole command, start-up included: a bound from
above); the memory is the one measured."""

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pgtrigger
from django.conf import settings
from django.db import transaction

from reporting import services
from reporting.models import Award, AwardEvent, AwardState, DeclarationBatch
from tests.bench import report

TIMEOUT_S = 900
APPEND_ONLY_TRIGGER = "reporting.AwardEvent:award_event_append_only"
LAUNCHER = Path(__file__).with_name("peak.py")


def run_measured(command: list[str], *, env: dict, log_path: Path,
                 timeout: float = TIMEOUT_S) -> dict:
    """Run ``command`` through the launcher ``tests/bench/peak.py``: its exit code, wall time
    and peak resident memory — its own, not the bench's (see the launcher)."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    figures = log_path.with_suffix(".rusage.json")
    figures.unlink(missing_ok=True)
    with open(log_path, "wb") as log:
        process = subprocess.Popen([sys.executable, str(LAUNCHER), str(figures), *command],
                                   cwd=settings.BASE_DIR, env=env, stdin=subprocess.DEVNULL,
                                   stdout=log, stderr=log)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.terminate()  # the launcher kills the command
            process.wait(timeout=30)
    if not figures.exists():
        return {"returncode": process.returncode, "wall_s": None, "peak_rss_mib": None}
    measured = json.loads(figures.read_text(encoding="utf-8"))
    figures.unlink()
    return {"returncode": measured["returncode"], "wall_s": round(measured["wall_s"], 2),
            "peak_rss_mib": round(measured["maxrss_kib"] / 1024, 1)}


def _command(*args: str) -> list[str]:
    return [sys.executable, str(Path(settings.BASE_DIR) / "manage.py"), *args]


def restore(batch: DeclarationBatch, previous: dict[int, int]) -> None:
    """Undo what the command did, on the bench's own database only: its awards due again
    (with the batch they were last sent in, for a correction), the batch deleted with its
    items and its timeline rows. The timeline is append-only (a model guard and, on
    PostgreSQL, a trigger): the bench lifts both for its own rows, as the retention purge
    does (``evaluations.protection``), and nothing else."""
    with transaction.atomic(), pgtrigger.ignore(APPEND_ONLY_TRIGGER):
        AwardEvent._base_manager.filter(batch=batch).delete()
        Award.objects.filter(last_batch=batch).update(state=AwardState.DUE, last_batch=None)
        for award_pk, batch_pk in previous.items():
            Award.objects.filter(pk=award_pk).update(last_batch_id=batch_pk)
        batch.delete()


def run(out_dir: Path, *, target: int = report.HOLDERS_AWARDS,
        database_url: str | None = None) -> dict:
    """Measure the command on every due award of the database of ``database_url`` (by
    default the bench's: ``DATABASE_URL``), which must be the one this process reads."""
    missing = services.missing_settings()
    if missing:
        return {"skipped": "déclaration non configurée : " + ", ".join(missing)}
    synced = services.sync_awards()
    due = services.due_awards(None)
    count = min(due.count(), services.MAX_PASSAGES)
    if not count:
        blocked = Award.objects.filter(state=AwardState.BLOCKED).count()
        return {"skipped": f"aucun passage à déclarer dans la base ({blocked} bloqué(s) pour "
                           "identité incomplète)"}
    # A correction keeps the batch it was last sent in: put back after the run.
    previous = dict(due.filter(last_batch__isnull=False).values_list("pk", "last_batch_id"))
    last_batch = (DeclarationBatch.objects.order_by("-pk").values_list("pk", flat=True)
                  .first() or 0)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "holders.xml"
    env = os.environ.copy()
    if database_url:
        env["DATABASE_URL"] = database_url
    notes = []
    # Django and the command loaded, nothing generated: what the start-up alone costs.
    startup = run_measured(_command("export_holders", "--help"), env=env,
                           log_path=out_dir / "export_holders.log")
    # --skip-checks: with DEBUG off, the system checks refuse a process cache for the rate
    # limits (django_ratelimit.E003), which production shares through CACHE_URL (Redis) and
    # the bench does not set; the checks are `manage.py check --deploy`'s business anyway.
    measured = run_measured(_command("export_holders", "--skip-checks", "--out", str(path)),
                            env=env, log_path=out_dir / "export_holders.log")
    batch = DeclarationBatch.objects.filter(pk__gt=last_batch).order_by("pk").last()
    size = sha_ok = None
    try:
        if path.exists():
            size = path.stat().st_size
            digest = hashlib.sha256()
            with open(path, "rb") as stream:
                for block in iter(lambda: stream.read(1 << 20), b""):
                    digest.update(block)
            sha_ok = batch is not None and digest.hexdigest() == batch.sha256
    finally:
        path.unlink(missing_ok=True)
        if batch is not None:
            restore(batch, previous)
    passages = batch.award_count if batch is not None else 0
    result = {"due": count, "passages": passages, "awards_synced": synced,
              "returncode": measured["returncode"], "wall_s": measured["wall_s"],
              "peak_rss_mib": measured["peak_rss_mib"], "startup_s": startup["wall_s"],
              "startup_rss_mib": startup["peak_rss_mib"], "size": size, "sha256_ok": sha_ok,
              "target": target, "notes": notes}
    if measured["returncode"] != 0 or batch is None:
        notes.append(f"La commande a échoué (code {measured['returncode']}) : voir "
                     f"{out_dir}/export_holders.log.")
    if passages and passages < target:
        notes.append(f"Seulement {passages} passage(s) à déclarer dans la base (au lieu de "
                     f"{target}) : durée pour {target} projetée au débit mesuré, démarrage "
                     "compris ; mémoire telle que mesurée.")
    wall, peak = measured["wall_s"], measured["peak_rss_mib"]
    result["projected_s"] = (None if not passages or wall is None else wall
                             if passages >= target else round(wall * target / passages, 2))
    result["budget"] = {
        "time": result["projected_s"] is not None and result["projected_s"] <= report.HOLDERS_S,
        "memory": peak is not None and peak <= report.HOLDERS_PEAK_MIB}
    result["budget_ok"] = (measured["returncode"] == 0 and passages == count
                           and bool(sha_ok) and all(result["budget"].values()))
    return result
