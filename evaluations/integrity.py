"""Integrity of what was signed (DESIGN.md §4b, issue 8): every signed content is checked
again against its SHA-256 hash and against the rows it came from, as if someone had written
to the database behind the application's back.

Checked: each signed grid (its snapshot against ``snapshot_sha256`` hashed as ``sign_grid``
hashes it, the jury's summary, the live criterion and competence rows against the snapshot,
a document and a valid signature for that content); each signature's snapshot against its
hash; each final decision against what the signed PV recorded for it; each PV against its
hash; each document against its source (the signatures, the PV, the decision it notifies) and
its stored file against ``file_sha256``.

Content effaced at the end of its retention (``Grid.purged_at``, evaluations.retention) no
longer matches its hash on purpose: it is not checked. Reads go in chunks of primary keys, so
that memory stays bounded whatever the volume; a chunk of grids costs five queries.
"""

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from django.db.models import BooleanField, ExpressionWrapper, F, Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from evaluations.documents_jury import DECISION_KINDS
from evaluations.models import (
    CompetenceResult,
    Decision,
    GeneratedDocument,
    Grid,
    GridState,
    Minutes,
    Signature,
)
from evaluations.services import sha256_of, summary_of

CHUNK = 500
Kind = GeneratedDocument.Kind
# What the PV records of each decision (deliberation.minutes_snapshot), compared field by field.
MINUTES_FIELDS = ("outcome", "acquired_blocs", "motive", "evaluation_conform",
                  "admission_conditions_met", "deliberating", "abstentions")


@dataclass(frozen=True)
class Finding:
    """One mismatch: what (``kind``: grid, signature, decision, minutes, document, file), which
    row, the verification code of the document concerned if any, and why."""

    kind: str
    object_id: int
    message: str
    code: str = ""

    @property
    def label(self) -> str:
        return str(KIND_LABELS.get(self.kind, self.kind))


KIND_LABELS = {
    "grid": gettext_lazy("Grille"),
    "signature": gettext_lazy("Signature"),
    "decision": gettext_lazy("Décision"),
    "minutes": gettext_lazy("Procès-verbal"),
    "document": gettext_lazy("Document"),
    "file": gettext_lazy("Fichier"),
}


@dataclass
class IntegrityReport:
    findings: list[Finding] = field(default_factory=list)
    checked: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    @property
    def ok(self) -> bool:
        return not self.findings


def _chunks(queryset, size: int) -> Iterator[list]:
    """``queryset`` in pages of ``size`` rows by increasing primary key (keyset pagination:
    each page is one query, whatever the table's size)."""
    last = 0
    while True:
        page = list(queryset.filter(pk__gt=last).order_by("pk")[:size])
        if not page:
            return
        yield page
        if len(page) < size:
            return
        last = page[-1]["pk"] if isinstance(page[-1], dict) else page[-1].pk


def file_sha256(field_file) -> str | None:
    """The SHA-256 of a stored file, read in blocks; None when the storage no longer has it
    (a lost PDF is rendered again from the signed data: not a mismatch)."""
    try:
        stream = field_file.storage.open(field_file.name, "rb")
    except FileNotFoundError:
        return None
    digest = hashlib.sha256()
    with stream:
        for block in iter(lambda: stream.read(1024 * 1024), b""):
            digest.update(block)
    return digest.hexdigest()


# ---------------------------------------------------------------------------
# Grids: snapshot, summary, live rows
# ---------------------------------------------------------------------------
def _signed_results(snapshot: dict) -> dict:
    """What the snapshot says of each competence and criterion, keyed by code."""
    return {
        item["code"]: (item["planned_modality"], item["modality_used"],
                       (item["level"] or {}).get("code"), (item["level"] or {}).get("mastered"),
                       item["comment"],
                       {c["code"]: (c["satisfied"], c["notes"], c["concerned"])
                        for c in item["criteria"]})
        for item in snapshot.get("competences", [])
    }


def live_results(grid_ids: Iterable[int]) -> dict[int, dict]:
    """The same projection from the rows as they are now, for several grids in one query."""
    results: dict[int, dict] = defaultdict(dict)
    rows = CompetenceResult.objects.filter(grid_id__in=list(grid_ids)).values_list(
        "grid_id", "competence__code", "planned_modality", "modality_used", "level__code",
        "level__mastered", "comment", "criterion_results__criterion__code",
        "criterion_results__satisfied", "criterion_results__notes",
        "criterion_results__concerned")
    for (grid_id, code, planned, used, level, mastered, comment,
         criterion, satisfied, notes, concerned) in rows:
        entry = results[grid_id].setdefault(code, (planned, used, level, mastered, comment, {}))
        if criterion is not None:
            entry[5][criterion] = (satisfied, notes, concerned)
    return results


def snapshot_problem(grid: Grid) -> str | None:
    """Whether the grid's snapshot still hashes, as sign_grid hashed it, to its digest."""
    if not grid.snapshot or sha256_of(grid.snapshot) != grid.snapshot_sha256:
        return _("Le contenu signé de la grille ne correspond plus à son empreinte SHA-256.")
    return None


def content_problems(grid: Grid, live: dict) -> list[str]:
    """Why the summary or the live rows of a grid whose snapshot is intact no longer match it."""
    problems = []
    if grid.summary != summary_of(grid.snapshot):
        problems.append(_("Le résumé lu par le jury ne correspond plus au contenu signé de la "
                          "grille."))
    signed = _signed_results(grid.snapshot)
    changed = sorted(code for code in signed.keys() | live.keys()
                     if signed.get(code) != live.get(code))
    if changed:
        problems.append(_("Les résultats enregistrés ne correspondent plus au contenu signé "
                          "(%(codes)s).") % {"codes": ", ".join(changed)})
    return problems


def grid_problems(grid: Grid, live: dict) -> list[str]:
    """Why a signed grid no longer matches what was signed (empty when it does)."""
    problem = snapshot_problem(grid)
    return [problem] if problem else content_problems(grid, live)


def _check_signed_grids(report: IntegrityReport, size: int) -> None:
    grids = (Grid.objects.filter(state=GridState.SIGNED, purged_at__isnull=True)
             .only("pk", "snapshot", "snapshot_sha256", "summary"))
    for chunk in _chunks(grids, size):
        ids = [grid.pk for grid in chunk]
        live = live_results(ids)
        codes = {(grid_id, digest): code for grid_id, digest, code in
                 GeneratedDocument.objects.filter(grid_id__in=ids, kind=Kind.GRID)
                 .values_list("grid_id", "content_sha256", "verification_code")}
        # A signature holding exactly its grid's snapshot and hash is checked with the grid:
        # compared in the database, its snapshot is not even read. Any other is hashed.
        signatures = list(
            Signature.objects.filter(grid_id__in=ids)
            .annotate(same=ExpressionWrapper(Q(snapshot=F("grid__snapshot"),
                                               snapshot_sha256=F("grid__snapshot_sha256")),
                                             output_field=BooleanField()))
            .values_list("pk", "grid_id", "voided_at", "same"))
        covered = {grid_id for _pk, grid_id, voided_at, same in signatures
                   if same and voided_at is None}
        intact = set()
        for grid in chunk:
            report.checked["grids"] += 1
            code = codes.get((grid.pk, grid.snapshot_sha256), "")
            problem = snapshot_problem(grid)
            if problem:
                problems = [problem]
            else:
                intact.add(grid.pk)
                problems = content_problems(grid, live.get(grid.pk, {}))
                if not code:
                    problems.append(_("Aucun document n'a été émis pour le contenu signé de "
                                      "la grille."))
                if grid.pk not in covered:
                    problems.append(_("Aucune signature valide ne porte sur le contenu signé "
                                      "de la grille."))
            report.findings += [Finding("grid", grid.pk, message, code) for message in problems]
        same = [(pk, grid_id) for pk, grid_id, _voided, is_same in signatures if is_same]
        report.checked["signatures"] += len(same)
        # Identical to a snapshot that no longer matches its hash: each is hashed on its own.
        _check_signatures(report, Signature.objects.filter(
            pk__in=[pk for pk, grid_id in same if grid_id not in intact]), size, count=False)
        _check_signatures(report, Signature.objects.filter(
            pk__in=[pk for pk, _grid, _voided, is_same in signatures if not is_same]), size)


def signature_problem(signature: Signature) -> str | None:
    if sha256_of(signature.snapshot) != signature.snapshot_sha256:
        return _("Le contenu signé par %(signer)s ne correspond plus à l'empreinte de sa "
                 "signature.") % {"signer": signature.signer_name}
    return None


def _check_signatures(report: IntegrityReport, signatures, size: int, *,
                      count: bool = True) -> None:
    signatures = signatures.only("pk", "grid_id", "signer_name", "snapshot", "snapshot_sha256")
    for chunk in _chunks(signatures, size):
        for signature in chunk:
            if count:
                report.checked["signatures"] += 1
            problem = signature_problem(signature)
            if problem:
                report.findings.append(Finding("signature", signature.pk, problem))


# ---------------------------------------------------------------------------
# Decisions and procès-verbaux
# ---------------------------------------------------------------------------
def decision_problem(decision: dict, entry: dict | None) -> str | None:
    """Why a final decision (as ``values()``) no longer matches its PV entry."""
    if entry is None:
        return _("La décision définitive est absente du procès-verbal signé de sa session.")
    changed = [name for name in MINUTES_FIELDS if decision[name] != entry.get(name)]
    if changed:
        return _("La décision définitive ne correspond plus au procès-verbal signé "
                 "(%(fields)s).") % {"fields": ", ".join(changed)}
    return None


def _final_decisions():
    """Final decisions recorded in a PV (a correction is checked against its own letter)."""
    return (Decision.objects.filter(final_at__isnull=False, supersedes__isnull=True)
            .values("pk", "session_candidate__session_id", "registration__reference",
                    *MINUTES_FIELDS))


def _entries(snapshot: dict | None) -> dict[str, dict]:
    """A PV's decisions by registration reference."""
    return {d.get("reference"): d for d in (snapshot or {}).get("decisions", [])}


def _minutes_entries(session_ids: Iterable[int]) -> dict[int, dict]:
    return {session_id: _entries(snapshot)
            for session_id, snapshot in Minutes.objects.filter(session_id__in=list(session_ids))
            .values_list("session_id", "snapshot")}


def _check_decisions(report: IntegrityReport, size: int) -> None:
    for chunk in _chunks(_final_decisions(), size):
        entries = _minutes_entries({d["session_candidate__session_id"] for d in chunk})
        letters = dict(GeneratedDocument.objects.filter(
            decision_id__in=[d["pk"] for d in chunk], kind=Kind.LETTER)
            .values_list("decision_id", "verification_code"))
        for decision in chunk:
            report.checked["decisions"] += 1
            entry = entries.get(decision["session_candidate__session_id"], {}).get(
                decision["registration__reference"])
            problem = decision_problem(decision, entry)
            if problem:
                report.findings.append(Finding("decision", decision["pk"], problem,
                                               letters.get(decision["pk"], "")))


def minutes_problem(minutes: Minutes) -> str | None:
    if sha256_of(minutes.snapshot) != minutes.snapshot_sha256:
        return _("Le contenu du procès-verbal ne correspond plus à son empreinte SHA-256.")
    return None


def _check_minutes(report: IntegrityReport, size: int) -> None:
    for chunk in _chunks(Minutes.objects.only("pk", "snapshot", "snapshot_sha256"), size):
        codes = dict(GeneratedDocument.objects.filter(
            minutes_id__in=[m.pk for m in chunk], kind=Kind.PV)
            .values_list("minutes_id", "verification_code"))
        for minutes in chunk:
            report.checked["minutes"] += 1
            problem = minutes_problem(minutes)
            if problem:
                report.findings.append(Finding("minutes", minutes.pk, problem,
                                               codes.get(minutes.pk, "")))


# ---------------------------------------------------------------------------
# Documents
# ---------------------------------------------------------------------------
def content_hash(document: GeneratedDocument) -> str | None:
    """The hash of the content a document carries itself (None for the grid and the PV, whose
    content is the signatures' or the minutes')."""
    if document.kind == Kind.CPNE:
        return sha256_of((document.snapshot or {}).get("content"))
    if document.kind in (Kind.GRID, Kind.PV):
        return None
    return sha256_of(document.snapshot)


def notified_decision_problem(snapshot: dict, decision: Decision) -> str | None:
    """Why a letter, attestation or relevé no longer matches the decision it notifies."""
    acquired = {b["code"] for b in snapshot.get("blocs", []) if b.get("acquired")}
    correction = snapshot.get("correction")
    changed = []
    if snapshot.get("decision") != decision.pk:
        changed.append("decision")
    if snapshot.get("outcome") != decision.outcome:
        changed.append("outcome")
    if acquired != set(decision.acquired_blocs or []):
        changed.append("acquired_blocs")
    if (correction or {}).get("reason", "") != (decision.correction_reason
                                                if correction else ""):
        changed.append("correction_reason")
    if changed:
        return _("Le document ne correspond plus à la décision qu'il notifie (%(fields)s).") % {
            "fields": ", ".join(changed)}
    return None


def _document_problems(document: GeneratedDocument, *, signature_hashes: set[str],
                       minutes_sha256: str | None, decision: Decision | None) -> list[str]:
    """Content checks of one document, from what its source says (loaded by the caller)."""
    problems = []
    expected = content_hash(document)
    if expected is not None and expected != document.content_sha256:
        problems.append(_("Le contenu du document ne correspond plus à son empreinte SHA-256."))
    if document.kind == Kind.GRID and document.content_sha256 not in signature_hashes:
        problems.append(_("Aucune signature de la grille ne porte sur le contenu de ce "
                          "document."))
    if document.kind == Kind.PV and document.content_sha256 != minutes_sha256:
        problems.append(_("Le document ne porte plus l'empreinte du procès-verbal signé."))
    if document.kind in DECISION_KINDS:
        if decision is None:
            problems.append(_("La décision notifiée par ce document n'existe plus."))
        else:
            problem = notified_decision_problem(document.snapshot or {}, decision)
            if problem:
                problems.append(problem)
    return problems


def file_problem(document: GeneratedDocument) -> str | None:
    if not document.file:
        return None
    if not document.file_sha256:
        return _("Le fichier du document n'a pas d'empreinte SHA-256.")
    digest = file_sha256(document.file)
    if digest is not None and digest != document.file_sha256:
        return _("Le fichier enregistré ne correspond plus à son empreinte SHA-256.")
    return None


def _check_documents(report: IntegrityReport, size: int, *, files: bool) -> None:
    documents = (GeneratedDocument.objects.exclude(grid__purged_at__isnull=False)
                 .only("pk", "kind", "grid_id", "minutes_id", "decision_id", "snapshot",
                       "verification_code", "content_sha256", "file", "file_sha256"))
    for chunk in _chunks(documents, size):
        grid_ids = {d.grid_id for d in chunk if d.grid_id}
        hashes = defaultdict(set)
        for grid_id, digest in (Signature.objects.filter(grid_id__in=grid_ids)
                                .values_list("grid_id", "snapshot_sha256").distinct()):
            hashes[grid_id].add(digest)
        minutes = dict(Minutes.objects.filter(pk__in={d.minutes_id for d in chunk})
                       .values_list("pk", "snapshot_sha256"))
        decisions = Decision.objects.only("pk", "outcome", "acquired_blocs",
                                          "correction_reason").in_bulk(
            {d.decision_id for d in chunk if d.decision_id})
        for document in chunk:
            report.checked["documents"] += 1
            for problem in _document_problems(
                    document, signature_hashes=hashes.get(document.grid_id, set()),
                    minutes_sha256=minutes.get(document.minutes_id),
                    decision=decisions.get(document.decision_id)):
                report.findings.append(Finding("document", document.pk, problem,
                                               document.verification_code))
            if files and document.file:
                report.checked["files"] += 1
                problem = file_problem(document)
                if problem:
                    report.findings.append(Finding("file", document.pk, problem,
                                                   document.verification_code))


# ---------------------------------------------------------------------------
# Entry points
# ---------------------------------------------------------------------------
def check_integrity(*, files: bool = True, chunk_size: int = CHUNK) -> IntegrityReport:
    """Check everything signed (module docstring); ``files``: also hash the stored files."""
    report = IntegrityReport()
    _check_signed_grids(report, chunk_size)
    # Signatures of grids no longer signed (reopened: voided) are evidence all the same.
    _check_signatures(report, Signature.objects.filter(grid__purged_at__isnull=True)
                      .exclude(grid__state=GridState.SIGNED), chunk_size)
    _check_decisions(report, chunk_size)
    _check_minutes(report, chunk_size)
    _check_documents(report, chunk_size, files=files)
    return report


def document_findings(document: GeneratedDocument, *,
                      signatures: list[Signature] | None = None) -> list[Finding]:
    """Everything that no longer matches for one document (the public verify page): its
    content against its source, the signed content behind it, and its stored file.
    ``signatures``: the document's signatures when the caller has them (pdf.document_signatures).
    """
    from evaluations.pdf import document_signatures

    def found(kind, pk, messages):
        return [Finding(kind, pk, message, document.verification_code)
                for message in messages if message]

    findings = []
    decision = None
    minutes_sha256 = None
    hashes = set()
    if document.kind == Kind.GRID:
        grid = document.grid
        if grid.purged_at:
            return []  # effaced on purpose at the end of its retention
        signatures = document_signatures(document) if signatures is None else signatures
        hashes = {s.snapshot_sha256 for s in signatures}
        for signature in signatures:
            findings += found("signature", signature.pk, [signature_problem(signature)])
        if grid.state == GridState.SIGNED and grid.snapshot_sha256 == document.content_sha256:
            findings += found("grid", grid.pk,
                              grid_problems(grid, live_results([grid.pk]).get(grid.pk, {})))
    elif document.kind == Kind.PV:
        minutes = document.minutes
        minutes_sha256 = minutes.snapshot_sha256
        findings += found("minutes", minutes.pk, [minutes_problem(minutes)])
        entries = _entries(minutes.snapshot)
        for decision_row in _final_decisions().filter(
                session_candidate__session_id=minutes.session_id):
            findings += found("decision", decision_row["pk"], [decision_problem(
                decision_row, entries.get(decision_row["registration__reference"]))])
    elif document.kind in DECISION_KINDS:
        decision = Decision.objects.filter(pk=document.decision_id).first()
    findings += found("document", document.pk, _document_problems(
        document, signature_hashes=hashes, minutes_sha256=minutes_sha256, decision=decision))
    findings += found("file", document.pk, [file_problem(document)])
    return findings


def document_is_intact(document: GeneratedDocument, *,
                       signatures: list[Signature] | None = None) -> bool:
    """Whether a document still matches everything it certifies (``document_findings``)."""
    return not document_findings(document, signatures=signatures)
