"""Partial results that last (DOMAIN.md §6), as people read them: the panel of a registration's
dossier listing what it carries over from earlier juries (loaded into the candidates' page,
which may not import this app), and the candidate's relevé through their personal link."""

import rules
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.shortcuts import render
from django.views.decorators.http import require_GET

from candidates import selectors as candidate_selectors
from candidates import services as candidate_services
from candidates.models import LinkPurpose, Registration
from evaluations import acquired, documents_jury
from evaluations.models import GeneratedDocument
from evaluations.tasks import ensure_rendered


def _private(response):
    response["Cache-Control"] = "private, no-store"
    return response


def sources(results: acquired.AcquiredResults) -> dict[int, GeneratedDocument]:
    """The relevé (or, failing one, the letter) of each source decision, by decision id."""
    decision_ids = {item.decision_id for item in (*results.bloc_list, *results.competence_list,
                                                  *results.expired_list)}
    documents = {}
    for document in (GeneratedDocument.objects
                     .filter(decision_id__in=decision_ids,
                             kind__in=[GeneratedDocument.Kind.PARTIAL,
                                       GeneratedDocument.Kind.LETTER])
                     .order_by("kind")):  # « lettre_resultats » before « releve_partiel »
        documents[document.decision_id] = document
    return documents


@login_required
@require_GET
def registration_carried_over(request, registration_pk: int):
    """What a registration starts from (staff of its centre): each bloc and competence
    validated by an earlier jury, from which jury and until when, and what expired."""
    registration = (candidate_selectors.registrations_visible_to(request.user)
                    .select_related("candidate", "version__certification")
                    .filter(pk=registration_pk).first())
    if registration is None or not rules.has_perm("candidates.manage_registration",
                                                  request.user, registration):
        raise Http404
    results = acquired.carried_over(registration)
    documents = sources(results)

    def rows(items):
        return [(item, documents.get(item.decision_id)) for item in items]

    return _private(render(request, "evaluations/_carried_over.html", {
        "registration": registration, "results": results,
        "blocs": rows(results.bloc_list), "competences": rows(results.competence_list),
        "expired": rows(results.expired_list)}))


def latest_releve(registration: Registration) -> GeneratedDocument | None:
    """The candidate's most recent relevé of validated competences for the certification of
    ``registration`` (a current, final decision of the candidate in the same centre)."""
    return (GeneratedDocument.objects
            .filter(kind=GeneratedDocument.Kind.PARTIAL, decision__final_at__isnull=False,
                    decision__superseded_by__isnull=True,
                    decision__registration__candidate_id=registration.candidate_id,
                    decision__registration__centre_id=registration.centre_id,
                    decision__registration__version__certification_id=(
                        registration.version.certification_id))
            .select_related("session").order_by("-session__date", "-pk").first())


@require_GET
def candidate_releve(request, token: str):
    """The relevé de compétences validées through the candidate's personal link (no
    account): a link that cannot be used, or a candidate without a relevé, gets a 404."""
    try:
        link = candidate_services.resolve_link(token, purpose=LinkPurpose.CANDIDATE_UPLOAD)
    except candidate_services.LinkError as exc:
        raise Http404 from exc
    document = latest_releve(link.registration)
    if document is None:
        raise Http404
    document = ensure_rendered(document)
    return _private(FileResponse(document.file.open("rb"), as_attachment=True,
                                 filename=documents_jury.download_name(document),
                                 content_type="application/pdf"))
