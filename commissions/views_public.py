"""« Devenez évaluateur »: the public application to the centre's network of expert
evaluators (no account). Staff review it in ``views_staff``.

Anyone may post it, so two guards come before the form: a rate per client address
(``RATELIMIT_RATES["PUBLIC_APPLICATION"]``: the next one gets the French 429 page and nothing
is kept) and a honeypot field robots fill (``EvaluatorApplicationForm.is_spam``).
"""

from django.conf import settings
from django.shortcuts import redirect, render
from django_ratelimit.decorators import ratelimit

from certifications.models import Centre
from commissions.forms import EvaluatorApplicationForm
from commissions.views import posted


def application_rate(group, request) -> str:
    """The rate from the settings, read at each request (tests override it)."""
    return settings.RATELIMIT_RATES["PUBLIC_APPLICATION"]


@ratelimit(key="ip", rate=application_rate, method="POST", block=False)
def apply(request):
    if getattr(request, "limited", False):
        return render(request, "429.html", status=429)
    form = EvaluatorApplicationForm(posted(request), centres=Centre.objects.all())
    if request.method == "POST":
        if form.is_spam:  # the honeypot: a robot is thanked, nothing is kept
            return redirect("commissions:apply_thanks")
        if form.is_valid():
            form.save()
            return redirect("commissions:apply_thanks")
    return render(request, "commissions/application_form.html", {"form": form})


def apply_thanks(request):
    return render(request, "commissions/application_thanks.html")
