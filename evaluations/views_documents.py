"""Signed documents (DESIGN.md §5): the grid PDF on demand, the ZIP of a commission's signed
grids with its progress, the documents of the jury paritaire (PV, attendance sheet, results
letters, attestations, relevés, the CPNE bundle) and the public verification page.

The grid PDF and ZIP pages are for the grid's commission members and the centre's staff; a
jury's PV and attendance sheet for the centre's staff and the session's members; a candidate's
letter, attestation or relevé and the CPNE bundle for the centre's staff only. Anyone else gets
a 404. The verification page is public and shows the minimum (issues 5 and 6): never a level,
a comment or any personal data beyond the candidate's name.
"""

import datetime
import logging
import re

import rules
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST
from django_ratelimit.decorators import ratelimit

from certifications.scoping import staff_centre_ids
from commissions.models import Commission, JurySession
from config.tasks import send_on_commit
from evaluations import documents_jury
from evaluations.integrity import document_is_intact
from evaluations.models import VERIFIABLE_KINDS, BatchExport, GeneratedDocument, Grid, GridState
from evaluations.pdf import current_document, current_document_id, document_signatures
from evaluations.tasks import build_commission_zip, ensure_rendered
from evaluations.views_grid import grid_or_404

logger = logging.getLogger(__name__)

# ---------------------------------------------------------------------------
# The grid PDF
# ---------------------------------------------------------------------------


@login_required
@require_GET
def grid_pdf(request, grid_pk: int):
    grid = grid_or_404(request, grid_pk)  # the grid page's access, cancelled commission included
    if not rules.has_perm("evaluations.see_grid", request.user, grid) or grid.purged_at:
        raise Http404
    document = current_document(grid)
    if document is None:
        raise Http404
    document = ensure_rendered(document)
    response = FileResponse(document.file.open("rb"), as_attachment=True,
                            filename=f"grille-{grid.scheduled.registration.reference}.pdf",
                            content_type="application/pdf")
    response["Cache-Control"] = "private, no-store"
    return response


# ---------------------------------------------------------------------------
# The ZIP of a commission's signed grids
# ---------------------------------------------------------------------------
def _batch_or_404(request, batch_pk: int) -> BatchExport:
    """The export if the user asked for it or is staff of its commission's centre."""
    batch = get_object_or_404(BatchExport.objects.select_related("commission__centre"),
                              pk=batch_pk)
    if (batch.requested_by_id != request.user.pk
            and batch.commission.centre_id not in staff_centre_ids(request.user)):
        raise Http404
    return batch


@login_required
@require_POST
def commission_zip(request, commission_pk: int):
    commission = get_object_or_404(Commission.objects.select_related("centre"),
                                   pk=commission_pk)
    if not rules.has_perm("commissions.manage_commission", request.user, commission):
        raise Http404
    total = Grid.objects.filter(scheduled__commission=commission, state=GridState.SIGNED,
                                purged_at__isnull=True).count()
    if not total:
        messages.info(request, _("Aucune grille de cette commission n'est encore signée."))
        return redirect("commissions:commission_detail", pk=commission.pk)
    with transaction.atomic():
        batch = BatchExport.objects.create(commission=commission, requested_by=request.user,
                                           total=total)
        send_on_commit(build_commission_zip, batch_id=batch.pk)
    return redirect("grids:zip_status", batch_pk=batch.pk)


@login_required
@require_GET
@never_cache
def zip_status(request, batch_pk: int):
    batch = _batch_or_404(request, batch_pk)
    context = {"batch": batch, "commission": batch.commission,
               "step": 5 * (batch.percent // 5)}
    if request.htmx:
        return render(request, "documents/_export_progress.html", context)
    return render(request, "documents/export_status.html", context)


@login_required
@require_GET
def zip_download(request, batch_pk: int):
    batch = _batch_or_404(request, batch_pk)
    if not batch.finished_at or batch.error or not batch.file:
        raise Http404
    try:
        stream = batch.file.open("rb")
    except FileNotFoundError as exc:
        raise Http404 from exc
    response = FileResponse(
        stream, as_attachment=True, content_type="application/zip",
        filename=f"grilles-commission-{batch.commission.date:%Y-%m-%d}.zip")
    response["Cache-Control"] = "private, no-store"
    return response


# ---------------------------------------------------------------------------
# Public verification
# ---------------------------------------------------------------------------
CODE_GROUP = 5


def normalise_code(raw: str) -> str:
    """Upper case, no spaces; a code typed without its dashes gets them back."""
    code = re.sub(r"\s+", "", raw or "").upper()
    bare = code.replace("-", "")
    if len(bare) == 4 * CODE_GROUP and bare.isalnum():
        code = "-".join(bare[i:i + CODE_GROUP] for i in range(0, len(bare), CODE_GROUP))
    return code


def _public(response):
    """A verification answer is never cached nor indexed."""
    response["Cache-Control"] = "no-store"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


@require_GET
def verify_form(request):
    raw = request.GET.get("code")
    if raw is not None:
        code = normalise_code(raw)
        if code:
            return redirect("verify", code=code)
    return _public(render(request, "documents/verify_form.html",
                          {"empty": raw is not None}))


# What new_verification_code makes, once normalised: only such a code is worth a redirect.
CODE_PATTERN = re.compile(r"[A-Z2-9]{5}(?:-[A-Z2-9]{5}){3}")


def verify_rate(group, request) -> str:
    return settings.RATELIMIT_RATES["VERIFY"]


def _verify_page(request, context: dict, status: int = 200):
    return _public(render(request, "documents/verify_result.html", context, status=status))


@require_GET
@ratelimit(group="verify", key="ip", rate=verify_rate, block=False)
def verify(request, code: str):
    """The public answer for one code. Codes are unguessable (new_verification_code) and
    counted per address; an unknown code and a malformed one run the same lookup and get the
    same page, so that nothing is learnt from trying."""
    if request.limited:
        response = _public(render(request, "documents/verify_limited.html", status=429))
        response["Retry-After"] = "60"
        return response
    normalised = normalise_code(code)
    if normalised != code and CODE_PATTERN.fullmatch(normalised):
        return redirect("verify", code=normalised)
    document = (GeneratedDocument.objects.select_related("grid", "minutes")
                .annotate(current_id=current_document_id())
                .filter(verification_code=code, kind__in=VERIFIABLE_KINDS).first())
    if document is None or (document.kind == GeneratedDocument.Kind.GRID
                            and document.grid is None):
        return _verify_page(request, {"status": "unknown", "code": code}, status=404)
    signatures = (document_signatures(document)
                  if document.kind == GeneratedDocument.Kind.GRID else None)
    if not document_is_intact(document, signatures=signatures):
        # Edited behind the application's back: never shown as authentic.
        logger.warning("Verify: document %s (%s) no longer matches its signed content",
                       document.pk, document.kind)
        return _verify_page(request, {"status": "tampered", "code": code})
    if document.kind != GeneratedDocument.Kind.GRID:
        return _public(render(request, "documents/verify_jury_result.html", {
            "code": code, "document": document, **documents_jury.verification(document)}))
    return _verify_grid(request, code, document, signatures)


def _verify_grid(request, code: str, document: GeneratedDocument, signatures: list):
    grid = document.grid
    # current_document(grid), read with the document (current_document_id).
    if grid.state != GridState.SIGNED or document.current_id != document.pk:
        return _verify_page(request, {"status": "replaced", "code": code,
                                      "reopened_at": grid.reopened_at})
    snapshot = signatures[0].snapshot if signatures else grid.snapshot
    return _verify_page(request, {
        "status": "valid",
        "code": code,
        "document": document,
        "certification": snapshot["certification"],
        "commission_date": datetime.date.fromisoformat(snapshot["commission"]["date"]),
        "candidate_name": snapshot["candidate"]["name"],
        "signatures": signatures,
        # Effaced at the end of its retention (evaluations.retention): authentic, no content.
        "purged_at": grid.purged_at,
    })


# ---------------------------------------------------------------------------
# Documents of the jury paritaire (DOMAIN.md §6)
# ---------------------------------------------------------------------------
def _staff_session_or_404(request, pk: int) -> JurySession:
    session = get_object_or_404(JurySession, pk=pk)
    if not rules.has_perm("evaluations.manage_session", request.user, session):
        raise Http404
    return session


def _private(response):
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_GET
def attendance_pdf(request, pk: int):
    """The attendance sheet to print before the jury and sign on the day (rendered now)."""
    session = get_object_or_404(JurySession.objects.select_related("centre"), pk=pk)
    if not rules.has_perm("evaluations.see_session", request.user, session):
        raise Http404
    response = HttpResponse(documents_jury.attendance_pdf(session),
                            content_type="application/pdf")
    response["Content-Disposition"] = (
        f'inline; filename="emargement-jury-{session.date.isoformat()}.pdf"')
    return _private(response)


@login_required
@require_GET
def jury_document(request, document_pk: int):
    """One document of a jury session: the PV and the attendance record for its members and
    the centre's staff; a candidate's letter, attestation or relevé, and the CPNE bundle, for
    the staff only. Rendered now if the task has not done it yet."""
    document = get_object_or_404(GeneratedDocument.objects.select_related("session"),
                                 pk=document_pk, session__isnull=False)
    session = document.session
    permission = ("evaluations.see_session" if document.kind in documents_jury.SESSION_KINDS
                  else "evaluations.manage_session")
    if not rules.has_perm(permission, request.user, session):
        raise Http404
    document = ensure_rendered(document)
    content_type = ("application/zip" if document.kind == GeneratedDocument.Kind.CPNE
                    else "application/pdf")
    return _private(FileResponse(document.file.open("rb"), as_attachment=True,
                                 filename=documents_jury.download_name(document),
                                 content_type=content_type))


@login_required
@require_POST
def cpne_bundle(request, pk: int):
    """Prepare the bundle for the CPNE (staff of the centre, after the PV is signed)."""
    session = _staff_session_or_404(request, pk)
    try:
        bundle = documents_jury.request_cpne_bundle(session=session, actor=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        bundle.refresh_from_db()
        if bundle.file:
            messages.success(request, _("Le dossier pour la CPNE est prêt à télécharger."))
        else:
            messages.info(request, _("Le dossier pour la CPNE est en préparation : il sera "
                                     "téléchargeable dans quelques instants."))
    return redirect("juries:session_detail", pk=session.pk)


@login_required
@require_GET
def cpne_download(request, pk: int):
    session = _staff_session_or_404(request, pk)
    bundle = documents_jury.latest_cpne_bundle(session)
    if bundle is None:
        raise Http404
    bundle = ensure_rendered(bundle)
    return _private(FileResponse(bundle.file.open("rb"), as_attachment=True,
                                 filename=documents_jury.download_name(bundle),
                                 content_type="application/zip"))
