"""Tampering (issue 8): whatever is written behind the application's back — a criterion of a
signed grid, a signature's content, a final decision, a PV, a letter, a stored PDF — is found
by ``verify_integrity`` (exit status 1, naming the row and its document's code) and the public
verify page says the document is no longer valid. A database written only by the application
passes, whatever its legitimate history (reopening, correction, purge at end of retention).

The tampering is raw SQL; on PostgreSQL the protection triggers are lifted for it (the rights
of whoever owns the database), as an attacker with those rights would."""

import hashlib
import io
import json

import pgtrigger
import pytest
from django.core.files.base import ContentFile
from django.core.management import call_command, execute_from_command_line
from django.core.management.base import CommandError
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from evaluations import deliberation, services
from evaluations.integrity import check_integrity, document_is_intact
from evaluations.models import (
    CriterionResult,
    Decision,
    GeneratedDocument,
    Grid,
    Minutes,
    Signature,
)
from evaluations.protection import PROTECTION_TRIGGERS
from tests.evaluations.conftest import NM_COMMENT, competence_row, save, sign

pytestmark = pytest.mark.django_db

Kind = GeneratedDocument.Kind


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------
def tamper(model, pk: int, **values):
    """UPDATE one row with raw SQL, the triggers lifted: the ORM and its guards never see it.
    JSON values are written as JSON text."""
    table = model._meta.db_table
    columns = ", ".join(f"{model._meta.get_field(name).column} = %s" for name in values)
    params = [json.dumps(v) if isinstance(v, dict | list) else v for v in values.values()]
    with pgtrigger.ignore(*PROTECTION_TRIGGERS), connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET {columns} WHERE id = %s",  # noqa: S608
                       [*params, pk])


def run_check(*args) -> tuple[int, str]:
    """``verify_integrity``: its exit status (CommandError exits 1) and everything it said."""
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("verify_integrity", *args, stdout=out, stderr=err)
    except CommandError as error:
        return 1, out.getvalue() + err.getvalue() + str(error)
    return 0, out.getvalue() + err.getvalue()


def verify_page(client, document: GeneratedDocument) -> str:
    response = client.get(reverse("verify", args=[document.verification_code]))
    assert response.status_code == 200
    return response.content.decode()


def assert_no_longer_valid(client, document: GeneratedDocument):
    page = verify_page(client, document)
    assert 'data-testid="verify-tampered"' in page
    assert "Ce document n'est plus valide" in page
    assert "ne correspondent plus à l'empreinte du contenu signé" in page
    assert 'data-testid="verify-valid"' not in page
    assert "Document authentique et valide" not in page
    assert document.content_sha256 not in page


def store_file(document: GeneratedDocument, content: bytes) -> GeneratedDocument:
    """The rendered file as the task stores it (its bytes and their fingerprint)."""
    document.file.save(f"{document.kind}-{document.pk}.pdf", ContentFile(content), save=False)
    document.file_sha256 = hashlib.sha256(content).hexdigest()
    document.generated_at = timezone.now()
    document.save(update_fields=["file", "file_sha256", "generated_at"])
    return document


@pytest.fixture
def grid_document(signed) -> GeneratedDocument:
    return GeneratedDocument.objects.get(grid=signed, kind=Kind.GRID)


def letter_of(registration_) -> GeneratedDocument:
    return GeneratedDocument.objects.get(kind=Kind.LETTER, decision__registration=registration_,
                                         decision__superseded_by__isnull=True)


# ---------------------------------------------------------------------------
# A database written only by the application
# ---------------------------------------------------------------------------
def test_clean_database_passes(jury_closed, staff, media_root, client):
    from evaluations import documents_jury

    documents_jury.request_cpne_bundle(session=jury_closed, actor=staff)
    for document in GeneratedDocument.objects.all():
        store_file(document, f"%PDF-1.7 document {document.pk}".encode())

    status, output = run_check()

    assert status == 0, output
    assert "Intégrité vérifiée" in output
    assert "2 grille(s) signée(s), 4 signature(s), 2 décision(s) définitive(s)" in output
    assert run_check("--quiet") == (0, "")
    for document in GeneratedDocument.objects.filter(kind__in=[Kind.GRID, Kind.PV, Kind.LETTER]):
        assert document_is_intact(document)
        assert 'data-testid="verify-valid"' in verify_page(client, document)


def test_command_exits_with_status_1_on_a_mismatch(signed, capsys):
    row = CriterionResult.objects.filter(competence_result__grid=signed).first()
    tamper(CriterionResult, row.pk, notes="Ajouté après la signature.")

    with pytest.raises(SystemExit) as exit_:
        execute_from_command_line(["manage.py", "verify_integrity", "--no-files"])

    assert exit_.value.code == 1
    assert "1 anomalie(s)" in capsys.readouterr().err


def test_reopened_and_signed_again_grid_passes(signed, staff, president, president_member,
                                              assessor_member):
    grid = services.reopen_grid(grid=signed, actor=staff, reason="Commentaire à préciser.")
    save(grid, competence_row(grid, "C2"), "comment", NM_COMMENT + " Reprise.", president.user)
    services.submit_for_signature(grid=grid, actor=president.user)
    sign(grid, president_member)
    assert sign(grid, assessor_member).locked

    status, output = run_check()

    assert status == 0, output
    # Both rounds' signatures are evidence: the voided ones are hashed too.
    assert "4 signature(s)" in output
    assert Signature.objects.filter(grid=grid, voided_at__isnull=False).count() == 2


def test_corrected_decision_passes(jury_closed, registration, staff, client):
    decision = Decision.objects.get(registration=registration)
    corrected = deliberation.correct_decision(
        decision=decision, actor=staff, outcome="admis_partiel", acquired_blocs=["B1"],
        reason="Erreur matérielle sur le bloc B2.")

    status, output = run_check()

    assert status == 0, output
    assert document_is_intact(GeneratedDocument.objects.get(decision=corrected,
                                                            kind=Kind.LETTER))


def test_database_after_the_retention_purge_passes(jury_closed, settings, client):
    """The purge effaces the grids' content on purpose (evaluations.retention): their hashes
    no longer match and are not checked; the PV, decisions and letters stay verifiable."""
    import datetime

    from evaluations.retention import apply_retention

    later = timezone.localdate() + datetime.timedelta(
        days=366 * (settings.RETENTION["DECIDED_YEARS"] + 1))
    assert apply_retention(today=later).purged
    assert Grid.objects.filter(purged_at__isnull=False).count() == 2

    status, output = run_check()

    assert status == 0, output
    assert "0 grille(s) signée(s)" in output
    for document in GeneratedDocument.objects.filter(kind__in=[Kind.PV, Kind.LETTER]):
        assert 'data-testid="verify-valid"' in verify_page(client, document)


def test_content_purged_at_the_end_of_its_retention_is_not_checked(signed):
    snapshot = {**signed.snapshot, "competences": [], "purged": True}
    tamper(Grid, signed.pk, snapshot=snapshot, purged_at=timezone.now())
    for signature in signed.signatures.all():
        tamper(Signature, signature.pk, snapshot=snapshot)

    status, output = run_check()

    assert status == 0, output


# ---------------------------------------------------------------------------
# Tampering
# ---------------------------------------------------------------------------
def test_edited_criterion_of_a_signed_grid_is_found(signed, grid_document, client):
    row = CriterionResult.objects.select_related("criterion").get(
        competence_result__grid=signed, criterion__code="C2.1")
    tamper(CriterionResult, row.pk, satisfied=not row.satisfied)

    status, output = run_check()

    assert status == 1
    assert (f"Grille n° {signed.pk} — code {grid_document.verification_code} : Les résultats "
            "enregistrés ne correspondent plus au contenu signé (C2)." in output)
    assert_no_longer_valid(client, grid_document)


def test_edited_level_of_a_signed_grid_is_found(signed, grid_document, client):
    row = competence_row(signed, "C1")
    tamper(type(row), row.pk, comment="Réécrit hors de l'application.")

    status, output = run_check()

    assert status == 1
    assert f"Grille n° {signed.pk}" in output and "(C1)" in output
    assert_no_longer_valid(client, grid_document)


def test_edited_grid_snapshot_is_found(signed, grid_document, client):
    snapshot = signed.snapshot
    snapshot["candidate"]["name"] = "Autre Candidat"
    tamper(Grid, signed.pk, snapshot=snapshot)

    status, output = run_check()

    assert status == 1
    assert (f"Grille n° {signed.pk} — code {grid_document.verification_code} : Le contenu "
            "signé de la grille ne correspond plus à son empreinte SHA-256." in output)
    assert_no_longer_valid(client, grid_document)


def test_edited_jury_summary_is_found(signed):
    summary = signed.summary
    summary["competences"][0]["level"] = {"mastered": False}
    tamper(Grid, signed.pk, summary=summary)

    status, output = run_check()

    assert status == 1
    assert "Le résumé lu par le jury ne correspond plus au contenu signé" in output


def test_edited_signature_snapshot_is_found(signed, grid_document, client):
    signature = signed.signatures.order_by("pk").first()
    snapshot = signature.snapshot
    snapshot["competences"][0]["comment"] = "Commentaire inventé."
    tamper(Signature, signature.pk, snapshot=snapshot)

    status, output = run_check()

    assert status == 1
    assert (f"Signature n° {signature.pk} : Le contenu signé par {signature.signer_name} ne "
            "correspond plus à l'empreinte de sa signature." in output)
    assert_no_longer_valid(client, grid_document)


def test_edited_voided_signature_is_found(signed, staff):
    services.reopen_grid(grid=signed, actor=staff, reason="Erreur de saisie.")
    signature = signed.signatures.order_by("pk").first()
    tamper(Signature, signature.pk, snapshot={**signature.snapshot, "company": "Autre"})

    status, output = run_check()

    assert status == 1
    assert f"Signature n° {signature.pk}" in output


def test_edited_final_decision_is_found(jury_closed, registration, client):
    decision = Decision.objects.get(registration=registration)
    letter = letter_of(registration)
    pv = GeneratedDocument.objects.get(kind=Kind.PV, session=jury_closed)
    tamper(Decision, decision.pk, outcome="non_admis")

    status, output = run_check()

    assert status == 1
    assert (f"Décision n° {decision.pk} — code {letter.verification_code} : La décision "
            "définitive ne correspond plus au procès-verbal signé (outcome)." in output)
    assert (f"Document n° {letter.pk} — code {letter.verification_code} : Le document ne "
            "correspond plus à la décision qu'il notifie (outcome" in output)
    assert_no_longer_valid(client, letter)
    assert_no_longer_valid(client, pv)


def test_edited_pv_snapshot_is_found(jury_closed, client):
    minutes = Minutes.objects.get(session=jury_closed)
    pv = GeneratedDocument.objects.get(minutes=minutes, kind=Kind.PV)
    snapshot = minutes.snapshot
    snapshot["decisions"][0]["outcome"] = "non_admis"
    tamper(Minutes, minutes.pk, snapshot=snapshot)

    status, output = run_check()

    assert status == 1
    assert (f"Procès-verbal n° {minutes.pk} — code {pv.verification_code} : Le contenu du "
            "procès-verbal ne correspond plus à son empreinte SHA-256." in output)
    assert_no_longer_valid(client, pv)


def test_edited_letter_content_is_found(jury_closed, second_registration, client):
    letter = letter_of(second_registration)
    tamper(GeneratedDocument, letter.pk,
           snapshot={**letter.snapshot, "candidate": {**letter.snapshot["candidate"],
                                                      "name": "Quelqu'un d'autre"}})

    status, output = run_check()

    assert status == 1
    assert (f"Document n° {letter.pk} — code {letter.verification_code} : Le contenu du "
            "document ne correspond plus à son empreinte SHA-256." in output)
    assert_no_longer_valid(client, letter)


def test_replaced_file_bytes_are_found(signed, grid_document, media_root, client):
    store_file(grid_document, b"%PDF-1.7 la grille signee")
    path = media_root / grid_document.file.name
    path.write_bytes(b"%PDF-1.7 une autre grille")

    status, output = run_check()

    assert status == 1
    assert (f"Fichier n° {grid_document.pk} — code {grid_document.verification_code} : Le "
            "fichier enregistré ne correspond plus à son empreinte SHA-256." in output)
    assert_no_longer_valid(client, grid_document)
    # The file check can be left out (a quick run of the database alone).
    assert run_check("--no-files")[0] == 0


def test_lost_file_is_not_a_mismatch(signed, grid_document, media_root):
    store_file(grid_document, b"%PDF-1.7 la grille signee")
    (media_root / grid_document.file.name).unlink()

    assert run_check()[0] == 0  # rendered again from the signed data when asked for


# ---------------------------------------------------------------------------
# Bounded reads
# ---------------------------------------------------------------------------
def test_reads_in_chunks_find_the_same(jury_closed, registration):
    decision = Decision.objects.get(registration=registration)
    tamper(Decision, decision.pk, motive="Ajouté.")
    grid = Grid.objects.filter(scheduled__registration=registration).get()
    tamper(CriterionResult, CriterionResult.objects.filter(competence_result__grid=grid)
           .first().pk, notes="Ajouté.")

    whole = check_integrity(chunk_size=500)
    one_by_one = check_integrity(chunk_size=1)

    assert whole.findings == one_by_one.findings
    assert {f.kind for f in whole.findings} == {"grid", "decision"}
    assert whole.checked == one_by_one.checked


def test_queries_do_not_grow_with_the_grids(jury_closed, django_assert_max_num_queries):
    """Two signed grids, two decisions, one PV and its documents: a fixed number of queries
    per chunk (grids 4, other signatures 1, decisions 3, PV 2, documents 4), never one per
    row."""
    with django_assert_max_num_queries(14):
        report = check_integrity(files=False)
    assert report.ok
    assert report.checked["grids"] == 2
