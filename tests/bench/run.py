"""``python -m tests.bench.run [--out var/bench]``: the benchmark of issue 7.

Measures, on the database of ``DATABASE_URL`` (by default the bench's own SQLite file
``var/bench.sqlite3``, never the development database), with production settings (DEBUG off,
HTTPS as behind the proxy): every key page and its floor, the search, the autosave, PDF
rendering, the holders file of ``manage.py export_holders`` (a real process: time and peak
memory), a batch of grid PDFs through a real Celery worker (when a broker is set) and a
load run against gunicorn (on PostgreSQL). Writes ``results.json`` and ``results.md`` in
``--out`` and prints the Markdown. ``make bench`` prepares the database and calls it.

Exit status 0 whatever the figures: budgets are reported, not asserted (benchmarks are never
timed tests)."""

import argparse
import datetime
import gc
import logging
import os
import subprocess
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[2]
# Production-like defaults; the caller's environment wins (make bench sets the database).
BENCH_ENVIRONMENT = {
    "DJANGO_SETTINGS_MODULE": "config.settings",
    "DEBUG": "0",
    "SECRET_KEY": "bench-only-key-not-for-production-0123456789-abcdefghijklmnopqrstuvwxyz",
    "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
    "DATABASE_URL": f"sqlite:///{BASE_DIR / 'var' / 'bench.sqlite3'}",
    "MEDIA_ROOT": str(BASE_DIR / "var" / "bench" / "media"),
    "EMAIL_URL": "dummy:",
    "LOG_LEVEL": "WARNING",
    # The verify page counts lookups per address; the bench asks it ~40 times from one.
    "RATELIMIT_VERIFY": "100000/m",
    # The contract with the Caisse des Dépôts (issue 10), bench-only identifiers; awards due
    # as soon as the decision is final (the volume's decisions are all made final the day it
    # is loaded: with the default delay of 15 days, none would be due yet).
    "CDC_ID_CLIENT": "BANC0001",
    "CDC_ID_CONTRAT": "BANC-CONTRAT-01",
    "CDC_NATURE_DEPOSANT": "CERTIFICATEUR",
    "CDC_DELAY_DAYS": "0",
}


def configure_environment() -> None:
    for key, value in BENCH_ENVIRONMENT.items():
        os.environ.setdefault(key, value)


def parse(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.run", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=str(BASE_DIR / "var" / "bench"),
                        help="dossier des résultats (results.json, results.md)")
    parser.add_argument("--repeat", type=int, default=30, help="requêtes mesurées par page")
    parser.add_argument("--warmup", type=int, default=3, help="requêtes de chauffe par page")
    parser.add_argument("--pdf-runs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--load-users", type=int, default=50)
    parser.add_argument("--load-seconds", type=int, default=60)
    parser.add_argument("--load-wait", default="1,3",
                        help="pause entre deux enregistrements d'un évaluateur (min,max s)")
    parser.add_argument("--only", default="",
                        help="clés de pages à mesurer, séparées par des virgules (mise au point)")
    parser.add_argument("--skip", default="",
                        help="parties à sauter, parmi pages,pdf,holders,batch,load "
                             "(« --skip pages,pdf,batch,load » : le fichier des titulaires "
                             "seul)")
    parser.add_argument("--scale", default=os.environ.get("SCALE", ""),
                        help="valeur de SCALE utilisée pour charger la base (affichée)")
    return parser.parse_args(argv)


def git_commit() -> tuple[str, bool]:
    try:
        commit = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=BASE_DIR,
                                capture_output=True, text=True, check=True).stdout.strip()
        dirty = bool(subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                                    cwd=BASE_DIR, capture_output=True, text=True,
                                    check=True).stdout.strip())
        return commit, dirty
    except (OSError, subprocess.CalledProcessError):
        return "inconnu", False


def scale_figures(requested: str) -> dict:
    from candidates.models import Registration
    from certifications.models import Centre
    from evaluations.models import CriterionResult, Grid

    return {"requested": requested or None, "centres": Centre.objects.count(),
            "registrations": Registration.objects.count(), "grids": Grid.objects.count(),
            "criterion_results": CriterionResult.objects.count()}


def ensure_static() -> None:
    """DEBUG off serves hashed static names from the manifest that collectstatic writes."""
    from django.conf import settings
    from django.core.management import call_command

    if not settings.DEBUG and not (Path(settings.STATIC_ROOT) / "staticfiles.json").exists():
        call_command("collectstatic", interactive=False, verbosity=0)


def national_search_user(targets):
    """The national reader when the staff list answers them; otherwise (the list is the
    gestionnaires'), a gestionnaire of every centre, who searches all registrations too."""
    from django.urls import reverse

    from tests.bench.measure import bench_client
    from tests.bench.targets import all_centres_staff

    status = bench_client(targets.national).get(
        reverse("candidates:registration_list")).status_code
    if status == 200:
        return None
    targets.notes.append(
        f"La liste des candidats répond {status} au compte de lecture nationale "
        f"({targets.national.get_username()}) : la recherche sur tous les centres est "
        "mesurée avec un gestionnaire de tous les centres (bench-tous-centres).")
    return all_centres_staff()


def step(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def collect(args) -> dict:
    from django.conf import settings
    from django.db import connection

    from tests.bench import batch, holders, load, pages, pdfs, report, targets

    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    out = Path(args.out)
    commit, dirty = git_commit()
    results = {
        "meta": {"generated_at": datetime.datetime.now().astimezone().isoformat(
            timespec="seconds"), "git_commit": commit, "git_dirty": dirty,
            "debug": settings.DEBUG, "warmup": args.warmup, "repeat": args.repeat,
            "python": sys.version.split()[0]},
        "database": {"vendor": connection.vendor,
                     "name": str(settings.DATABASES["default"]["NAME"])},
        "broker": settings.CELERY_BROKER_URL or None,
        "scale": scale_figures(args.scale),
    }
    chosen = targets.choose()
    results["targets"] = targets.describe(chosen)

    results["pages"] = []
    if "pages" not in skip:
        search_user = national_search_user(chosen)
        only = {k.strip() for k in args.only.split(",") if k.strip()}
        measured = pages.key_pages(chosen, search_user=search_user)
        # As in a production web worker: deploy/gunicorn.conf.py freezes what the preload
        # loaded, so that the collector's passes during requests do not walk it again.
        # Without it, a page that leaves thousands of objects in reference cycles (model
        # instances and their caches) pays for passes over the whole process.
        gc.collect()
        gc.freeze()
        for page in measured:
            if only and page.key not in only:
                continue
            step(f"… {page.label}")
            results["pages"].append(pages.run_page(page, warmup=args.warmup,
                                                   repeat=args.repeat))
    results["search"] = [
        {"key": p["key"], "label": p["label"], "user": p["user"], "url": p["url"],
         "status": p.get("status"), "median_ms": p.get("median_ms"), "p95_ms": p.get("p95_ms"),
         "budget_ms": report.SEARCH_MEDIAN_MS,
         "budget_ok": bool(p["budget"].get("status") and p["budget"].get("median"))}
        for p in results["pages"] if p["group"] == "search"]
    if "pdf" not in skip:
        step("… PDF")
        results["pdf"] = pdfs.run(args.pdf_runs)
    if "holders" not in skip:
        step("… fichier des titulaires (manage.py export_holders)")
        results["holders"] = holders.run(out)
    if "batch" not in skip:
        step("… lot de PDF (worker Celery)")
        results["batch"] = batch.run(out, size=args.batch_size)
    if "load" not in skip:
        step(f"… charge ({args.load_seconds} s)")
        results["load"] = load.run(out, users=args.load_users, seconds=args.load_seconds,
                                   wait=args.load_wait)
    results["notes"] = chosen.notes
    verdicts = [p["budget_ok"] for p in results["pages"]]
    verdicts += [part["budget_ok"] for part in [results.get("pdf", {}).get("grid", {}),
                                                results.get("holders", {}),
                                                results.get("batch", {}),
                                                results.get("load", {})]
                 if "budget_ok" in part]
    results["budgets_ok"] = all(verdicts)
    results["budget_limits"] = {
        "page_max_queries": report.PAGE_MAX_QUERIES, "page_max_ratio": report.PAGE_MAX_RATIO,
        "autosave_median_ms": report.AUTOSAVE_MEDIAN_MS,
        "search_median_ms": report.SEARCH_MEDIAN_MS, "grid_pdf_s": report.GRID_PDF_S,
        "batch_100_s": report.BATCH_100_S, "load_p95_ms": report.LOAD_P95_MS,
        "holders_awards": report.HOLDERS_AWARDS, "holders_s": report.HOLDERS_S,
        "holders_peak_mib": report.HOLDERS_PEAK_MIB}
    return results


def main(argv=None) -> int:
    args = parse(argv)
    configure_environment()
    import django

    django.setup()
    # 404s of pages a role may not see are results, not log noise.
    logging.getLogger("django.request").setLevel(logging.ERROR)
    logging.getLogger("django.security").setLevel(logging.ERROR)
    from django.db import connection
    from django.test import override_settings

    from candidates.models import Registration
    from tests.bench import report

    if not Registration.objects.exists():
        sys.exit("La base du banc est vide : lancez « make bench » (migrate + seed_demo) "
                 f"ou chargez la démonstration dans {os.environ['DATABASE_URL']}.")
    if not {"pages", "load"} <= {s.strip() for s in args.skip.split(",")}:
        ensure_static()  # the pages (and gunicorn) only
    with override_settings(ROOT_URLCONF="tests.bench.urls"):
        results = collect(args)
    json_path, md_path = report.write(results, Path(args.out))
    print(report.markdown(results))
    print(f"Résultats : {json_path} et {md_path} ({connection.vendor}).", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
