"""Staff pages of the commissions app: the list of commissions, their creation and
composition, the centre's network of evaluators and the « Devenez évaluateur » applications.

Only the gestionnaires of the centre see or change anything here; anyone else gets a 404.
"""

import datetime

import rules
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from candidates.selectors import registrations_visible_to
from certifications.models import Role
from certifications.scoping import centres_for, has_role
from commissions import impartiality, selectors, services
from commissions.forms import (
    AddMemberForm,
    ApplicationFilterForm,
    CommissionFilterForm,
    CommissionForm,
    RefuseApplicationForm,
    ScheduleForm,
)
from commissions.models import (
    ApplicationStatus,
    CharterVersion,
    Commission,
    CommissionStatus,
    EvaluatorApplication,
    MemberRole,
)
from commissions.views import commission_or_404, posted, president_first

PAGE_SIZE = 25
HABILITATION_WARNING_DAYS = 60


def _staff_centres(user):
    centres = centres_for(user, [Role.STAFF])
    if not centres:  # evaluates (and caches) the queryset
        raise Http404
    return centres


def _page(request, queryset, size=PAGE_SIZE):
    query = request.GET.copy()
    query.pop("page", None)
    return Paginator(queryset, size).get_page(request.GET.get("page")), query.urlencode()


# ---------------------------------------------------------------------------
# Commissions
# ---------------------------------------------------------------------------
@login_required
def commission_list(request):
    user = request.user
    if not rules.has_perm("commissions.manage_commission", user):
        if has_role(user, Role.EVALUATOR):
            return redirect("commissions:my_commissions")
        raise Http404
    managed = selectors.commissions_managed_by(user)
    form = CommissionFilterForm(
        request.GET, years=[d.year for d in managed.dates("date", "year", order="DESC")])
    page, query_string = _page(request, selectors.commission_list(user, **form.filters()))
    return render(request, "commissions/commission_list.html", {
        "form": form, "page_obj": page, "query_string": query_string,
        "centre_count": len(centres_for(user, [Role.STAFF])),
    })


@login_required
def commission_create(request):
    centres = _staff_centres(request.user)
    form = CommissionForm(posted(request), centres=centres,
                          instance=Commission(created_by=request.user))
    if request.method == "POST" and form.is_valid():
        commission = form.save()
        messages.success(request, _("%(c)s créée. Composez-la : membres et candidats.")
                         % {"c": commission})
        return redirect("commissions:compose", pk=commission.pk)
    return render(request, "commissions/commission_create.html", {
        "form": form, "cancel_url": reverse("commissions:commission_list"),
    })


# ---------------------------------------------------------------------------
# Composition: members and candidates
# ---------------------------------------------------------------------------
@login_required
def compose(request, pk: int):
    commission = commission_or_404(request, pk, detail=True, manage=True)
    bound = None
    if request.method == "POST":
        handler = COMPOSE_ACTIONS.get(request.POST.get("action", ""))
        if handler is None:
            messages.error(request, _("Action inconnue."))
            return redirect("commissions:compose", pk=commission.pk)
        result = handler(request, commission)
        if not isinstance(result, tuple):
            return result  # done: back to the page (PRG)
        bound = result
        commission = commission_or_404(request, pk, detail=True, manage=True)
    return _render_compose(request, commission, bound=bound)


def _render_compose(request, commission, *, bound=None):
    """``bound``: (kind, id, form) of a refused submission, shown again with its input."""
    members = president_first(commission.members.all())
    initial_role = (MemberRole.MEMBER if any(m.role == MemberRole.PRESIDENT for m in members)
                    else MemberRole.PRESIDENT)
    suggestions = services.suggest_evaluators(commission)
    for row in suggestions:
        overridable = impartiality.overridable(row["problems"])
        row["can_add"] = row["eligible"] or overridable
        if bound and bound[0] == "member" and bound[1] == row["evaluator"].pk:
            row["form"] = bound[2]
        else:
            row["form"] = AddMemberForm(evaluator_id=row["evaluator"].pk,
                                        initial_role=initial_role,
                                        override=overridable and not row["eligible"])
    candidates = services.suggest_candidates(commission)
    for row in candidates:
        overridable = impartiality.overridable(row["problems"]) and not row["eligible"]
        row["can_schedule"] = row["eligible"] or overridable
        if bound and bound[0] == "schedule" and bound[1] == row["registration"].pk:
            row["form"] = bound[2]
        else:
            row["form"] = ScheduleForm(registration_id=row["registration"].pk,
                                       override=overridable)
    return render(request, "commissions/commission_compose.html", {
        "commission": commission,
        "certifications": list(commission.certifications.all()),
        "members": members,
        "scheduled": list(commission.scheduled.all()),
        "suggestions": suggestions,
        "candidates": candidates,
        "editable": commission.status in (CommissionStatus.DRAFT, CommissionStatus.CONFIRMED),
        "year": commission.date.year,
    })


def _posted_id(request, name: str) -> int:
    value = request.POST.get(name, "")
    if not value.isdigit():
        raise Http404
    return int(value)


def _show_refusal(request, error: ValidationError) -> None:
    for message in error.messages:
        messages.error(request, message)


def _add_member(request, commission):
    evaluator_id = _posted_id(request, "evaluator")
    evaluator = get_object_or_404(selectors.evaluators_of(request.user), pk=evaluator_id)
    form = AddMemberForm(request.POST, evaluator_id=evaluator_id,
                         initial_role=MemberRole.MEMBER,
                         override=impartiality.override_allowed())
    if form.is_valid():
        try:
            member = services.add_member(
                commission=commission, evaluator=evaluator, role=form.cleaned_data["role"],
                actor=request.user, justification=form.cleaned_data.get("justification", ""))
        except ValidationError as exc:
            _show_refusal(request, exc)
        else:
            messages.success(request, _("%(member)s ajouté(e) à la commission.")
                             % {"member": member})
            return redirect(reverse("commissions:compose", args=[commission.pk]) + "#membres")
    return ("member", evaluator_id, form)


def _remove_member(request, commission):
    member = get_object_or_404(commission.members.select_related("evaluator__user"),
                               pk=_posted_id(request, "member"))
    try:
        services.remove_member(member=member, actor=request.user)
    except ValidationError as exc:
        _show_refusal(request, exc)
    else:
        messages.success(request, _("%(e)s retiré(e) de la commission.")
                         % {"e": member.evaluator})
    return redirect(reverse("commissions:compose", args=[commission.pk]) + "#membres")


def _schedule(request, commission):
    registration_id = _posted_id(request, "registration")
    registration = get_object_or_404(registrations_visible_to(request.user), pk=registration_id)
    form = ScheduleForm(request.POST, registration_id=registration_id,
                        override=impartiality.override_allowed())
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.schedule_candidate(
                commission=commission, registration=registration,
                start_time=data["start_time"], end_time=data["end_time"], actor=request.user,
                justification=data.get("justification", ""))
        except ValidationError as exc:
            _show_refusal(request, exc)
        else:
            messages.success(request, _("%(ref)s convoqué(e) à %(time)s.") % {
                "ref": registration.reference,
                "time": data["start_time"].strftime("%H:%M")})
            return redirect(reverse("commissions:compose", args=[commission.pk]) + "#candidats")
    return ("schedule", registration_id, form)


def _unschedule(request, commission):
    scheduled = get_object_or_404(commission.scheduled.select_related("registration"),
                                  pk=_posted_id(request, "scheduled"))
    try:
        services.unschedule_candidate(scheduled=scheduled, actor=request.user)
    except ValidationError as exc:
        _show_refusal(request, exc)
    else:
        messages.success(request, _("%(ref)s retiré(e) de la commission.")
                         % {"ref": scheduled.registration.reference})
    return redirect(reverse("commissions:compose", args=[commission.pk]) + "#candidats")


COMPOSE_ACTIONS = {
    "add_member": _add_member,
    "remove_member": _remove_member,
    "schedule": _schedule,
    "unschedule": _unschedule,
}


# ---------------------------------------------------------------------------
# The network of evaluators
# ---------------------------------------------------------------------------
@login_required
def evaluator_list(request):
    _staff_centres(request.user)
    today = timezone.localdate()
    page, query_string = _page(request, selectors.evaluator_list(request.user), size=50)
    return render(request, "commissions/evaluator_list.html", {
        "page_obj": page, "query_string": query_string, "today": today,
        "horizon": today + datetime.timedelta(days=HABILITATION_WARNING_DAYS),
        "current_charter": CharterVersion.current(),
    })


# ---------------------------------------------------------------------------
# « Devenez évaluateur »: review of the applications
# ---------------------------------------------------------------------------
@login_required
def application_list(request):
    _staff_centres(request.user)
    form = ApplicationFilterForm(request.GET)
    applications = selectors.applications_visible_to(request.user)
    if form.is_valid() and form.cleaned_data["status"]:
        applications = applications.filter(status=form.cleaned_data["status"])
    page, query_string = _page(request, applications.order_by("-submitted_at"))
    return render(request, "commissions/application_list.html", {
        "form": form, "page_obj": page, "query_string": query_string,
    })


@login_required
def application_review(request, pk: int):
    application = get_object_or_404(
        selectors.applications_visible_to(request.user)
        .select_related("reviewed_by", "evaluator__user").prefetch_related("certifications"),
        pk=pk)
    refuse_form = RefuseApplicationForm(
        request.POST if request.POST.get("action") == "refuse" else None)
    if request.method == "POST":
        done = _decide(request, application, refuse_form)
        if done:
            return redirect("commissions:application_review", pk=application.pk)
    return render(request, "commissions/application_review.html", {
        "application": application,
        "refuse_form": refuse_form,
        "pending": application.status == ApplicationStatus.SUBMITTED,
    })


def _decide(request, application: EvaluatorApplication, refuse_form) -> bool:
    action = request.POST.get("action")
    try:
        if action == "approve":
            evaluator = services.approve_application(application=application,
                                                     actor=request.user)
            messages.success(request, _(
                "Candidature acceptée : compte « %(username)s » créé. Le candidat reçoit un "
                "e-mail pour choisir son mot de passe ; enregistrez son habilitation."
            ) % {"username": evaluator.user.get_username()})
            return True
        if action == "refuse":
            if not refuse_form.is_valid():
                return False
            services.refuse_application(application=application, actor=request.user,
                                        reason=refuse_form.cleaned_data["reason"])
            messages.success(request, _("Candidature refusée ; le candidat en est informé par "
                                        "e-mail."))
            return True
    except ValidationError as exc:
        _show_refusal(request, exc)
        return False
    messages.error(request, _("Action inconnue."))
    return False
