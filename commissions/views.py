"""The commission page and the dossiers of its candidates, shared by the centre's staff (who
manage the commission) and its members (who read it). Anyone else gets a 404, never a hint
that the page exists (DESIGN.md §2, DOMAIN.md §4 confidentiality).

Staff-only pages are in ``views_staff``, the evaluator's own pages in ``views_evaluator``,
the public application form in ``views_public``.
"""

import rules
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from candidates.downloads import document_response
from candidates.models import Document
from commissions import selectors, services
from commissions.forms import CancelForm
from commissions.models import Commission, CommissionStatus, MemberRole, ScheduledCandidate
from commissions.tasks import CONVOCATION_PURPOSE
from config.links import make_token

# ---------------------------------------------------------------------------
# Access
# ---------------------------------------------------------------------------


def commission_or_404(request, pk: int, *, detail: bool = False, manage: bool = False
                      ) -> Commission:
    """The commission if the user may see it (``manage``: act on it as staff); 404 otherwise."""
    try:
        commission = (selectors.commission_detail(pk) if detail
                      else Commission.objects.select_related("centre").get(pk=pk))
    except Commission.DoesNotExist as exc:
        raise Http404 from exc
    permission = "commissions.manage_commission" if manage else "commissions.view_commission"
    if not rules.has_perm(permission, request.user, commission):
        raise Http404
    return commission


def _member_reading(request, commission: Commission) -> bool:
    """A member who is not staff of the centre: reads the commission's dossiers only while
    it stands (a cancelled commission gives its members no more access)."""
    if rules.has_perm("commissions.manage_commission", request.user, commission):
        return False
    if commission.status == CommissionStatus.CANCELLED:
        raise Http404
    return True


def president_first(members) -> list:
    return sorted(members, key=lambda member: member.role != MemberRole.PRESIDENT)


def posted(request):
    """The submitted data on POST (even empty, so that a form shows what is missing)."""
    return request.POST if request.method == "POST" else None


def awaits_answer(commission: Commission) -> bool:
    """A convocation is answered while the commission is confirmed and not yet held."""
    return commission.status == CommissionStatus.CONFIRMED and not commission.is_past


def answer_path(member) -> str:
    """The member's own « répondre à la convocation » page (the link of the e-mail)."""
    token = make_token(link_id=member.pk, nonce=member.link_nonce, purpose=CONVOCATION_PURPOSE)
    return reverse("commissions:convocation_answer", args=[token])


# ---------------------------------------------------------------------------
# The commission page
# ---------------------------------------------------------------------------
@login_required
def commission_detail(request, pk: int):
    commission = commission_or_404(request, pk, detail=True)
    can_manage = rules.has_perm("commissions.manage_commission", request.user, commission)
    cancel_form = None
    if request.method == "POST":
        if not can_manage:
            raise Http404
        action = request.POST.get("action")
        if action == "confirm":
            return _confirm(request, commission)
        if action == "cancel":
            cancel_form = CancelForm(request.POST)
            response = _cancel(request, commission, cancel_form)
            if response is not None:
                return response
            commission = commission_or_404(request, pk, detail=True)
        else:
            messages.error(request, _("Action inconnue."))
    return _render_detail(request, commission, can_manage=can_manage, cancel_form=cancel_form)


def _render_detail(request, commission, *, can_manage: bool, cancel_form=None):
    members = president_first(commission.members.all())
    mine = next((m for m in members if m.evaluator.user_id == request.user.pk), None)
    draft = commission.status == CommissionStatus.DRAFT
    scheduled = [{"scheduled": s, "registration": s.registration,
                  "modalities": list(s.registration.planned_modalities.all())}
                 for s in commission.scheduled.all()]
    return render(request, "commissions/commission_detail.html", {
        "commission": commission,
        "certifications": list(commission.certifications.all()),
        "members": members,
        "scheduled_rows": scheduled,
        "can_manage": can_manage,
        "mine": mine,
        "answer_url": answer_path(mine) if mine and awaits_answer(commission) else "",
        "problems": services.composition_problems(commission) if can_manage and draft else [],
        "editable": commission.status in (CommissionStatus.DRAFT, CommissionStatus.CONFIRMED),
        "cancel_form": cancel_form or (CancelForm() if can_manage else None),
    })


def _confirm(request, commission):
    try:
        services.confirm_commission(commission=commission, actor=request.user)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("Commission confirmée : les convocations sont envoyées aux "
                                    "membres et aux candidats."))
    return redirect("commissions:commission_detail", pk=commission.pk)


def _cancel(request, commission, form):
    if not form.is_valid():
        return None
    try:
        services.cancel_commission(commission=commission, actor=request.user,
                                   reason=form.cleaned_data["reason"])
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
        return None
    messages.success(request, _("Commission annulée."))
    return redirect("commissions:commission_detail", pk=commission.pk)


# ---------------------------------------------------------------------------
# Dossiers and their documents (read-only)
# ---------------------------------------------------------------------------
@login_required
def dossier(request, pk: int, registration_pk: int):
    commission = commission_or_404(request, pk)
    member_reading = _member_reading(request, commission)
    scheduled = (ScheduledCandidate.objects.filter(commission=commission,
                                                   registration_id=registration_pk).first())
    if scheduled is None:
        raise Http404
    registration = selectors.dossier_for_commission(registration_pk)
    planned = {p.competence_id: p for p in registration.planned_modalities.all()}
    groups: list[dict] = []
    for competence in registration.version.competences.all():
        if not groups or groups[-1]["bloc"] != competence.bloc:
            groups.append({"bloc": competence.bloc, "rows": []})
        groups[-1]["rows"].append({"competence": competence,
                                   "planned": planned.get(competence.pk)})
    return render(request, "commissions/dossier_detail.html", {
        "commission": commission,
        "scheduled": scheduled,
        "registration": registration,
        "candidate": registration.candidate,
        "dossier_groups": groups,
        "documents": list(registration.documents.all()),
        "opinion": getattr(registration, "company_opinion", None),
        "member_reading": member_reading,
    })


@login_required
def dossier_document(request, pk: int, document_pk: int):
    commission = commission_or_404(request, pk)
    _member_reading(request, commission)
    documents = Document.objects.filter(superseded_at__isnull=True,
                                        registration__schedulings__commission=commission)
    return document_response(get_object_or_404(documents, pk=document_pk))
