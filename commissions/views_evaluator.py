"""The evaluator's own pages: « Mes commissions », the answer to a convocation (the link of
the e-mail) and the deontology charter. A user without an evaluator profile gets a 404."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from commissions import impartiality, selectors, services
from commissions.forms import CharterAcceptForm, ConvocationAnswerForm
from commissions.models import CharterVersion, CommissionMember, CommissionStatus, Evaluator
from commissions.tasks import CONVOCATION_PURPOSE
from commissions.views import answer_path, awaits_answer, posted
from config.links import read_token


def _evaluator_or_404(user) -> Evaluator:
    evaluator = Evaluator.objects.filter(user=user).first()
    if evaluator is None:
        raise Http404
    return evaluator


def _client_ip(request) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


@login_required
def my_commissions(request):
    evaluator = _evaluator_or_404(request.user)
    commissions = selectors.evaluator_commissions(request.user)
    for commission in commissions["upcoming"]:
        commission.member = commission.mine[0] if commission.mine else None
        commission.answer_url = (answer_path(commission.member)
                                 if commission.member and awaits_answer(commission) else "")
    for commission in commissions["past"]:
        commission.member = commission.mine[0] if commission.mine else None
    return render(request, "commissions/commission_mine.html", {
        "upcoming": commissions["upcoming"],
        "past": commissions["past"],
        "charter_pending": not impartiality.has_accepted_current_charter(evaluator),
    })


# ---------------------------------------------------------------------------
# Convocation: confirm or decline from the e-mail's link
# ---------------------------------------------------------------------------
def _member_from_token(request, token: str) -> CommissionMember:
    """The member the link was made for, if it is the logged-in user; 404 otherwise (a
    forged, stale or someone else's link shows nothing)."""
    payload = read_token(token, purpose=CONVOCATION_PURPOSE)
    if payload is None:
        raise Http404
    member = (CommissionMember.objects.select_related("commission__centre", "evaluator__user")
              .filter(pk=payload["i"], link_nonce=payload["n"]).first())
    if member is None or member.evaluator.user_id != request.user.pk:
        raise Http404
    return member


@login_required
def convocation_answer(request, token: str):
    member = _member_from_token(request, token)
    commission = member.commission
    if not awaits_answer(commission):
        cancelled = commission.status == CommissionStatus.CANCELLED
        return render(request, "commissions/convocation_closed.html", {
            "commission": commission, "member": member, "cancelled": cancelled,
        }, status=410)
    form = ConvocationAnswerForm(posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            services.answer_convocation(member=member, answer=form.cleaned_data["answer"])
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
        else:
            messages.success(request, _("Votre réponse est enregistrée. Vous pouvez la modifier "
                                        "jusqu'à la veille de la commission."))
            return redirect(request.path)
    return render(request, "commissions/convocation_answer.html", {
        "commission": commission, "member": member, "form": form,
    })


# ---------------------------------------------------------------------------
# Deontology charter
# ---------------------------------------------------------------------------
@login_required
def charter(request):
    evaluator = _evaluator_or_404(request.user)
    current = CharterVersion.current()
    if current is None:
        raise Http404
    acceptances = list(evaluator.charter_acceptances.select_related("charter")
                       .order_by("-accepted_at"))
    accepted = next((a for a in acceptances if a.charter_id == current.pk), None)
    form = CharterAcceptForm(posted(request), charter=current)
    if request.method == "POST" and accepted is None and form.is_valid():
        services.accept_charter(evaluator=evaluator, charter=current, ip=_client_ip(request))
        messages.success(request, _("Merci : votre engagement à respecter la charte %(label)s "
                                    "est enregistré.") % {"label": current.label})
        return redirect("commissions:charter")
    return render(request, "commissions/charter_detail.html", {
        "charter": current, "accepted": accepted, "acceptances": acceptances, "form": form,
    })
