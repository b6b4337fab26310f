"""The figures a centre reports each year to the branch and to France Compétences
(DOMAIN.md §7 « Statistics »): candidates registered, decisions and success rates, delays
from registration to decision, evaluator load and expiring habilitations, juries held, CPNE
bundles and declarations to the Caisse des Dépôts sent on time.

Every figure is an aggregate query (Count, conditional aggregation, GROUP BY); percentiles
read at most two ordered rows per percentile (an OFFSET into the ordered delays, the same
interpolation as PostgreSQL's ``percentile_cont``), so that the page runs the same number
of queries whatever the volume and works on SQLite as on PostgreSQL. Nothing here loops over
rows: the only Python loops run over a handful of groups (paths, certifications).
"""

import dataclasses
import datetime
import hashlib
import math

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import (
    Aggregate,
    Count,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Value,
)
from django.db.models.functions import ExtractDay, ExtractMonth, ExtractYear
from django.utils import timezone
from django.utils.translation import gettext as _

from candidates.models import Outcome, Path, Registration
from certifications.models import Centre, Certification, Role
from certifications.scoping import has_role, staff_centre_ids
from commissions.models import (
    Answer,
    Commission,
    CommissionMember,
    CommissionStatus,
    Evaluator,
    Habilitation,
    JurySession,
    SessionStatus,
)
from evaluations.models import Decision

HABILITATION_WARNING_DAYS = 60
TOP_EVALUATORS = 20
TOP_CERTIFICATIONS = 15


# ---------------------------------------------------------------------------
# Who sees what
# ---------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Scope:
    """The centres a user may read figures of: ``centre_ids`` None means every centre (the
    national read-only role)."""

    centre_ids: tuple[int, ...] | None

    @property
    def is_national(self) -> bool:
        return self.centre_ids is None


def statistics_scope(user) -> Scope | None:
    """Staff of a centre read their centre(s); the national read-only role reads every
    centre; anyone else (evaluators, jury members, personal links) reads nothing (None)."""
    if has_role(user, Role.NATIONAL):
        return Scope(centre_ids=None)
    centres = staff_centre_ids(user)
    return Scope(centre_ids=tuple(centres)) if centres else None


@dataclasses.dataclass(frozen=True)
class Filters:
    """What the figures are computed over. ``centre_ids`` None: every centre."""

    start: datetime.date
    end: datetime.date
    centre_ids: tuple[int, ...] | None
    certification_id: int | None = None
    kind: str = ""
    path: str = ""
    today: datetime.date = dataclasses.field(default_factory=timezone.localdate)


def centre_names(filters: Filters) -> list[str]:
    """The names of the centres the figures cover (every centre for the national role)."""
    return list(_in_centres(Centre.objects.order_by("name"), filters, "pk")
                .values_list("name", flat=True))


def default_period(today: datetime.date | None = None) -> tuple[datetime.date, datetime.date]:
    """The current calendar year, the period of the annual report."""
    today = today or timezone.localdate()
    return datetime.date(today.year, 1, 1), datetime.date(today.year, 12, 31)


def _in_centres(queryset: QuerySet, filters: Filters, field: str) -> QuerySet:
    if filters.centre_ids is None:
        return queryset
    return queryset.filter(**{f"{field}__in": filters.centre_ids})


def _on_certification(queryset: QuerySet, filters: Filters, prefix: str) -> QuerySet:
    """Filter by certification, kind and path through the registration at ``prefix``."""
    if filters.certification_id:
        queryset = queryset.filter(**{f"{prefix}version__certification_id":
                                      filters.certification_id})
    if filters.kind:
        queryset = queryset.filter(**{f"{prefix}version__certification__kind": filters.kind})
    if filters.path:
        queryset = queryset.filter(**{f"{prefix}path": filters.path})
    return queryset


def _percent(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


# ---------------------------------------------------------------------------
# Candidates registered
# ---------------------------------------------------------------------------
def registrations(filters: Filters) -> QuerySet[Registration]:
    """Registrations made in the period (registration date), abandoned ones included."""
    queryset = Registration.objects.filter(registered_on__range=(filters.start, filters.end))
    return _on_certification(_in_centres(queryset, filters, "centre_id"), filters, "")


def registrations_by_path(filters: Filters) -> dict[str, int]:
    """One GROUP BY query: {path: registrations}, every path present (0 when none)."""
    counts = dict(registrations(filters).order_by().values_list("path")
                  .annotate(n=Count("pk")))
    return {path: counts.get(path, 0) for path in Path.values}


# ---------------------------------------------------------------------------
# Decisions
# ---------------------------------------------------------------------------
def current_decisions(filters: Filters) -> QuerySet[Decision]:
    """The decisions in force: final (PV signed) and not superseded by a correction, of
    juries held in the period (the jury's date is the decision's date)."""
    # NOT EXISTS and the period's sessions as a subquery: the LEFT JOIN … IS NULL that
    # ``superseded_by__isnull`` writes was estimated at one row, and PostgreSQL then walked
    # every decision through nested loops (≈ 45 ms per figure at N=20, against ≈ 10 ms).
    corrections = Decision.objects.filter(supersedes=OuterRef("pk"))
    sessions = JurySession.objects.filter(date__range=(filters.start, filters.end))
    queryset = Decision.objects.filter(
        final_at__isnull=False, session_candidate__session__in=sessions.values("pk"),
    ).exclude(Exists(corrections))
    return _on_certification(_in_centres(queryset, filters, "registration__centre_id"),
                             filters, "registration__")


def _outcome_counts() -> dict:
    return {
        "total": Count("pk"),
        "passed": Count("pk", filter=Q(outcome=Outcome.PASSED)),
        "partial": Count("pk", filter=Q(outcome=Outcome.PARTIAL)),
        "failed": Count("pk", filter=Q(outcome=Outcome.FAILED)),
    }


def _with_rates(counts: dict) -> dict:
    total = counts["total"]
    return {**counts,
            "passed_rate": _percent(counts["passed"], total),
            "partial_rate": _percent(counts["partial"], total),
            "failed_rate": _percent(counts["failed"], total)}


def decision_totals(filters: Filters) -> dict:
    """One query: decisions admis / admis partiel / non admis and their rates (of all
    decisions in force)."""
    return _with_rates(current_decisions(filters).aggregate(**_outcome_counts()))


def decisions_by_path(filters: Filters) -> dict[str, dict]:
    """One GROUP BY query: {path: outcome counts and rates}, every path present."""
    rows = {row["registration__path"]: row for row in
            current_decisions(filters).order_by().values("registration__path")
            .annotate(**_outcome_counts())}
    empty = {"total": 0, "passed": 0, "partial": 0, "failed": 0}
    return {path: _with_rates({key: rows.get(path, empty)[key] for key in empty})
            for path in Path.values}


def _delay():
    return ExpressionWrapper(
        F("session_candidate__session__date") - F("registration__registered_on"),
        output_field=DurationField())


class _PercentileCont(Aggregate):
    """PostgreSQL's ``percentile_cont(f) WITHIN GROUP (ORDER BY …)``: one sort for the
    percentile, where the portable OFFSET reading below made the planner walk the joins in
    delay order (≈ 0.3 s per percentile at N=20)."""

    function = "percentile_cont"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"

    def __init__(self, expression, fraction: float, **extra):
        super().__init__(expression, fraction=float(fraction), output_field=DurationField(),
                         **extra)


def delay_percentiles(filters: Filters, count: int) -> tuple[float | None, float | None]:
    """The median and 90th percentile of the days from registration to decision,
    interpolated as ``percentile_cont``. PostgreSQL: one aggregate query. Elsewhere: for
    each, the two ordered delays around rank ``fraction × (count − 1)``, read with one OFFSET
    query. ``count``: the number of decisions, known from ``decision_totals``."""
    if not count:
        return None, None
    if connection.vendor == "postgresql":
        found = current_decisions(filters).aggregate(
            median=_PercentileCont(_delay(), 0.5), p90=_PercentileCont(_delay(), 0.9))
        return tuple(None if found[key] is None else round(found[key].total_seconds() / 86400, 1)
                     for key in ("median", "p90"))
    return _offset_percentile(filters, 0.5, count), _offset_percentile(filters, 0.9, count)


def _offset_percentile(filters: Filters, fraction: float, count: int) -> float:
    rank = fraction * (count - 1)
    low = math.floor(rank)
    delays = (current_decisions(filters).annotate(delay=_delay())
              .order_by("delay", "pk").values_list("delay", flat=True)[low:low + 2])
    days = [delay.total_seconds() / 86400 for delay in delays]
    if len(days) == 1 or rank == low:
        return round(days[0], 1)
    return round(days[0] + (days[1] - days[0]) * (rank - low), 1)


# ---------------------------------------------------------------------------
# Breakdown by certification
# ---------------------------------------------------------------------------
def by_certification(filters: Filters) -> list[dict]:
    """Two GROUP BY queries (registrations, decisions) merged per certification, the most
    registered first."""
    registered = dict(registrations(filters).order_by()
                      .values_list("version__certification_id").annotate(n=Count("pk")))
    decided = {row["registration__version__certification_id"]: row for row in
               current_decisions(filters).order_by()
               .values("registration__version__certification_id")
               .annotate(**_outcome_counts())}
    ids = set(registered) | set(decided)
    labels = {pk: f"{kind} {code} — {title}" for pk, kind, code, title in
              Certification.objects.filter(pk__in=ids)
              .values_list("pk", "kind", "code", "title")} if ids else {}
    rows = []
    empty = {"total": 0, "passed": 0, "partial": 0, "failed": 0}
    for pk in ids:  # one item per certification, not per row
        counts = decided.get(pk, empty)
        rows.append({"label": labels.get(pk, str(pk)), "registered": registered.get(pk, 0),
                     **_with_rates({key: counts[key] for key in empty})})
    return sorted(rows, key=lambda row: (-row["registered"], -row["total"], row["label"]))


# ---------------------------------------------------------------------------
# Evaluators
# ---------------------------------------------------------------------------
def _sat_in_period(filters: Filters, prefix: str = "memberships__") -> Q:
    """A membership of a commission held in the period, not cancelled, not declined."""
    return (Q(**{f"{prefix}commission__date__range": (filters.start, filters.end)})
            & ~Q(**{f"{prefix}commission__status": CommissionStatus.CANCELLED})
            & ~Q(**{f"{prefix}answer": Answer.DECLINED}))


def evaluator_activity(filters: Filters) -> dict:
    """Two aggregate queries: commissions held in the period and candidates scheduled in
    them; active evaluators and those who sat at least once."""
    commissions = _in_centres(
        Commission.objects.filter(date__range=(filters.start, filters.end))
        .exclude(status=CommissionStatus.CANCELLED), filters, "centre_id",
    ).aggregate(commissions=Count("pk", distinct=True),
                candidates=Count("scheduled", distinct=True))
    evaluators = _in_centres(Evaluator.objects.filter(is_active=True), filters,
                             "centre_id").aggregate(
        active=Count("pk", distinct=True),
        sitting=Count("pk", distinct=True, filter=_sat_in_period(filters)))
    return {**commissions, **evaluators}


def evaluator_load(filters: Filters, limit: int = TOP_EVALUATORS) -> list[dict]:
    """One query: the most solicited evaluators of the period, with the commissions they
    sat on and the candidates scheduled in those commissions. It starts from the period's
    seats, so the join never walks every membership ever (a FILTER on an evaluator-wide
    join sorted ≈ 36 000 rows on disk at N=20)."""
    seats = _in_centres(
        CommissionMember.objects.filter(_sat_in_period(filters, prefix=""),
                                        evaluator__is_active=True),
        filters, "evaluator__centre_id")
    rows = (seats.values("evaluator_id", "evaluator__user__first_name",
                         "evaluator__user__last_name", "evaluator__user__username")
            .annotate(commissions=Count("commission", distinct=True),
                      candidates=Count("commission__scheduled", distinct=True))
            .order_by("-candidates", "-commissions", "evaluator__user__last_name",
                      "evaluator_id")[:limit])
    return [{"name": (f"{row['evaluator__user__first_name']} "
                      f"{row['evaluator__user__last_name']}".strip()
                      or row["evaluator__user__username"]),
             "commissions": row["commissions"], "candidates": row["candidates"]}
            for row in rows]


def expiring_habilitations(filters: Filters, limit: int = TOP_EVALUATORS) -> dict:
    """Habilitations of active evaluators ending within 60 days (from today) and not
    followed by a later one: a count (one query) and the first ``limit`` (one query)."""
    later = Habilitation.objects.filter(evaluator=OuterRef("evaluator"),
                                        valid_until__gt=OuterRef("valid_until"))
    queryset = _in_centres(
        Habilitation.objects.filter(
            evaluator__is_active=True,
            valid_until__range=(filters.today, filters.today + datetime.timedelta(
                days=HABILITATION_WARNING_DAYS)))
        .exclude(Exists(later)), filters, "evaluator__centre_id")
    rows = (queryset.order_by("valid_until", "pk")
            .values("valid_until", "evaluator__user__first_name", "evaluator__user__last_name",
                    "evaluator__user__username")[:limit])
    return {
        "count": queryset.count(),
        "rows": [{"name": (f"{row['evaluator__user__first_name']} "
                           f"{row['evaluator__user__last_name']}".strip()
                           or row["evaluator__user__username"]),
                  "valid_until": row["valid_until"]} for row in rows],
    }


# ---------------------------------------------------------------------------
# Juries and CPNE bundles
# ---------------------------------------------------------------------------
def _month_index(field: str):
    return ExtractYear(field) * 12 + ExtractMonth(field)


def jury_figures(filters: Filters) -> dict:
    """One aggregate query over the juries held in the period (PV signed): how many, and
    their CPNE bundles sent on time, sent late, overdue (not sent, deadline passed) and
    pending. The deadline is the jury's date + settings.JURIES["CPNE_BUNDLE_MONTHS"] months,
    the day clipped to the month's end as ``relativedelta`` does: a date ``s`` is on time
    when its month comes before the deadline's, or is the deadline's with ``s.day`` ≤ the
    jury's day (``s.day`` never passes the month's end). Month indexes (year × 12 + month)
    make it portable SQL."""
    months = settings.JURIES["CPNE_BUNDLE_MONTHS"]
    sessions = _in_centres(
        JurySession.objects.filter(date__range=(filters.start, filters.end),
                                   status=SessionStatus.CLOSED), filters, "centre_id")
    if filters.certification_id or filters.kind:
        matching = Certification.objects.all()
        if filters.certification_id:
            matching = matching.filter(pk=filters.certification_id)
        if filters.kind:
            matching = matching.filter(kind=filters.kind)
        sessions = sessions.filter(pk__in=JurySession.objects.filter(
            certifications__in=matching).values("pk"))
    today_index = filters.today.year * 12 + filters.today.month
    sessions = sessions.annotate(deadline_index=_month_index("date") + Value(months),
                                 jury_day=ExtractDay("date"),
                                 sent_index=_month_index("cpne_bundle_sent_on"),
                                 sent_day=ExtractDay("cpne_bundle_sent_on"))
    sent = Q(cpne_bundle_sent_on__isnull=False)
    sent_on_time = sent & (Q(sent_index__lt=F("deadline_index"))
                           | Q(sent_index=F("deadline_index"), sent_day__lte=F("jury_day")))
    still_in_time = (Q(deadline_index__gt=today_index)
                     | Q(deadline_index=today_index, jury_day__gte=filters.today.day))
    figures = sessions.aggregate(
        held=Count("pk"),
        on_time=Count("pk", filter=sent_on_time),
        late=Count("pk", filter=sent & ~sent_on_time),
        overdue=Count("pk", filter=~sent & ~still_in_time),
        pending=Count("pk", filter=~sent & still_in_time))
    figures["on_time_rate"] = _percent(figures["on_time"], figures["held"])
    return figures


# ---------------------------------------------------------------------------
# Declarations to the Caisse des Dépôts
# ---------------------------------------------------------------------------
def declaration_figures(filters: Filters) -> dict | None:
    """One aggregate query over the awards (reporting.models.Award) decided in the period,
    withdrawn ones left out: how many are due, declared within their 3-month deadline,
    declared late, overdue (not declared, deadline passed) and pending. Isolated here, and
    None (« non disponible ») should the declarations' tables be missing."""
    try:
        from reporting.models import Award, AwardState
    except ImportError:  # the declarations are another part of the app, built separately
        return None
    awards = _on_certification(_in_centres(
        Award.objects.filter(decided_on__range=(filters.start, filters.end))
        .exclude(state=AwardState.WITHDRAWN), filters, "centre_id"), filters, "registration__")
    declared = Q(declared_on__isnull=False)
    in_time = Q(declared_on__lte=F("deadline"))
    figures = awards.aggregate(
        due=Count("pk"),
        on_time=Count("pk", filter=declared & in_time),
        late=Count("pk", filter=declared & ~in_time),
        overdue=Count("pk", filter=~declared & Q(deadline__lt=filters.today)),
        pending=Count("pk", filter=~declared & Q(deadline__gte=filters.today)))
    figures["on_time_rate"] = _percent(figures["on_time"], figures["due"])
    return figures


# ---------------------------------------------------------------------------
# Everything the page, the exports and the annual report show
# ---------------------------------------------------------------------------
def compute(filters: Filters) -> dict:
    """Every figure, in a bounded number of queries (about fifteen) whatever the volume."""
    decisions = decision_totals(filters)
    by_path = registrations_by_path(filters)
    return {
        "filters": filters,
        "registered": sum(by_path.values()),  # a handful of paths, not rows
        "registrations_by_path": by_path,
        "decisions": decisions,
        "decisions_by_path": decisions_by_path(filters),
        **dict(zip(("delay_median", "delay_p90"),
                   delay_percentiles(filters, decisions["total"]), strict=True)),
        "by_certification": by_certification(filters),
        "evaluators": evaluator_activity(filters),
        "evaluator_load": evaluator_load(filters),
        "habilitations": expiring_habilitations(filters),
        "juries": jury_figures(filters),
        "declarations": declaration_figures(filters),
        "cpne_months": settings.JURIES["CPNE_BUNDLE_MONTHS"],
    }


def _cache_key(filters: Filters) -> str:
    # The filters hold only dates, ids and short strings: their repr is a stable identity.
    digest = hashlib.sha256(repr(dataclasses.astuple(filters)).encode()).hexdigest()
    return f"reporting:statistics:{digest}"


def cached_compute(filters: Filters, *, refresh: bool = False) -> dict:
    """``compute``, kept in the shared cache for settings.STATISTICS["CACHE_SECONDS"] (0: never
    kept) and stamped with when it was computed (``computed_at``), which the page shows.

    The figures of a year are read many times and change slowly; over a whole branch they
    cost ~0.1 s of aggregates. ``refresh`` (the page's « Recalculer ») computes again and
    replaces the kept figures. The exports and the annual report always compute afresh."""
    timeout = settings.STATISTICS["CACHE_SECONDS"]
    key = _cache_key(filters)
    if timeout and not refresh:
        kept = cache.get(key)
        if kept is not None:
            return kept
    stats = {**compute(filters), "computed_at": timezone.now()}
    if timeout:
        cache.set(key, stats, timeout)
    return stats


# ---------------------------------------------------------------------------
# Charts (drawn by Chart.js on the page, as SVG in the PDF) and the flat table of exports
# ---------------------------------------------------------------------------
def charts(stats: dict) -> list[dict]:
    """Each chart: an id, a title, its labels and datasets — the page's data tables, the
    browser's charts, the PDF's SVG all read this one structure."""
    path_labels = dict(Path.choices)
    by_path = stats["decisions_by_path"]
    certifications = stats["by_certification"][:TOP_CERTIFICATIONS]
    load = stats["evaluator_load"]
    charts = [
        {"id": "registrations-by-path", "title": _("Candidats inscrits par parcours"),
         "labels": [str(path_labels[p]) for p in Path.values],
         "datasets": [{"label": _("Inscrits"),
                       "data": list(stats["registrations_by_path"].values())}]},
        {"id": "decisions-by-path", "title": _("Décisions par parcours"), "stacked": True,
         "labels": [str(path_labels[p]) for p in Path.values],
         "datasets": [
             {"label": _("Admis"), "data": [by_path[p]["passed"] for p in Path.values]},
             {"label": _("Admis partiellement"),
              "data": [by_path[p]["partial"] for p in Path.values]},
             {"label": _("Non admis"), "data": [by_path[p]["failed"] for p in Path.values]},
         ]},
        {"id": "by-certification", "title": _("Inscrits et décisions par certification"),
         "labels": [row["label"] for row in certifications],
         "datasets": [{"label": _("Inscrits"), "data": [r["registered"] for r in certifications]},
                      {"label": _("Décisions"), "data": [r["total"] for r in certifications]}]},
        {"id": "evaluator-load", "title": _("Charge des évaluateurs"),
         "labels": [row["name"] for row in load],
         "datasets": [{"label": _("Commissions"), "data": [r["commissions"] for r in load]},
                      {"label": _("Candidats évalués"), "data": [r["candidates"] for r in load]}]},
        {"id": "cpne-bundles", "title": _("Dossiers CPNE des jurys tenus"),
         "labels": [_("Envoyés dans le délai"), _("Envoyés en retard"), _("En retard, non envoyés"),
                    _("À envoyer (dans le délai)")],
         "datasets": [{"label": _("Jurys"), "data": [
             stats["juries"]["on_time"], stats["juries"]["late"], stats["juries"]["overdue"],
             stats["juries"]["pending"]]}]},
    ]
    declarations = stats["declarations"]
    if declarations is not None:
        charts.append({
            "id": "declarations", "title": _("Déclarations à la Caisse des Dépôts"),
            "labels": [_("Déclarées dans le délai"), _("Déclarées en retard"),
                       _("Non déclarées, délai dépassé"), _("Non déclarées, dans le délai")],
            "datasets": [{"label": _("Titulaires"), "data": [
                declarations["on_time"], declarations["late"], declarations["overdue"],
                declarations["pending"]]}]})
    for chart in charts:  # the data table beside each chart: one row per label
        chart["rows"] = [{"label": label, "values": [d["data"][i] for d in chart["datasets"]]}
                         for i, label in enumerate(chart["labels"])]
    return charts


def _value(value) -> object:
    return "" if value is None else value


def figure_rows(stats: dict) -> list[tuple[str, str, object]]:
    """The figures as (section, indicator, value) rows: what the CSV and XLSX exports hold."""
    decisions, juries, evaluators = stats["decisions"], stats["juries"], stats["evaluators"]
    declarations = stats["declarations"]
    path_labels = dict(Path.choices)
    section = _("Candidats")
    rows = [(section, _("Candidats inscrits"), stats["registered"])]
    rows += [(section, _("Inscrits — %(path)s") % {"path": path_labels[p]}, n)
             for p, n in stats["registrations_by_path"].items()]
    section = _("Décisions")
    rows += [
        (section, _("Décisions"), decisions["total"]),
        (section, _("Admis"), decisions["passed"]),
        (section, _("Admis partiellement"), decisions["partial"]),
        (section, _("Non admis"), decisions["failed"]),
        (section, _("Taux de réussite complète (%)"), _value(decisions["passed_rate"])),
        (section, _("Taux de validation partielle (%)"), _value(decisions["partial_rate"])),
        (section, _("Taux d'échec (%)"), _value(decisions["failed_rate"])),
        (section, _("Délai médian inscription → décision (jours)"), _value(stats["delay_median"])),
        (section, _("Délai 90e centile inscription → décision (jours)"),
         _value(stats["delay_p90"])),
    ]
    for p, counts in stats["decisions_by_path"].items():
        rows.append((section, _("Décisions — %(path)s (admis / partiel / non admis)")
                     % {"path": path_labels[p]},
                     f"{counts['passed']} / {counts['partial']} / {counts['failed']}"))
    section = _("Par certification")
    for row in stats["by_certification"]:
        rows.append((section, row["label"],
                     _("%(registered)s inscrits, %(total)s décisions, %(passed)s admis")
                     % row))
    section = _("Évaluateurs")
    rows += [
        (section, _("Commissions tenues"), evaluators["commissions"]),
        (section, _("Candidats convoqués en commission"), evaluators["candidates"]),
        (section, _("Évaluateurs actifs"), evaluators["active"]),
        (section, _("Évaluateurs ayant siégé"), evaluators["sitting"]),
        (section, _("Habilitations expirant sous 60 jours"), stats["habilitations"]["count"]),
    ]
    rows += [(section, _("Charge — %(name)s (commissions / candidats)") % {"name": r["name"]},
              f"{r['commissions']} / {r['candidates']}") for r in stats["evaluator_load"]]
    section = _("Jurys")
    rows += [
        (section, _("Jurys tenus"), juries["held"]),
        (section, _("Dossiers CPNE envoyés dans le délai"), juries["on_time"]),
        (section, _("Dossiers CPNE envoyés en retard"), juries["late"]),
        (section, _("Dossiers CPNE en retard, non envoyés"), juries["overdue"]),
        (section, _("Dossiers CPNE à envoyer"), juries["pending"]),
        (section, _("Taux d'envoi dans le délai (%)"), _value(juries["on_time_rate"])),
    ]
    section = _("Caisse des Dépôts")
    if declarations is None:
        rows.append((section, _("Déclarations envoyées dans le délai"), _("non disponible")))
    else:
        rows += [(section, _("Titulaires à déclarer (décisions de la période)"),
                  declarations["due"]),
                 (section, _("Déclarations envoyées dans le délai"), declarations["on_time"]),
                 (section, _("Déclarations envoyées en retard"), declarations["late"]),
                 (section, _("Non déclarés, délai dépassé"), declarations["overdue"]),
                 (section, _("Non déclarés, dans le délai"), declarations["pending"])]
    return rows

