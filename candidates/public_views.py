"""Pages reached through a personal link, without an account (DESIGN.md §2): the candidate's
space (their status, the upload of the rapport d'activités) and the tutor's avis form.

The token in the URL is the only credential. A logged-in user gets exactly the same page as
an anonymous visitor, and a link that cannot be used shows its reason and nothing of the
registration: 404 when the token is not a link for this page (guessed, mistyped, signed for
another page, stale nonce), 410 when it was one but is no longer usable (expired, replaced,
already used, closed dossier). The forms of a link accept RATELIMIT_RATES["LINK_FORM"]
submissions; beyond, a 429 page and nothing is recorded.
"""

from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods
from django_ratelimit.decorators import ratelimit

from candidates import services, uploads
from candidates.models import (
    CompanyOpinion,
    DocumentKind,
    LinkPurpose,
    Registration,
    RegistrationState,
)
from candidates.public_forms import ActivityReportForm, CompanyOpinionForm
from candidates.services import LinkError

S = RegistrationState

REFUSAL_TITLES = {
    LinkError.INVALID: gettext_lazy("Lien non valide"),
    LinkError.EXPIRED: gettext_lazy("Lien expiré"),
    LinkError.REVOKED: gettext_lazy("Lien remplacé"),
    LinkError.USED: gettext_lazy("Lien déjà utilisé"),
    LinkError.CLOSED: gettext_lazy("Dossier clos"),
}

# What the candidate reads about their own registration, in plain words.
STATE_SENTENCES = {
    S.INSCRIT: gettext_lazy("Votre inscription est enregistrée. Le centre de certification "
                            "prépare votre dossier d'évaluation."),
    S.EN_FORMATION: gettext_lazy("Vous suivez la formation prévue avant l'évaluation."),
    S.PRET_EVALUATION: gettext_lazy("Votre dossier est complet : vous êtes prêt(e) pour "
                                    "l'évaluation. Le centre vous convoquera devant la "
                                    "commission d'évaluation."),
    S.EVALUE: gettext_lazy("Votre évaluation a eu lieu. Le jury paritaire va délibérer ; le "
                           "centre vous communiquera le résultat."),
}
# The candidate may send (or replace) the report until the evaluation has taken place.
REPORT_STATES = frozenset({S.INSCRIT, S.EN_FORMATION, S.PRET_EVALUATION})
STEP_NAMES = {
    1: gettext_lazy("Inscription"),
    2: gettext_lazy("Formation"),
    3: gettext_lazy("Évaluation"),
    4: gettext_lazy("Délibération"),
}


# The URL carries a credential: it must never reach another site as a referrer. Not
# "no-referrer": under that policy browsers send ``Origin: null`` with the page's own form
# POST, which Django's CSRF origin check refuses; "same-origin" sends nothing to any other
# site and keeps the CSRF protection of the forms.
REFERRER_POLICY = "same-origin"


def _private(response):
    """Never index, cache or pass on these pages (tokens in URLs)."""
    response["Referrer-Policy"] = REFERRER_POLICY
    response["X-Robots-Tag"] = "noindex, nofollow"
    add_never_cache_headers(response)
    return response


def link_form_rate(group, request) -> str:
    return settings.RATELIMIT_RATES["LINK_FORM"]


def link_form_key(group, request) -> str:
    """Counted per link (its path holds the token): a leaked link cannot be used to flood
    the centre with uploads, and one person's retries never block another link."""
    return request.path


def _too_many(request):
    context = {"title": _("Trop de demandes"),
               "message": _("Ce formulaire a été envoyé trop de fois en peu de temps : rien "
                            "n'a été enregistré cette fois-ci. Réessayez un peu plus tard.")}
    return render(request, "candidates/public/link_refused.html", context, status=429)


def _refused(request, error: LinkError):
    status = 404 if error.reason == LinkError.INVALID else 410
    context = {"title": REFUSAL_TITLES.get(error.reason, REFUSAL_TITLES[LinkError.INVALID]),
               "message": str(error)}
    return render(request, "candidates/public/link_refused.html", context, status=status)


def link_page(purpose: str):
    """Resolve the token for ``purpose`` and call the view with the link, or show why the
    link cannot be used (also when it stops being usable while the view runs)."""

    def decorator(view):
        @wraps(view)
        @ratelimit(group=f"links:{purpose}", key=link_form_key, rate=link_form_rate,
                   method="POST", block=False)
        def wrapper(request, token):
            if getattr(request, "limited", False):
                return _private(_too_many(request))
            try:
                link = services.resolve_link(token, purpose=purpose)
                response = view(request, link)
            except LinkError as error:
                response = _refused(request, error)
            return _private(response)

        return wrapper

    return decorator


def _candidate_space_context(registration: Registration) -> dict:
    registration = (Registration.objects
                    .select_related("candidate", "version__certification")
                    .prefetch_related("planned_modalities", "trainings", "documents",
                                      "version__competences")
                    .get(pk=registration.pk))
    report = next((d for d in registration.documents.all()
                   if d.kind == DocumentKind.ACTIVITY_REPORT and d.is_current), None)
    report_missing = others_missing = False
    if registration.dossier_editable:
        # Only what the candidate can act on; the rest is the centre's work, summarised.
        report_missing = services.activity_report_missing(registration)
        others_missing = len(services.readiness_problems(registration)) > int(report_missing)
    return {
        "registration": registration,
        "first_names": registration.candidate.first_names,
        "certification": registration.version.certification,
        "state_sentence": STATE_SENTENCES.get(registration.state,
                                              registration.get_state_display()),
        "step": registration.step,
        "step_name": STEP_NAMES.get(registration.step, ""),
        "report": report,
        "report_missing": report_missing,
        "others_missing": others_missing,
        # A jury already deliberated on an earlier registration for the same certification:
        # the candidate downloads the relevé of what they validated (DOMAIN.md §6).
        "has_earlier_results": Registration.objects.filter(
            candidate_id=registration.candidate_id, centre_id=registration.centre_id,
            version__certification_id=registration.version.certification_id,
            state=S.DELIBERE).exclude(pk=registration.pk).exists(),
    }


@uploads.capped_upload
@require_http_methods(["GET", "POST"])
@link_page(LinkPurpose.CANDIDATE_UPLOAD)
def candidate_space(request, link):
    """The candidate's own status and the upload of their rapport d'activités; re-uploading
    replaces the current report (the old version is kept by the service)."""
    context = _candidate_space_context(link.registration)
    context["link"] = link
    if link.registration.state not in REPORT_STATES:
        # The report's purpose is done: the commission has evaluated on the one it received.
        if request.method == "POST":
            raise LinkError(_("Le dépôt du rapport d'activités est clos : l'évaluation a eu "
                              "lieu sur la version déjà reçue."), reason=LinkError.CLOSED)
        return render(request, "candidates/public/candidate_space.html", context)
    max_bytes = settings.CANDIDATES["DOCUMENT_MAX_BYTES"]
    form = ActivityReportForm(
        request.POST if request.method == "POST" else None,
        request.FILES if request.method == "POST" else None,
        max_mb=max_bytes // (1024 * 1024), replacing=context["report"] is not None,
        too_large=getattr(request, "upload_too_large", False),
    )
    if form.is_bound and form.is_valid():
        try:
            services.upload_document(registration=link.registration,
                                     kind=DocumentKind.ACTIVITY_REPORT,
                                     uploaded=form.cleaned_data["file"], via_link=True)
        except ValidationError as error:
            form.add_error("file", error.messages)
        else:
            messages.success(request, _("Votre rapport d'activités a bien été reçu. Merci !"))
            return redirect(request.path)
    context["form"] = form
    return render(request, "candidates/public/candidate_space.html", context)


@require_http_methods(["GET", "POST"])
@link_page(LinkPurpose.COMPANY_OPINION)
def company_opinion(request, link):
    """The tutor's avis de l'entreprise (DOMAIN.md §2, step 3); the link serves once, and
    no longer once the registration has its avis, whichever link brought it."""
    registration = link.registration
    if CompanyOpinion.objects.filter(registration=registration).exists():
        raise LinkError(_("L'avis de l'entreprise a déjà été reçu pour ce candidat : ce lien "
                          "ne sert plus."), reason=LinkError.USED)
    form = CompanyOpinionForm(request.POST if request.method == "POST" else None,
                              competences=registration.version.competences_in_order(),
                              tutor=registration.tutor)
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        try:
            services.submit_company_opinion(
                link=link, given_by_name=data["given_by_name"],
                given_by_function=data["given_by_function"], overall=data["overall"],
                comment=data["comment"], items=form.items(),
            )
        except ValidationError as error:
            form.add_error(None, error.messages)
        else:
            return redirect("links:company_opinion_thanks")
    context = {"form": form, "link": link, "candidate": registration.candidate,
               "certification": registration.version.certification}
    return render(request, "candidates/public/company_opinion.html", context)


@require_GET
def company_opinion_thanks(request):
    """Shown after the avis was recorded; holds no data, so it needs no token."""
    return _private(render(request, "candidates/public/company_opinion_thanks.html"))
