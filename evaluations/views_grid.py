"""The grille d'évaluation in the browser (DOMAIN.md §5, DESIGN.md §4–§4b): the page the
commission fills together on a laptop or a workshop tablet, its autosave endpoint, submission,
signature, reopening, attendance, incidents and the audit trail.

Access: ``selectors.grid_for_page`` finds only the grids of the commissions the user sits on
and of the centres where they are staff — anyone else gets a 404. Members fill and sign
(``evaluations.fill_grid``); staff read, resolve incidents and reopen (``evaluations.reopen_grid``).
"""

from itertools import groupby

import rules
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from candidates.models import CompanyOpinion, Document, DocumentKind
from certifications.models import Modality, RatingLevel
from commissions.models import CommissionStatus, MemberRole, ScheduledCandidate
from evaluations import acquired, consent, selectors, services
from evaluations.forms import (
    AttendanceForm,
    IncidentForm,
    IncidentResolveForm,
    ReopenForm,
    SignForm,
)
from evaluations.models import (
    CompetenceResult,
    CriterionResult,
    GeneratedDocument,
    Grid,
    GridEvent,
    GridLocked,
    GridState,
)

HISTORY_PAGE_SIZE = 50
# The keys of GridEvent.before/after, as the journal shows them.
EVENT_KEYS = {
    "satisfied": gettext_lazy("satisfait"), "notes": gettext_lazy("observations"),
    "concerned": gettext_lazy("visé par le commentaire"), "level": gettext_lazy("niveau"),
    "comment": gettext_lazy("commentaire"), "modality_used": gettext_lazy("modalité utilisée"),
    "attendance": gettext_lazy("présence"), "sha256": gettext_lazy("empreinte SHA-256"),
    "consent": gettext_lazy("version du consentement"), "kind": gettext_lazy("nature"),
    "description": gettext_lazy("description"),
}
# Fields whose change can alter the progress counts or the « ce qui manque » panel.
FIELDS_AFFECTING_COMPLETENESS = {"satisfied", "concerned", "level", "comment"}


# ---------------------------------------------------------------------------
# Access
# ---------------------------------------------------------------------------
def grid_or_404(request, pk: int, *, read=selectors.grid_for_page) -> Grid:
    """The grid ``pk`` as ``read`` gives it (the page's read by default), or 404."""
    try:
        grid = read(request.user, pk)
    except Grid.DoesNotExist as exc:
        raise Http404 from exc
    # A cancelled commission gives its members no more access (as open_grid and the
    # commission's dossiers); the centre's staff keep reading its grids.
    if (grid.scheduled.commission.status == CommissionStatus.CANCELLED
            and not rules.has_perm("evaluations.reopen_grid", request.user, grid)):
        raise Http404
    return grid


def can_fill(user, grid: Grid) -> bool:
    return rules.has_perm("evaluations.fill_grid", user, grid)


def require_fill(request, grid: Grid) -> None:
    """Staff see the grid but do not fill it: they get a 403, not a 404."""
    if not can_fill(request.user, grid):
        raise PermissionDenied


def grid_url(grid: Grid, anchor: str = "") -> str:
    url = reverse("grids:detail", args=[grid.pk])
    return f"{url}#{anchor}" if anchor else url


def show_errors(request, exc: ValidationError) -> None:
    for message in exc.messages:
        messages.error(request, message)


# ---------------------------------------------------------------------------
# Opening and reading
# ---------------------------------------------------------------------------
@login_required
def open_grid(request, scheduled_pk: int):
    """The grid of a scheduled candidate, created from the referential on first opening."""
    scheduled = get_object_or_404(ScheduledCandidate.objects.select_related("commission"),
                                  pk=scheduled_pk)
    commission = scheduled.commission
    if (not rules.has_perm("commissions.view_commission", request.user, commission)
            or commission.status == CommissionStatus.CANCELLED):
        raise Http404
    grid = services.ensure_grid(scheduled=scheduled, actor=request.user)
    return redirect(grid_url(grid))


@login_required
def grid_detail(request, pk: int):
    grid = grid_or_404(request, pk)
    return render(request, "evaluations/grid_detail.html", page_context(request, grid))


def page_context(request, grid: Grid) -> dict:
    """Everything the grid page shows, in a fixed number of queries whatever the grid's size."""
    scheduled, registration = grid.scheduled, grid.scheduled.registration
    commission = scheduled.commission
    members = sorted(commission.members.select_related("evaluator__user"),
                     key=lambda m: (m.role != MemberRole.PRESIDENT, str(m.evaluator)))
    results = services.grid_content(grid)
    levels = list(RatingLevel.objects.filter(version_id=registration.version_id)
                  .order_by("order"))
    fill = can_fill(request.user, grid)
    staff = rules.has_perm("evaluations.reopen_grid", request.user, grid)
    editable = fill and not grid.is_locked
    mine = next((m for m in members if m.evaluator.user_id == request.user.pk), None)
    signatures = signature_rows(grid, members)
    base = reverse("grids:detail", args=[grid.pk])
    return {
        "grid": grid,
        "scheduled": scheduled,
        "registration": registration,
        "commission": commission,
        "certification": registration.version.certification,
        "members": members,
        "blocs": competence_groups(results),
        "levels": levels,
        **completeness_context(grid, results),
        **signatures,
        "can_fill": fill,
        "can_manage": staff,
        "editable": editable,
        "can_sign": (editable and mine is not None and grid.state == GridState.TO_SIGN
                     and mine.pk not in signatures["signed_member_ids"]),
        "activity_reports": list(Document.objects.filter(
            registration=registration, kind=DocumentKind.ACTIVITY_REPORT,
            superseded_at__isnull=True).order_by("-uploaded_at")),
        "opinion": CompanyOpinion.objects.filter(registration=registration).first(),
        "opinion_applies": registration.company_opinion_applies,
        # Resolving an incident is, like reopening, an act of the centre's staff.
        "incidents": incident_rows(grid, resolvable=staff),
        "document": (GeneratedDocument.objects.filter(grid=grid,
                                                      content_sha256=grid.snapshot_sha256)
                     .first() if grid.is_locked else None),
        "attendance_form": AttendanceForm(initial={"attendance": scheduled.attendance},
                                          action=f"{base}presence/"),
        "incident_form": IncidentForm(action=f"{base}incidents/"),
        "js_messages": js_messages(),
        "carried": carried_rows(grid, results),
    }


def carried_rows(grid: Grid, results: list) -> list:
    """Competences validated by an earlier jury, still valid on the commission's date, that
    the grid leaves out (services.ensure_grid): shown read-only, never evaluated again."""
    in_grid = {r.competence.code for r in results}
    carried = acquired.carried_over(grid.scheduled.registration,
                                    at=grid.scheduled.commission.date)
    return [item for item in carried.competence_list if item.code not in in_grid]


def incident_rows(grid: Grid, *, resolvable: bool) -> list:
    """The grid's incidents; centre staff get a form to resolve each open one."""
    incidents = list(grid.incidents.select_related("reported_by", "resolved_by"))
    if resolvable:
        for incident in incidents:
            if not incident.is_resolved:
                incident.resolve_form = IncidentResolveForm(action=reverse(
                    "grids:incident_resolve", args=[grid.pk, incident.pk]))
    return incidents


def competence_groups(results: list[CompetenceResult]) -> list:
    """Competences grouped by bloc (CCPM/CCPI have none), each with its allowed modalities."""
    for result in results:
        result.modality_choices = [(m, Modality(m).label) for m in result.competence.modalities
                                   if m in Modality.values]
    return [{"bloc": bloc, "competences": list(items)}
            for bloc, items in groupby(results, key=lambda r: r.competence.bloc)]


def completeness_context(grid: Grid, results: list[CompetenceResult]) -> dict:
    missing = services.missing_items(results)
    by_anchor: dict[str, list[str]] = {}
    for item in missing:
        by_anchor.setdefault(item.anchor, []).append(item.message)
    for result in results:
        result.missing = by_anchor.get(f"competence-{result.pk}", [])
        # The level asks for a comment and the criteria it concerns (DOMAIN.md §5).
        result.not_mastered = result.level is not None and not result.level.mastered
    return {"missing": missing, "progress": services.progress(results)}


def signature_rows(grid: Grid, members: list) -> dict:
    signatures = list(grid.signatures.order_by("signed_at", "pk"))
    valid = {s.member_id: s for s in signatures if s.is_valid}
    return {
        "member_signatures": [{"member": m, "signature": valid.get(m.pk)} for m in members],
        "voided_signatures": [s for s in signatures if not s.is_valid],
        "signed_member_ids": set(valid),
    }


def js_messages() -> dict:
    """The French words of static/js/grid.js (no inline script: read with json_script)."""
    return {
        "saving": _("en cours…"),
        "saved": _("enregistré ✓"),
        "savedAt": _("enregistré à %(time)s ✓"),
        "retryIn": _("échec – nouvel essai dans %(seconds)s s"),
        "retrying": _("échec – nouvel essai…"),
        "conflict": _("conflit"),
        "refused": _("refusé"),
        "session": _("session expirée : reconnectez-vous puis rechargez cette page, vos "
                     "saisies sont conservées sur cet appareil et seront renvoyées"),
        "keepMine": _("Garder ma saisie"),
        "takeTheirs": _("Reprendre la valeur enregistrée"),
        "theirValue": _("Valeur enregistrée : %(value)s"),
        "allSaved": _("Toutes les modifications sont enregistrées"),
        "allSavedAt": _("Toutes les modifications sont enregistrées (%(time)s)"),
        "pending": _("%(count)s modification(s) en cours d'envoi…"),
        "failing": _("%(count)s modification(s) non encore enregistrée(s) — conservée(s) sur "
                     "cet appareil, nouvel essai automatique"),
        "offline": _("Hors connexion — %(count)s modification(s) conservée(s) sur cet appareil, "
                     "envoi au retour du réseau"),
        "conflicts": _("%(count)s conflit(s) à résoudre : un autre membre a modifié les mêmes "
                       "éléments"),
        "restored": _("%(count)s saisie(s) non envoyée(s) lors de votre dernière visite ont été "
                      "restaurée(s) et sont renvoyées."),
        "locked": _("La grille a été verrouillée entre-temps : rechargez la page."),
        "yes": _("Oui"),
        "no": _("Non"),
        "checked": _("coché"),
        "unchecked": _("non coché"),
        "empty": _("(vide)"),
    }


# ---------------------------------------------------------------------------
# Autosave: one field at a time, with the row's revision
# ---------------------------------------------------------------------------
def json_error(status: int, code: str, message, **extra) -> JsonResponse:
    return JsonResponse({"error": code, "message": str(message), **extra}, status=status)


def dom_values(row) -> dict:
    """The row's fields as the page's inputs hold them (radio values, checkbox "on")."""
    if isinstance(row, CriterionResult):
        return {"satisfied": {True: "oui", False: "non"}.get(row.satisfied, ""),
                "notes": row.notes, "concerned": "on" if row.concerned else ""}
    return {"level": str(row.level_id or ""), "comment": row.comment,
            "modality_used": row.modality_used}


def display_value(row, field: str) -> str:
    value = getattr(row, field)
    if field == "satisfied":
        return {True: _("Oui"), False: _("Non")}.get(value, "—")
    if field == "concerned":
        return _("coché") if value else _("non coché")
    if field == "level":
        return value.label if value else "—"
    if field == "modality_used":
        return Modality(value).label
    return value or "—"


def stale_response(row_kind: str, row_id: int, field: str, exc) -> JsonResponse:
    """What the second writer needs to decide: who saved, when, the value now stored (as the
    page shows it), and the row's current values and revision."""
    queryset = (CompetenceResult.objects.select_related("level") if row_kind == "competence"
                else CriterionResult.objects.all())
    row = queryset.get(pk=row_id)
    values = dom_values(row)
    message = _("%(who)s a enregistré cet élément à %(when)s. Votre saisie n'a pas été "
                "enregistrée : gardez-la ou reprenez la valeur enregistrée.") % {
        "who": exc.who, "when": timezone.localtime(exc.when).strftime("%H:%M:%S")}
    return json_error(409, "stale", message, revision=row.revision,
                      current_value=values.get(field, ""),
                      current_display=display_value(row, field), row=values, who=str(exc.who))


@require_POST
def save_field(request, pk: int):
    """htmx autosave. 200 with the new revision (headers) and the refreshed progress, missing
    panel and competence status (out-of-band); 409 when someone saved the row since the
    revision the writer read; 423 when the grid is signed; 400 for an invalid value."""
    if not request.user.is_authenticated:
        return json_error(401, "session", _("Votre session a expiré : reconnectez-vous."))
    grid = grid_or_404(request, pk, read=selectors.grid_for_saving)
    if not can_fill(request.user, grid):
        return json_error(403, "forbidden", _("Vous ne siégez pas dans cette commission : "
                                              "la grille vous est accessible en lecture seule."))
    post = request.POST
    row_kind, field, value = post.get("row_kind", ""), post.get("field", ""), post.get("value")
    try:
        row_id, revision = int(post.get("row_id", "")), int(post.get("revision", ""))
    except ValueError:
        return json_error(400, "invalid", _("Requête incomplète."))
    try:
        row = services.save_field(grid=grid, row_kind=row_kind, row_id=row_id, field=field,
                                  value=value, revision=revision, actor=request.user)
    except GridLocked as exc:
        return json_error(423, "locked", exc.messages[0])
    except services.StaleEdit as exc:
        return stale_response(row_kind, row_id, field, exc)
    except (CompetenceResult.DoesNotExist, CriterionResult.DoesNotExist):
        return json_error(404, "unknown", _("Élément introuvable dans cette grille."))
    except ValidationError as exc:
        return json_error(400, "invalid", " ".join(exc.messages))
    response = HttpResponse(saved_fragments(request, grid, row, field))
    response["X-Grid-Revision"] = str(row.revision)
    response["X-Grid-Saved-At"] = timezone.localtime(row.updated_at).strftime("%H:%M:%S")
    return response


def saved_fragments(request, grid: Grid, row, field: str) -> str:
    """Out-of-band fragments for what the change may have altered. Notes and modality change
    neither the counts nor the panel: nothing more to read for the most frequent saves."""
    if field not in FIELDS_AFFECTING_COMPLETENESS and grid.state != GridState.TO_SIGN:
        return ""
    results = services.completeness_content(grid)
    competence_id = (row.competence_result_id if isinstance(row, CriterionResult) else row.pk)
    context = {"grid": grid, "editable": True, **completeness_context(grid, results),
               "result": next(r for r in results if r.pk == competence_id)}
    if grid.state == GridState.TO_SIGN:
        # A change after a signature voids it (services.save_field): show it at once, with
        # the « Signer » button back for whoever has to sign again.
        members = list(grid.scheduled.commission.members.select_related("evaluator__user"))
        signatures = signature_rows(grid, members)
        mine = next((m for m in members if m.evaluator.user_id == request.user.pk), None)
        context.update(signatures, can_sign=mine is not None
                       and mine.pk not in signatures["signed_member_ids"])
    # Rendered without the request's context processors (the navigation's roles would cost
    # a query on every such save): the fragments need only the token of the panel's form.
    context["csrf_token"] = get_token(request)
    return render_to_string("evaluations/_save_response.html", context)


# ---------------------------------------------------------------------------
# Submission, signature, reopening
# ---------------------------------------------------------------------------
@login_required
@require_POST
def submit(request, pk: int):
    grid = grid_or_404(request, pk)
    require_fill(request, grid)
    try:
        services.submit_for_signature(grid=grid, actor=request.user)
    except ValidationError as exc:
        messages.error(request, _("La grille ne peut pas encore passer à la signature :"))
        show_errors(request, exc)
        return redirect(grid_url(grid, "grid-missing"))
    messages.success(request, _("La grille est prête : chaque membre de la commission la "
                                "signe à son tour."))
    return redirect(grid_url(grid, "signatures"))


@login_required
def sign(request, pk: int):
    grid = grid_or_404(request, pk)
    require_fill(request, grid)
    member = (grid.scheduled.commission.members.select_related("evaluator__user")
              .filter(evaluator__user=request.user).first())
    if member is None:
        raise PermissionDenied
    form = SignForm(request.POST if request.method == "POST" else None,
                    action=reverse("grids:sign", args=[grid.pk]))
    if request.method == "POST" and form.is_valid():
        try:
            result = services.sign_grid(
                grid=grid, member=member, password=form.cleaned_data["password"],
                consent=form.cleaned_data["consent"], ip=request.META.get("REMOTE_ADDR"),
                user_agent=request.META.get("HTTP_USER_AGENT", ""))
        except GridLocked as exc:
            show_errors(request, exc)
            return redirect(grid_url(grid))
        except ValidationError as exc:
            for message in exc.messages:
                form.add_error(None, message)
        else:
            messages.success(request, _("Grille signée par tous les membres : elle est "
                                        "verrouillée.") if result.locked
                             else _("Signature enregistrée."))
            return redirect(grid_url(grid, "signatures"))
    results = services.grid_content(grid)
    return render(request, "evaluations/grid_sign.html", {
        "grid": grid, "commission": grid.scheduled.commission,
        "registration": grid.scheduled.registration, "results": results,
        "missing": services.missing_items(results), "form": form,
        "consent_text": consent.CURRENT_CONSENT_TEXT,
        "consent_version": consent.CURRENT_CONSENT_VERSION,
        "already_signed": grid.signatures.filter(member=member, voided_at__isnull=True).exists(),
    })


@login_required
def reopen(request, pk: int):
    grid = grid_or_404(request, pk)
    if not rules.has_perm("evaluations.reopen_grid", request.user, grid):
        raise PermissionDenied
    form = ReopenForm(request.POST if request.method == "POST" else None,
                      action=reverse("grids:reopen", args=[grid.pk]))
    if request.method == "POST" and form.is_valid():
        try:
            services.reopen_grid(grid=grid, actor=request.user,
                                 reason=form.cleaned_data["reason"])
        except ValidationError as exc:
            for message in exc.messages:
                form.add_error(None, message)
        else:
            messages.success(request, _("Grille rouverte : ses signatures sont invalidées, "
                                        "les membres peuvent la corriger puis la signer à "
                                        "nouveau."))
            return redirect(grid_url(grid))
    return render(request, "evaluations/grid_reopen.html", {
        "grid": grid, "commission": grid.scheduled.commission,
        "registration": grid.scheduled.registration, "form": form,
    })


# ---------------------------------------------------------------------------
# Attendance and incidents
# ---------------------------------------------------------------------------
@login_required
@require_POST
def attendance(request, pk: int):
    grid = grid_or_404(request, pk)
    require_fill(request, grid)
    form = AttendanceForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choisissez la présence du candidat."))
        return redirect(grid_url(grid, "attendance"))
    try:
        services.record_attendance(grid=grid, attendance=form.cleaned_data["attendance"],
                                   actor=request.user)
    except ValidationError as exc:
        show_errors(request, exc)
    else:
        messages.success(request, _("Présence enregistrée."))
    return redirect(grid_url(grid, "attendance"))


@login_required
@require_POST
def incident_report(request, pk: int):
    grid = grid_or_404(request, pk)
    require_fill(request, grid)
    form = IncidentForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Indiquez la nature et la description de l'incident."))
        return redirect(grid_url(grid, "incidents"))
    try:
        services.report_incident(grid=grid, kind=form.cleaned_data["kind"],
                                 description=form.cleaned_data["description"],
                                 actor=request.user)
    except ValidationError as exc:
        show_errors(request, exc)
    else:
        messages.success(request, _("Incident enregistré sur la grille."))
    return redirect(grid_url(grid, "incidents"))


@login_required
@require_POST
def incident_resolve(request, pk: int, incident_pk: int):
    grid = grid_or_404(request, pk)
    if not rules.has_perm("evaluations.resolve_incident", request.user, grid):
        raise PermissionDenied
    incident = get_object_or_404(grid.incidents, pk=incident_pk)
    form = IncidentResolveForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Indiquez comment l'incident a été résolu."))
        return redirect(grid_url(grid, f"incident-{incident.pk}"))
    try:
        services.resolve_incident(incident=incident, resolution=form.cleaned_data["resolution"],
                                  actor=request.user)
    except ValidationError as exc:
        show_errors(request, exc)
    else:
        messages.success(request, _("Incident résolu."))
    return redirect(grid_url(grid, f"incident-{incident.pk}"))


# ---------------------------------------------------------------------------
# Audit trail
# ---------------------------------------------------------------------------
@login_required
def history(request, pk: int):
    grid = grid_or_404(request, pk)
    events = GridEvent.objects.filter(grid=grid).select_related("actor").order_by("-at", "-pk")
    page = Paginator(events, HISTORY_PAGE_SIZE).get_page(request.GET.get("page"))
    for event in page:
        event.changes = event_changes(event)
    return render(request, "evaluations/grid_history.html", {
        "grid": grid, "commission": grid.scheduled.commission,
        "registration": grid.scheduled.registration, "page_obj": page,
    })


def event_changes(event: GridEvent) -> list[dict]:
    """``before``/``after`` as rows « key: before → after » for the journal table."""
    before, after = event.before or {}, event.after or {}
    return [{"key": EVENT_KEYS.get(key, key), "before": readable(before.get(key)),
             "after": readable(after.get(key))}
            for key in dict.fromkeys([*before, *after])]


def readable(value) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return _("Oui") if value else _("Non")
    return str(value)
