"""« Déclarations Caisse des Dépôts » (DOMAIN.md §7): the staff of a centre see their awards,
generate the file and import the receipts; the national read-only role reads every centre;
anyone else gets a 404 (DESIGN.md §2)."""

import tempfile

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from reporting import selectors, services
from reporting.forms_declarations import ReceiptUploadForm

PAGE = "reporting:declarations"


def _scope(request, *, act: bool = False) -> selectors.DeclarationScope:
    scope = selectors.declaration_scope(request.user)
    if scope is None or (act and not scope.may_act):
        raise Http404
    return scope


def _xml_response(handle, batch) -> FileResponse:
    handle.seek(0)
    return FileResponse(handle, as_attachment=True, filename=batch.file_name,
                        content_type="application/xml")


@login_required
def declarations(request):
    scope = _scope(request)
    # The awards follow the decisions and identities as they are now (idempotent; a
    # national reader sees the same truth as the centres' staff).
    services.sync_awards(centre_ids=scope.centre_ids)
    return render(request, "reporting/declarations.html", {
        **selectors.overview(scope), "scope": scope,
        "missing_settings": services.missing_settings(),
        "receipt_form": ReceiptUploadForm(),
    })


@login_required
@require_POST
def generate(request):
    """« Générer le fichier »: a new batch of every due award, downloaded at once."""
    scope = _scope(request, act=True)
    centre = request.user.memberships.filter(centre_id__in=scope.centre_ids).first()
    handle = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it
    try:
        generated = services.generate_batch(
            actor=request.user, out=handle, centre_ids=scope.centre_ids,
            centre=centre.centre if centre and len(scope.centre_ids) == 1 else None)
    except ValidationError as error:
        handle.close()
        messages.error(request, " ".join(error.messages))
        return redirect(PAGE)
    return _xml_response(handle, generated.batch)


@login_required
def batch_download(request, pk: int):
    """A past batch's file, written again from what was stored and checked against its
    SHA-256: the file sent is the file downloaded."""
    batch = selectors.batch_for(_scope(request, act=True), pk)
    if batch is None:
        raise Http404
    handle = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it
    if services.write_batch(batch, handle) != batch.sha256:
        handle.close()
        messages.error(request, _("Le fichier du lot %(flux)s ne se reproduit pas à "
                                  "l'identique : signalez-le à l'administrateur.")
                       % {"flux": batch.id_flux})
        return redirect(PAGE)
    return _xml_response(handle, batch)


@login_required
@require_POST
def receipt_upload(request):
    scope = _scope(request, act=True)
    form = ReceiptUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, " ".join(errors))
        return redirect(PAGE)
    try:
        result = services.import_receipt(data=form.cleaned_data["file"].read(),
                                         actor=request.user, centre_ids=scope.centre_ids)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(PAGE)
    messages.success(request, result.summary())
    return redirect(PAGE)


@login_required
@require_POST
def resend(request, pk: int):
    """A refused award, corrected, goes back to the due list under the same idTechnique."""
    award = selectors.award_for(_scope(request, act=True), pk)
    if award is None:
        raise Http404
    try:
        services.resend(award=award, actor=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Passage %(id)s remis à déclarer.")
                         % {"id": award.id_technique})
    return redirect(PAGE)
