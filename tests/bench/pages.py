"""The key pages of issue 7, each measured in-process as its real user with its floor.

A page is measured by ``run_page``: query count, median and p95 server time, size, the floor
for that size, their ratio and the budgets (``tests.bench.report``)."""

import json
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.urls import NoReverseMatch, reverse

from evaluations.models import CriterionResult
from tests.bench import report
from tests.bench.measure import REPEAT, WARMUP, bench_client, measure, measure_with_floor, ratio
from tests.bench.targets import Targets

ADMIN_CHANGELISTS = [
    ("candidates", "registration", "inscriptions"),
    ("candidates", "candidate", "candidats"),
    ("commissions", "commission", "commissions"),
    ("evaluations", "grid", "grilles"),
    ("evaluations", "decision", "décisions"),
    ("commissions", "evaluator", "évaluateurs"),
]


@dataclass
class Page:
    key: str  # stable identifier in results.json
    label: str  # French, for the table
    url_name: str
    user: object | None  # None: anonymous
    url: str = ""
    group: str = "page"  # page | search | autosave | admin
    # Builds the request function for a logged-in client (default: GET url).
    sender: Callable | None = None
    user_label: str = ""
    notes: list[str] = field(default_factory=list)

    def send_function(self, client) -> Callable:
        if self.sender is not None:
            return self.sender(client)
        return lambda: client.get(self.url)


def _username(user) -> str:
    return user.get_username() if user is not None else "anonyme"


# ---------------------------------------------------------------------------
# Autosave: every measured request carries the row's current revision, so each one saves
# ---------------------------------------------------------------------------
def autosave_sender(grid, row: CriterionResult, field_name: str, values: Callable[[int], str]):
    """A request function posting ``values(i)`` into ``field_name`` of ``row`` as grid.js
    does (row, field, value, revision), following the revision the server returns."""
    url = reverse("grids:save_field", args=[grid.pk])

    def build(client):
        state = {"revision": CriterionResult.objects.get(pk=row.pk).revision, "count": 0}

        def send():
            state["count"] += 1
            response = client.post(url, {
                "row_kind": "criterion", "row_id": row.pk, "field": field_name,
                "value": values(state["count"]), "revision": state["revision"],
            }, HTTP_HX_REQUEST="true")
            if response.status_code == 200:
                state["revision"] = int(response["X-Grid-Revision"])
            elif response.status_code == 409:
                state["revision"] = json.loads(response.content)["revision"]
            return response
        return send
    return build


def autosave_pages(targets: Targets) -> list[Page]:
    grid = targets.grid
    row = (CriterionResult.objects.filter(competence_result__grid=grid)
           .order_by("competence_result__competence__order", "criterion__order", "pk").first())
    if row is None:
        return []
    stamp = time.strftime("%H%M%S")
    first = "non" if row.satisfied else "oui"
    other = "oui" if first == "non" else "non"
    return [
        Page("autosave_notes", "Enregistrement d'un champ (observations)", "grids:save_field",
             targets.evaluator, group="autosave", user_label=_username(targets.evaluator),
             url=reverse("grids:save_field", args=[grid.pk]),
             sender=autosave_sender(grid, row, "notes", lambda i: f"Mesure {stamp}-{i}")),
        Page("autosave_satisfied", "Enregistrement d'un champ (satisfait, recalcul du "
             "panneau)", "grids:save_field", targets.evaluator, group="autosave",
             user_label=_username(targets.evaluator),
             url=reverse("grids:save_field", args=[grid.pk]),
             sender=autosave_sender(grid, row, "satisfied",
                                    lambda i: first if i % 2 else other)),
    ]


# ---------------------------------------------------------------------------
# The list of pages
# ---------------------------------------------------------------------------
def list_url(**params) -> str:
    base = reverse("candidates:registration_list")
    return f"{base}?{urlencode(params)}" if params else base


def key_pages(targets: Targets, *, search_user=None) -> list[Page]:
    """The pages to measure. ``search_user`` searches every centre (default: the national
    reader)."""
    t = targets
    staff, national = t.staff, t.national
    pages = [
        Page("dashboard_staff", "Tableau de bord — gestionnaire", "dashboard", staff,
             url=reverse("dashboard")),
    ]
    if t.evaluator is not None:
        pages.append(Page("dashboard_evaluator", "Tableau de bord — évaluateur", "dashboard",
                          t.evaluator, url=reverse("dashboard")))
    if t.jury_member is not None:
        pages.append(Page("dashboard_jury", "Tableau de bord — membre de jury", "dashboard",
                          t.jury_member, url=reverse("dashboard")))
    pages += [
        Page("dashboard_national", "Tableau de bord — lecture nationale", "dashboard", national,
             url=reverse("dashboard")),
        Page("registration_list", "Liste des candidats", "candidates:registration_list",
             staff, url=list_url()),
        # Issue 10: the statistics of a centre, and of every centre (the national reader).
        Page("statistics_staff", "Statistiques — gestionnaire", "reporting:statistics", staff,
             url=reverse("reporting:statistics")),
        Page("statistics_national", "Statistiques — lecture nationale (tous les centres)",
             "reporting:statistics", national, url=reverse("reporting:statistics")),
        # The page serves figures kept a few minutes (settings.STATISTICS); what computing
        # them costs, paid by the first visit and by « Recalculer maintenant », is shown too.
        Page("statistics_national_fresh",
             "Statistiques — lecture nationale, recalculées (« Recalculer maintenant »)",
             "reporting:statistics", national, group="fresh",
             url=f"{reverse('reporting:statistics')}?recalculer=1"),
    ]
    if t.filter_state:
        pages.append(Page("registration_list_filtered",
                          "Liste des candidats filtrée (état + certification)",
                          "candidates:registration_list", staff,
                          url=list_url(state=t.filter_state,
                                       certification=t.filter_certification_id)))
    if t.search_name:
        # In the centre's registrations (its gestionnaire), then in every centre's.
        searchers = [("centre", staff), ("all", search_user or national)]
        for scope, user in searchers:
            for kind, term, label in [("name", t.search_name, "nom"),
                                      ("reference", t.search_reference, "référence")]:
                pages.append(Page(f"search_{kind}_{scope}",
                                  f"Recherche par {label} « {term} » ({_username(user)})",
                                  "candidates:registration_list", user, group="search",
                                  url=list_url(q=term)))
    if t.registration is not None:
        pages.append(Page("registration_detail", "Page d'une inscription",
                          "candidates:registration_detail", staff,
                          url=reverse("candidates:registration_detail",
                                      args=[t.registration.pk])))
    if t.commission is not None:
        pages.append(Page("commission_detail", "Page d'une commission",
                          "commissions:commission_detail", staff,
                          url=reverse("commissions:commission_detail",
                                      args=[t.commission.pk])))
    if t.grid is not None and t.evaluator is not None:
        pages.append(Page("grid_detail", f"Grille d'évaluation ({t.grid_criteria} critères)",
                          "grids:detail", t.evaluator,
                          url=reverse("grids:detail", args=[t.grid.pk])))
        pages += autosave_pages(t)
    if t.session is not None and t.jury_member is not None:
        if t.session_candidate is not None:
            pages.append(Page("jury_synthesis", "Synthèse d'un candidat (jury)",
                              "juries:synthesis", t.jury_member,
                              url=reverse("juries:synthesis",
                                          args=[t.session.pk, t.session_candidate.pk])))
        pages.append(Page("jury_session", f"Session de jury ({t.session_candidates} "
                          "candidats)", "juries:session_detail", t.jury_member,
                          url=reverse("juries:session_detail", args=[t.session.pk])))
    if t.verify_document is not None:
        pages.append(Page("verify", "Vérification publique d'un document", "verify", None,
                          url=reverse("verify", args=[t.verify_document.verification_code])))
    for app, model, label in ADMIN_CHANGELISTS:
        url_name = f"admin:{app}_{model}_changelist"
        try:
            url = reverse(url_name)
        except NoReverseMatch:
            targets.notes.append(f"Administration : pas de liste « {label} » "
                                 f"({app}.{model} non enregistré).")
            continue
        pages.append(Page(f"admin_{app}_{model}", f"Administration — {label}", url_name,
                          t.admin, url=url, group="admin"))
    for page in pages:
        page.user_label = page.user_label or _username(page.user)
    return pages


# ---------------------------------------------------------------------------
# Running one page
# ---------------------------------------------------------------------------
def run_page(page: Page, *, warmup: int = WARMUP, repeat: int = REPEAT,
             with_floor: bool = True) -> dict:
    """Measure ``page`` and its floor; never raises (an error becomes the row's note)."""
    result = {"key": page.key, "label": page.label, "url_name": page.url_name,
              "url": page.url, "user": page.user_label, "group": page.group,
              "notes": list(page.notes)}
    try:
        client = bench_client(page.user)
        if with_floor:
            sample, floor = measure_with_floor(page.send_function(client), client,
                                               warmup=warmup, repeat=repeat)
        else:
            sample = measure(page.send_function(client), warmup=warmup, repeat=repeat)
        result.update(status=sample.status, statuses=sample.statuses, queries=sample.queries,
                      median_ms=sample.median_ms, p95_ms=sample.p95_ms, min_ms=sample.min_ms,
                      size=sample.size, runs=sample.runs)
        if with_floor:
            result.update(floor_median_ms=floor.median_ms, floor_p95_ms=floor.p95_ms,
                          floor_size=floor.size, floor_queries=floor.queries,
                          ratio=ratio(sample, floor))
        else:
            result.update(floor_median_ms=None, ratio=None)
    except Exception as exc:  # noqa: BLE001 - one broken page must not stop the bench
        result.update(status=None, queries=None, median_ms=None, p95_ms=None, size=None,
                      floor_median_ms=None, ratio=None,
                      error=f"{type(exc).__name__}: {exc}",
                      traceback=traceback.format_exc(limit=6))
    report.judge_page(result)
    return result
