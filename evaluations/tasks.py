"""Document generation (Celery, STYLE.md §7): thin, idempotent — running a task twice, or
again after a worker died half-way, produces exactly one document."""

import hashlib
import io
import logging
import tempfile
import zipfile
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.mail import EmailMessage
from django.db import OperationalError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from candidates import services as candidate_services
from evaluations import documents_jury, pdf
from evaluations.models import (
    BatchExport,
    Decision,
    GeneratedDocument,
    Grid,
    GridEvent,
    GridState,
    Minutes,
)

logger = logging.getLogger(__name__)


def _store(document: GeneratedDocument, name: str, content: bytes) -> None:
    """Save the rendered file on the document with its fingerprint (the caller holds the lock)."""
    document.file.save(name, ContentFile(content), save=False)
    document.file_sha256 = hashlib.sha256(content).hexdigest()
    document.generated_at = timezone.now()
    document.save(update_fields=["file", "file_sha256", "generated_at"])


# Transient failures (file system, a database briefly unavailable or locked) are retried;
# the tasks are idempotent, so a retry or a second delivery never makes a second document.
RETRIED = (OSError, OperationalError)


def _pending(document_id: int, *, lock: bool = False, related=(), **filters):
    """The document still to render, or None when it is gone or already has its file;
    ``lock``: its row locked, to store the file."""
    documents = GeneratedDocument.objects.filter(pk=document_id, **filters)
    documents = (documents.select_for_update(of=("self",)) if lock
                 else documents.select_related(*related))
    document = documents.first()
    return None if document is None or document.file else document


@shared_task(acks_late=True, autoretry_for=RETRIED, retry_backoff=True, max_retries=5)
def render_grid_pdf(*, document_id: int) -> bool:
    # A grid whose content the retention effaced (evaluations.retention) is never rendered
    # again: its snapshot no longer holds what was signed.
    document = _pending(document_id, related=["grid"], grid__purged_at__isnull=True)
    if document is None:
        return False
    # Rendered outside any transaction: a render (~0.5 s) holds no lock — on SQLite a write
    # transaction locks the whole database. The row is locked only to store the file.
    content = pdf.grid_pdf(document)
    with transaction.atomic():
        document = _pending(document_id, lock=True)
        if document is None:
            return False  # stored meanwhile by another delivery of this task
        _store(document, f"grille-{document.grid_id}.pdf", content)
        GridEvent.objects.create(grid_id=document.grid_id, action=GridEvent.Action.DOCUMENT,
                                 target=document.verification_code,
                                 after={"file_sha256": document.file_sha256})
    return True


def ensure_rendered(document: GeneratedDocument) -> GeneratedDocument:
    """The document with its PDF file: rendered now, by the same idempotent task, when the
    worker has not done it yet (task pending, broker down) or the stored file was lost —
    the signed data is the source of truth, the PDF is regenerated identically from it.
    Any kind of document: the grid's, the jury's, the CPNE bundle."""
    if document.file and not document.file.storage.exists(document.file.name):
        GeneratedDocument.objects.filter(pk=document.pk).update(file="", file_sha256="",
                                                                generated_at=None)
        document.refresh_from_db()
    if not document.file:
        renderers = {GeneratedDocument.Kind.GRID: render_grid_pdf,
                     GeneratedDocument.Kind.CPNE: build_cpne_bundle}
        renderers.get(document.kind, render_jury_document)(document_id=document.pk)
        document.refresh_from_db()
    return document


@shared_task(acks_late=True)
def build_commission_zip(*, batch_id: int) -> bool:
    """The ZIP of every signed grid of a commission, one PDF each; ``done`` is updated after
    each grid so that the export page shows the progress. A failure is written on the export
    (``error``) and logged, never swallowed. A finished export is not built again."""
    batch = BatchExport.objects.select_related("commission").filter(pk=batch_id).first()
    if batch is None or batch.finished_at is not None:
        return False
    try:
        _write_zip(batch)
    except Exception as exc:
        logger.exception("ZIP export %s of commission %s failed", batch.pk, batch.commission_id)
        BatchExport.objects.filter(pk=batch.pk).update(
            error=_("La création du fichier ZIP a échoué : %(error)s") % {"error": exc},
            finished_at=timezone.now())
        return False
    return True


def _write_zip(batch: BatchExport) -> None:
    grids = list(Grid.objects.filter(scheduled__commission_id=batch.commission_id,
                                     state=GridState.SIGNED, purged_at__isnull=True)
                 .select_related("scheduled__registration")
                 .order_by("scheduled__start_time", "pk"))
    BatchExport.objects.filter(pk=batch.pk).update(total=len(grids), done=0, error="")
    with tempfile.TemporaryFile() as buffer:
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for done, grid in enumerate(grids, start=1):
                reference = grid.scheduled.registration.reference
                document = pdf.current_document(grid)
                if document is None:
                    raise LookupError(_("la grille signée de %(reference)s n'a pas de "
                                        "document") % {"reference": reference})
                document = ensure_rendered(document)
                with document.file.open("rb") as stream:
                    archive.writestr(f"grille-{reference}.pdf", stream.read())
                BatchExport.objects.filter(pk=batch.pk).update(done=done)
        buffer.seek(0)
        batch.file.save(f"grilles-commission-{batch.commission_id}-{batch.pk}.zip",
                        File(buffer), save=False)
    batch.total = batch.done = len(grids)
    batch.finished_at = timezone.now()
    batch.save(update_fields=["file", "total", "done", "finished_at"])


# ---------------------------------------------------------------------------
# Documents of the jury paritaire (DOMAIN.md §6): PV, attendance record, results letters,
# attestations, relevés — issued when the PV is signed (or a decision corrected), rendered
# here, then e-mailed to the candidates; and the bundle for the CPNE.
# ---------------------------------------------------------------------------
JURY_PDF_KINDS = (GeneratedDocument.Kind.PV, GeneratedDocument.Kind.ATTENDANCE,
                  GeneratedDocument.Kind.LETTER, GeneratedDocument.Kind.CERTIFICATE,
                  GeneratedDocument.Kind.PARTIAL)


def _read(document: GeneratedDocument) -> bytes:
    with ensure_rendered(document).file.open("rb") as stream:
        return stream.read()


@shared_task(acks_late=True, autoretry_for=RETRIED, retry_backoff=True, max_retries=5)
def render_jury_document(*, document_id: int) -> bool:
    """The PDF of one jury document, from its frozen content; once, however often it runs."""
    document = _pending(document_id, related=["minutes", "session", "decision"],
                        kind__in=JURY_PDF_KINDS)
    if document is None:
        return False
    content = documents_jury.document_pdf(document)  # outside the transaction, as above
    with transaction.atomic():
        locked = _pending(document_id, lock=True, kind__in=JURY_PDF_KINDS)
        if locked is None:
            return False
        _store(locked, documents_jury.download_name(document), content)
    return True


def _render_pending(documents) -> int:
    """Render, one by one, those of ``documents`` that have no file yet; how many were."""
    pending = list(documents.filter(file="").order_by("pk").values_list("pk", flat=True))
    return sum(render_jury_document(document_id=pk) for pk in pending)


@shared_task(acks_late=True, autoretry_for=RETRIED, retry_backoff=True, max_retries=5)
def render_session_documents(*, minutes_id: int) -> int:
    """Every document issued when the PV was signed, then the results e-mailed."""
    session_id = Minutes.objects.filter(pk=minutes_id).values_list("session_id", flat=True).first()
    if session_id is None:
        return 0
    rendered = _render_pending(GeneratedDocument.objects.filter(session_id=session_id,
                                                                kind__in=JURY_PDF_KINDS))
    decisions = (Decision.objects.filter(session_candidate__session_id=session_id,
                                         superseded_by__isnull=True)
                 .values_list("pk", flat=True))
    for decision_id in list(decisions):
        send_results.delay(decision_id=decision_id)
    return rendered


@shared_task(acks_late=True, autoretry_for=RETRIED, retry_backoff=True, max_retries=5)
def render_decision_documents(*, decision_id: int) -> int:
    """The documents of a corrected decision, then the corrected results e-mailed."""
    rendered = _render_pending(GeneratedDocument.objects.filter(decision_id=decision_id))
    send_results.delay(decision_id=decision_id)
    return rendered


RESULTS_ORDER = {GeneratedDocument.Kind.LETTER: 0, GeneratedDocument.Kind.CERTIFICATE: 1,
                 GeneratedDocument.Kind.PARTIAL: 2}


@shared_task(acks_late=True, autoretry_for=RETRIED, retry_backoff=True, max_retries=5)
def send_results(*, decision_id: int) -> bool:
    """E-mail the results letter (with the attestation or the relevé) to the candidate: once
    (``sent_at``), never for a decision that a correction has replaced since, and recorded on
    the registration's timeline."""
    with transaction.atomic():
        letter = (GeneratedDocument.objects.select_for_update(of=("self",))
                  .select_related("decision__registration__candidate")
                  .filter(decision_id=decision_id, kind=GeneratedDocument.Kind.LETTER).first())
        if letter is None or letter.sent_at is not None:
            return False
        decision = letter.decision
        if Decision.objects.filter(supersedes=decision).exists():
            return False
        registration = decision.registration
        email = registration.candidate.email
        if not email:
            logger.warning("Results of registration %s not e-mailed: the candidate has no "
                           "address", registration.pk)
            return False
        documents = sorted(GeneratedDocument.objects.filter(decision=decision),
                           key=lambda d: RESULTS_ORDER.get(d.kind, 9))
        attachments = [(documents_jury.download_name(d), _read(d), "application/pdf")
                       for d in documents]
        subject, body, sender = documents_jury.results_email(letter, documents)
        message = EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, [email])
        for name, content, mimetype in attachments:
            message.attach(name, content, mimetype)
        message.send()
        GeneratedDocument.objects.filter(pk__in=[d.pk for d in documents]).update(
            sent_at=timezone.now())
        candidate_services.record_results_sent(
            registration=registration, email=email,
            documents=[f"{d.get_kind_display()} ({d.verification_code})" for d in documents],
            actor_label=sender)
    return True


@shared_task(acks_late=True, autoretry_for=RETRIED, retry_backoff=True, max_retries=5)
def build_cpne_bundle(*, document_id: int) -> bool:
    """The ZIP for the GTP « Certifications »: conformity letter, PV, composition of the jury
    with the invitations sent to the unions, attendance sheet. Built once."""
    with transaction.atomic():
        bundle = (GeneratedDocument.objects.select_for_update(of=("self",))
                  .select_related("session__minutes")
                  .filter(pk=document_id, kind=GeneratedDocument.Kind.CPNE).first())
        if bundle is None or bundle.file:
            return False
        minutes = bundle.session.minutes
        pv = GeneratedDocument.objects.get(minutes=minutes, kind=GeneratedDocument.Kind.PV)
        sheet = GeneratedDocument.objects.filter(
            minutes=minutes, kind=GeneratedDocument.Kind.ATTENDANCE).first()
        day = bundle.session.date.isoformat()
        files = [
            (f"1-lettre-de-conformite-{day}.pdf", documents_jury.cpne_letter_pdf(bundle)),
            (f"2-proces-verbal-{day}.pdf", _read(pv)),
            (f"3-composition-du-jury-{day}.pdf", documents_jury.composition_pdf(bundle)),
        ]
        if sheet is not None:
            files.append((f"4-feuille-emargement-{day}.pdf", _read(sheet)))
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, content in files:
                archive.writestr(name, content)
        _store(bundle, documents_jury.download_name(bundle), buffer.getvalue())
    return True


# ---------------------------------------------------------------------------
# The outbox sweep (config/tasks.py): work recorded in the database whose message never
# reached a worker — the broker was down when the grid was signed or the jury decided, or a
# worker died and the message was lost — is sent again. The tasks are idempotent, so a
# message sent twice still produces each document once.
# ---------------------------------------------------------------------------
SWEEP_BATCH = 500


@shared_task
def requeue_pending_work() -> dict:
    """Send again, once they are older than ``OUTBOX["GRACE_SECONDS"]`` (the normal path has
    had its chance): every document still without its file, every results letter rendered
    but not e-mailed, every ZIP export not finished. How many of each were sent."""
    from config.tasks import send

    cutoff = timezone.now() - timedelta(seconds=settings.OUTBOX["GRACE_SECONDS"])
    counts = {"documents": 0, "results": 0, "exports": 0}
    pending = (GeneratedDocument.objects.filter(file="", created_at__lte=cutoff,
                                                grid__purged_at__isnull=True)
               .order_by("pk").values_list("pk", "kind")[:SWEEP_BATCH])
    renderers = {GeneratedDocument.Kind.GRID: render_grid_pdf,
                 GeneratedDocument.Kind.CPNE: build_cpne_bundle}
    for pk, kind in pending:
        counts["documents"] += send(renderers.get(kind, render_jury_document), document_id=pk)
    unsent = (GeneratedDocument.objects
              .filter(kind=GeneratedDocument.Kind.LETTER, sent_at__isnull=True,
                      created_at__lte=cutoff, decision__superseded_by__isnull=True)
              .exclude(file="").exclude(decision__registration__candidate__email="")
              .order_by("pk").values_list("decision_id", flat=True)[:SWEEP_BATCH])
    for decision_id in unsent:
        counts["results"] += send(send_results, decision_id=decision_id)
    # An export that has begun (``done`` > 0) is being built: only one never started is.
    exports = (BatchExport.objects.filter(finished_at__isnull=True, done=0,
                                          requested_at__lte=cutoff)
               .order_by("pk").values_list("pk", flat=True)[:SWEEP_BATCH])
    for batch_id in exports:
        counts["exports"] += send(build_commission_zip, batch_id=batch_id)
    if any(counts.values()):
        logger.info("Outbox sweep sent again: %s", counts)
    return counts
