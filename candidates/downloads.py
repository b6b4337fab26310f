"""Serving a stored dossier document to someone a view has already allowed to see it."""

from django.http import FileResponse, Http404

from candidates.models import Document


def document_response(document: Document) -> FileResponse:
    """The file as an attachment under its original name, never cached by the browser.
    A file effaced at the end of its retention period (evaluations.retention) is gone: 404."""
    if not document.file:
        raise Http404
    try:
        stream = document.file.open("rb")
    except FileNotFoundError as exc:
        raise Http404 from exc
    response = FileResponse(stream, as_attachment=True, filename=document.original_name,
                            content_type=document.content_type)
    response["Cache-Control"] = "private, no-store"
    return response
