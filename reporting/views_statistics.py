"""The « Statistiques » page, its CSV/XLSX export and the « Rapport annuel d'activité » PDF.
Staff of a centre read their centre(s), the national read-only role every centre; anyone
else gets a 404 (DESIGN.md §2)."""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from candidates.exports import XLSX_CONTENT_TYPE
from reporting import statistics, statistics_exports
from reporting.forms_statistics import StatisticsFilterForm, period_label

REFRESH_PARAMETER = "recalculer"


def _query(request):
    """The filters of the address, without what only asks how to answer."""
    query = request.GET.copy()
    query.pop("format", None)
    query.pop(REFRESH_PARAMETER, None)
    return query


def _figures(request, *, cached: bool = False) -> tuple[StatisticsFilterForm, dict]:
    scope = statistics.statistics_scope(request.user)
    if scope is None:
        raise Http404
    query = _query(request)
    form = StatisticsFilterForm(query or None, scope=scope)
    filters = form.filters()
    if cached:
        return form, statistics.cached_compute(
            filters, refresh=REFRESH_PARAMETER in request.GET)
    return form, statistics.compute(filters)


def _without_format(request) -> str:
    return _query(request).urlencode()


@login_required
def statistics_page(request):
    form, stats = _figures(request, cached=True)
    filters = stats["filters"]
    query_string = _without_format(request)
    return render(request, "reporting/statistics.html", {
        "form": form, "stats": stats, "charts": statistics.charts(stats),
        "period": period_label(filters.start, filters.end),
        "query_string": query_string,
        "refresh_query": f"{query_string}&{REFRESH_PARAMETER}=1" if query_string
        else f"{REFRESH_PARAMETER}=1",
        "cache_minutes": round(settings.STATISTICS["CACHE_SECONDS"] / 60),
    })


@login_required
def statistics_export(request):
    """The figures as CSV (default) or XLSX (``?format=xlsx``), with the page's filters."""
    _form, stats = _figures(request)
    name = f"statistiques-{timezone.localdate():%Y%m%d}"
    if request.GET.get("format") == "xlsx":
        response = HttpResponse(statistics_exports.xlsx_bytes(stats),
                                content_type=XLSX_CONTENT_TYPE)
        response["Content-Disposition"] = f'attachment; filename="{name}.xlsx"'
        return response
    response = HttpResponse(statistics_exports.csv_text(stats),
                            content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    return response


@login_required
def annual_report(request):
    """The « Rapport annuel d'activité » PDF, over the page's filters."""
    scope = statistics.statistics_scope(request.user)
    if scope is None:
        raise Http404
    filters = StatisticsFilterForm(request.GET or None, scope=scope).filters()
    response = HttpResponse(statistics_exports.annual_report_pdf(filters),
                            content_type="application/pdf")
    response["Content-Disposition"] = (
        f'inline; filename="rapport-annuel-{filters.start:%Y}.pdf"')
    return response
