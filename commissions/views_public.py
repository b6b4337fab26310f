"""« Devenez évaluateur »: the public application to the centre's network of expert
evaluators (no account). Staff review it in ``views_staff``."""

from django.shortcuts import redirect, render

from certifications.models import Centre
from commissions.forms import EvaluatorApplicationForm
from commissions.views import posted


def apply(request):
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
