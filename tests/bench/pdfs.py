"""PDF rendering time, synchronously in the bench process (no Celery): the signed grid with
the most criteria, a procès-verbal (the PV of the session with the most candidates), and the
annual activity report of every centre (issue 10)."""

import statistics
from time import perf_counter

from django.db.models import Count

from evaluations import documents_jury, pdf
from evaluations.models import GeneratedDocument, GridState
from reporting import statistics as reporting_statistics
from reporting.statistics_exports import annual_report_pdf
from tests.bench import report
from tests.bench.targets import grid_with_most_criteria

RUNS = 5


def _time(render, runs: int) -> dict:
    render()  # warm-up: WeasyPrint loads its fonts once per process
    durations, size = [], 0
    for _ in range(max(1, runs)):
        start = perf_counter()
        content = render()
        durations.append(perf_counter() - start)
        size = len(content)
    return {"median_s": round(statistics.median(durations), 3),
            "max_s": round(max(durations), 3), "runs": len(durations), "size": size}


def grid_pdf_timing(runs: int = RUNS) -> dict:
    grid, criteria = grid_with_most_criteria(GridState.SIGNED)
    document = pdf.current_document(grid) if grid is not None else None
    if document is None:
        return {"skipped": "aucune grille signée avec son document"}
    result = {"grid": grid.pk, "document": document.pk, "criteria": criteria,
              "detail": f"{criteria} critères (grille {grid.pk})",
              **_time(lambda: pdf.grid_pdf(document), runs)}
    result["budget_ok"] = result["median_s"] <= report.GRID_PDF_S
    return result


def pv_pdf_timing(runs: int = 3) -> dict:
    document = (GeneratedDocument.objects.filter(kind=GeneratedDocument.Kind.PV)
                .annotate(n=Count("session__candidates")).order_by("-n", "-pk").first())
    if document is None:
        return {"skipped": "aucun procès-verbal signé dans la base"}
    result = {"document": document.pk, "candidates": document.n,
              "detail": f"{document.n} candidats (session {document.session_id})",
              **_time(lambda: documents_jury.document_pdf(document), runs)}
    return result


def annual_report_timing(runs: int = 3) -> dict:
    """The « Rapport annuel d'activité » of the current year over every centre."""
    start, end = reporting_statistics.default_period()
    filters = reporting_statistics.Filters(start=start, end=end, centre_ids=None)
    result = {"detail": f"tous les centres, {start:%Y}",
              **_time(lambda: annual_report_pdf(filters), runs)}
    result["budget_ok"] = result["median_s"] <= report.ANNUAL_REPORT_PDF_S
    return result


def run(runs: int = RUNS) -> dict:
    return {"grid": grid_pdf_timing(runs), "pv": pv_pdf_timing(max(1, runs - 2)),
            "annual_report": annual_report_timing(max(1, runs - 2))}
