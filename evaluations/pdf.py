"""Official documents of the evaluations app, rendered from signed snapshots (never from live
rows) so that a signed document can always be reproduced and checked (DESIGN.md §4b, §5).

The template receives plain data prepared here (labels resolved, dates parsed, competences
grouped by bloc): it makes no query. A document is always rendered in French and in the
centre's time zone, whoever asks for it, so that regenerating it gives the same text.
"""

import datetime

from django.conf import settings
from django.db.models import OuterRef, Q, Subquery
from django.urls import reverse
from django.utils import timezone, translation

from certifications.models import CertificationKind, Modality
from commissions.models import MemberRole, ScheduledCandidate
from config.pdf import qr_svg_data_uri, render_pdf
from evaluations.models import GeneratedDocument, Grid, GridState, IncidentKind, Signature


def verify_url(code: str) -> str:
    return settings.SITE_URL + reverse("verify", args=[code])


def _latest_grid_documents(grid, snapshot_sha256):
    return (GeneratedDocument.objects.filter(grid=grid, kind=GeneratedDocument.Kind.GRID,
                                             content_sha256=snapshot_sha256)
            .order_by("-created_at", "-pk"))


def current_document(grid: Grid) -> GeneratedDocument | None:
    """The latest document of the grid's current signed content; None unless the grid is
    signed. Any other document of the grid has been replaced (the grid was reopened)."""
    if grid.state != GridState.SIGNED:
        return None
    return _latest_grid_documents(grid, grid.snapshot_sha256).first()


def current_document_id() -> Subquery:
    """``current_document(document.grid).pk`` inside a query of documents (their grid's
    state still to be checked to be signed): the verify page reads it with the document."""
    return Subquery(_latest_grid_documents(OuterRef("grid"), OuterRef("grid__snapshot_sha256"))
                    .values("pk")[:1])


def document_signatures(document: GeneratedDocument) -> list[Signature]:
    """The signatures that locked exactly this document's content: same content hash, given
    before the document was issued and not voided before it (a later reopening voids them,
    but they remain the signatures of this document)."""
    return list(
        Signature.objects.filter(grid_id=document.grid_id,
                                 snapshot_sha256=document.content_sha256,
                                 signed_at__lte=document.created_at)
        .filter(Q(voided_at__isnull=True) | Q(voided_at__gt=document.created_at))
        .order_by("signed_at", "pk")
    )


def _label(choices, value) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return value or ""


def _date(value: str | None):
    return datetime.date.fromisoformat(value) if value else None


def _datetime(value: str | None):
    return datetime.datetime.fromisoformat(value) if value else None


def _blocs(competences: list[dict]) -> list[dict]:
    """Competences grouped by bloc, in snapshot (referential) order."""
    groups: list[dict] = []
    for competence in competences:
        bloc = competence.get("bloc")
        if not groups or groups[-1]["bloc"] != bloc:
            groups.append({"bloc": bloc, "competences": []})
        groups[-1]["competences"].append({
            **competence,
            "planned_label": _label(Modality, competence["planned_modality"]),
            "modality_changed": competence["planned_modality"] != competence["modality_used"],
        })
    return groups


def grid_context(document: GeneratedDocument) -> dict:
    """Everything the grid template prints, from the snapshot and the document's signatures."""
    signatures = document_signatures(document)
    snapshot = signatures[0].snapshot if signatures else document.grid.snapshot
    url = verify_url(document.verification_code)
    attendance = dict(ScheduledCandidate._meta.get_field("attendance").choices)
    certification = snapshot["certification"]
    return {
        "snapshot": snapshot,
        "certification": {**certification,
                          "kind_label": _label(CertificationKind, certification["kind"])},
        "candidate": {**snapshot["candidate"],
                      "birth_date": _date(snapshot["candidate"].get("birth_date"))},
        "commission": {
            **snapshot["commission"],
            "date": _date(snapshot["commission"]["date"]),
            "members": sorted(({**m, "role_label": _label(MemberRole, m["role"])}
                               for m in snapshot["commission"]["members"]),
                              key=lambda m: m["role"] != MemberRole.PRESIDENT),
        },
        "attendance": str(attendance.get(snapshot.get("attendance"), "")) or "—",
        "blocs": _blocs(snapshot["competences"]),
        "incidents": [{**i, "kind_label": _label(IncidentKind, i["kind"]),
                       "reported_at": _datetime(i["reported_at"])}
                      for i in snapshot["incidents"]],
        "signatures": [{"name": s.signer_name, "signed_at": s.signed_at,
                        "consent_version": s.consent_version, "sha256": s.snapshot_sha256}
                       for s in signatures],
        "document": {"kind_label": document.get_kind_display(),
                     "code": document.verification_code,
                     "content_sha256": document.content_sha256,
                     "issued_at": document.created_at},
        "verify_url": url,
        "qr": qr_svg_data_uri(url),
    }


def grid_pdf(document: GeneratedDocument) -> bytes:
    with translation.override(settings.LANGUAGE_CODE), timezone.override(settings.TIME_ZONE):
        return render_pdf("documents/grid.html", grid_context(document))
