"""Declaring holders to the Caisse des Dépôts (DOMAIN.md §7, issue 10 part 2)."""

import datetime
import io

import pytest
from django.utils import timezone

from reporting import services
from reporting.models import Award, AwardState, BatchItem, DeclarationBatch
from tests.reporting.conftest import final_decision, make_award_registration

pytestmark = pytest.mark.django_db


def generate(actor=None, centre_ids=None) -> tuple[DeclarationBatch, bytes]:
    out = io.BytesIO()
    generated = services.generate_batch(actor=actor, out=out, centre_ids=centre_ids)
    return generated.batch, out.getvalue()


def test_generated_file_is_valid_against_the_schema(holders, schema, staff):
    batch, data = generate(staff)

    schema.validate(data.decode())
    text = data.decode()
    assert batch.award_count == 3
    assert "<cpf:nomNaissance>D&apos;Alembert</cpf:nomNaissance>" in text or \
        "<cpf:nomNaissance>D'Alembert</cpf:nomNaissance>" in text
    assert "<cpf:nomNaissance>Lefèvre-Dubois</cpf:nomNaissance>" in text
    assert "<cpf:nomUsage>Martin</cpf:nomUsage>" in text
    assert '<cpf:nomUsage xsi:nil="true"/>' in text
    assert '<cpf:dateFinValidite xsi:nil="true"/>' in text
    assert "<cpf:codeInsee>2A004</cpf:codeInsee>" in text
    assert "<cpf:codePostal>44000</cpf:codePostal>" in text
    assert "<cpf:modaliteAcces>VAE</cpf:modaliteAcces>" in text
    assert "<cpf:voieAccesVAE>VAE_CLASSIQUE</cpf:voieAccesVAE>" in text
    assert "<cpf:prenom1>Jean-Baptiste</cpf:prenom1>" in text
    assert "<cpf:code>RNCP34567</cpf:code>" in text
    assert set(Award.objects.values_list("state", flat=True)) == {AwardState.IN_BATCH}


def test_file_is_reproduced_byte_for_byte_from_the_batch(holders, staff):
    batch, data = generate(staff)
    # The identity changes after the file was sent: the batch keeps what it said.
    holders[0].candidate.birth_name = "Autre"
    holders[0].candidate.save()

    out = io.BytesIO()
    sha = services.write_batch(batch, out)

    assert out.getvalue() == data
    assert sha == batch.sha256 == __import__("hashlib").sha256(data).hexdigest()


def test_nothing_due_generates_nothing(db, staff):
    with pytest.raises(services.DeclarationError):
        generate(staff)
    assert not DeclarationBatch.objects.exists()


def test_unset_settings_refuse_generation(holders, settings, staff):
    settings.CDC_DECLARATION = {**settings.CDC_DECLARATION, "ID_CLIENT": ""}
    with pytest.raises(services.DeclarationError, match="CDC_ID_CLIENT"):
        generate(staff)


def test_award_waits_for_the_correction_delay_then_is_due(centre, version, staff):
    registration = make_award_registration(centre, version)
    final_decision(registration, days_ago=3)
    services.sync_awards()
    award = Award.objects.get()

    assert award.state == AwardState.DUE
    assert award.due_on == award.decided_on + datetime.timedelta(days=15)
    assert award.deadline.month != award.decided_on.month
    with pytest.raises(services.DeclarationError):
        generate(staff)


def test_missing_identity_blocks_the_award_and_says_what_is_missing(centre, version, staff):
    registration = make_award_registration(centre, version, sex="", birth_commune_code="",
                                            birth_commune_code_kind="")
    final_decision(registration)
    services.sync_awards()
    award = Award.objects.get()
    assert award.state == AwardState.BLOCKED
    assert "sexe" in award.blocked_reason
    assert "commune de naissance" in award.blocked_reason

    candidate = registration.candidate
    candidate.sex, candidate.birth_commune_code = "M", "44109"
    candidate.birth_commune_code_kind = "insee"
    candidate.save()
    services.sync_awards()
    award.refresh_from_db()
    assert award.state == AwardState.DUE
    assert award.blocked_reason == ""


def test_partial_and_failed_decisions_are_not_declared(centre, version, staff):
    final_decision(make_award_registration(centre, version), outcome="admis_partiel")
    final_decision(make_award_registration(centre, version, birth_name="Durand"),
                   outcome="non_admis")
    services.sync_awards()
    assert not Award.objects.exists()


def test_certification_on_no_register_is_never_declared(centre, staff):
    from tests.factories import CertificationFactory, build_version

    version = build_version(certification=CertificationFactory(registry="",
                                                               registry_number=""))
    final_decision(make_award_registration(centre, version))
    services.sync_awards()
    assert not Award.objects.exists()


def receipt(*, ok=(), ko=(), name="accrochage-X.xml", root="rapport", namespace="") -> bytes:
    ns = f' xmlns="{namespace}"' if namespace else ""
    oks = "".join(f"<idTechnique>{i}</idTechnique>" for i in ok)
    kos = "".join(f"<passage><idTechnique>{i}</idTechnique><messageErreur>{m}</messageErreur>"
                  f"</passage>" for i, m in ko)
    return (f'<?xml version="1.0" encoding="UTF-8"?><{root}{ns}><nomFichier>{name}'
            f"</nomFichier><PassagesOK>{oks}</PassagesOK><PassagesKO>{kos}</PassagesKO>"
            f"</{root}>").encode()


def test_receipt_with_one_ko_then_corrected_resend_under_the_same_id(holders, staff,
                                                                      schema):
    batch, _data = generate(staff)
    first, second, third = (r.reference for r in holders)
    message = "Aucun titulaire ne correspond (nom de naissance, date, lieu)"

    result = services.import_receipt(
        data=receipt(ok=[first, third], ko=[(second, message)], name=batch.file_name),
        actor=staff)

    assert result.declared == sorted([first, third]) and result.refused == [second]
    refused = Award.objects.get(id_technique=second)
    assert refused.state == AwardState.REFUSED
    assert refused.refusal_message == message
    declared_on = Award.objects.get(id_technique=first).declared_on
    assert declared_on == timezone.localdate()

    candidate = refused.registration.candidate
    candidate.birth_name = "Dalembert"
    candidate.save()
    services.resend(award=refused, actor=staff)
    again, data = generate(staff)
    schema.validate(data.decode())
    assert list(BatchItem.objects.filter(batch=again).values_list("award__id_technique",
                                                                  flat=True)) == [second]
    assert f"<cpf:idTechnique>{second}</cpf:idTechnique>" in data.decode()

    services.import_receipt(data=receipt(ok=[second], name=again.file_name), actor=staff)
    assert Award.objects.get(id_technique=second).state == AwardState.DECLARED
    assert Award.objects.get(id_technique=first).declared_on == declared_on


def test_already_in_base_counts_as_declared(holders, staff):
    generate(staff)
    reference = holders[0].reference
    services.import_receipt(
        data=receipt(ok=[r.reference for r in holders[1:]],
                     ko=[(reference, "Ce passage existe déjà en base")]), actor=staff)
    assert Award.objects.get(id_technique=reference).state == AwardState.DECLARED


def test_same_receipt_twice_changes_nothing_the_second_time(holders, staff):
    generate(staff)
    data = receipt(ok=[r.reference for r in holders])
    services.import_receipt(data=data, actor=staff)
    before = list(Award.objects.order_by("pk").values_list("state", "declared_on"))

    result = services.import_receipt(data=data, actor=staff)

    assert result.already_imported
    assert list(Award.objects.order_by("pk").values_list("state", "declared_on")) == before


def test_receipt_names_are_read_case_insensitively(holders, staff):
    generate(staff)
    data = receipt(ok=[r.reference for r in holders]).replace(b"PassagesOK", b"passagesOk") \
        .replace(b"idTechnique", b"IDTECHNIQUE")
    services.import_receipt(data=data, actor=staff)
    assert set(Award.objects.values_list("state", flat=True)) == {AwardState.DECLARED}


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<rapport><nomFichier>&lol3;</nomFichier><PassagesOK><idTechnique>X</idTechnique></PassagesOK>
</rapport>"""
EXTERNAL_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE rapport SYSTEM "http://example.invalid/rapport.dtd">
<rapport><PassagesOK><idTechnique>X</idTechnique></PassagesOK></rapport>"""
EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE rapport [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<rapport><nomFichier>&xxe;</nomFichier><PassagesOK><idTechnique>X</idTechnique></PassagesOK>
</rapport>"""


@pytest.mark.parametrize("name", ["billion_laughs", "external_dtd", "external_entity",
                                  "malformed", "wrong_namespace", "wrong_root", "unknown_id",
                                  "too_large", "empty"])
def test_hostile_or_wrong_receipt_is_refused_whole(holders, staff, settings, name):
    generate(staff)
    known = holders[0].reference
    data = {
        "billion_laughs": BILLION_LAUGHS.replace(b">X<", f">{known}<".encode()),
        "external_dtd": EXTERNAL_DTD.replace(b">X<", f">{known}<".encode()),
        "external_entity": EXTERNAL_ENTITY.replace(b">X<", f">{known}<".encode()),
        "malformed": receipt(ok=[known])[:-5],
        "wrong_namespace": receipt(ok=[known], namespace="urn:example:autre"),
        "wrong_root": receipt(ok=[known], root="report"),
        "unknown_id": receipt(ok=[known, "INCONNU-0001"]),
        "too_large": receipt(ok=[known]) + b" " * 2048,
        "empty": receipt(),
    }[name]
    if name == "too_large":
        settings.CDC_DECLARATION = {**settings.CDC_DECLARATION, "RECEIPT_MAX_BYTES": 1024}
    before = list(Award.objects.order_by("pk").values_list("state", "declared_on"))

    with pytest.raises(services.receipts.ReceiptRefused) as error:
        services.import_receipt(data=data, actor=staff)

    assert "refusé" in " ".join(error.value.messages)
    assert list(Award.objects.order_by("pk").values_list("state", "declared_on")) == before
    assert not services.HoldersReceipt.objects.exists()


def test_decision_corrected_after_declaration_is_due_again_flagged(holders, staff):
    from evaluations.models import Decision

    generate(staff)
    services.import_receipt(data=receipt(ok=[r.reference for r in holders]), actor=staff)
    old = Decision.objects.get(registration=holders[0])
    corrected = Decision.objects.create(
        session_candidate=old.session_candidate, registration=old.registration,
        proposed_outcome="admis", outcome="admis", evaluation_conform=True,
        admission_conditions_met=True, decided_by=staff,
        final_at=timezone.now() - datetime.timedelta(days=20), supersedes=old,
        correction_reason="Erreur matérielle")

    services.sync_awards()

    award = Award.objects.get(registration=holders[0])
    assert award.state == AwardState.DUE and award.is_correction
    assert award.decision_id == corrected.pk
    assert award.id_technique == holders[0].reference
    batch, data = generate(staff)
    assert batch.award_count == 1 and holders[0].reference in data.decode()


def test_decision_corrected_to_failed_withdraws_the_award(holders, staff):
    from evaluations.models import Decision

    old = Decision.objects.get(registration=holders[0])
    services.sync_awards()
    Decision.objects.create(
        session_candidate=old.session_candidate, registration=old.registration,
        proposed_outcome="non_admis", outcome="non_admis", evaluation_conform=True,
        admission_conditions_met=True, decided_by=staff, final_at=timezone.now(),
        supersedes=old, correction_reason="Erreur matérielle")
    services.sync_awards()
    assert Award.objects.get(registration=holders[0]).state == AwardState.WITHDRAWN


def test_commands_export_then_import_the_receipt(holders, tmp_path, schema):
    from django.core.management import CommandError, call_command

    out = tmp_path / "lot.xml"
    call_command("export_holders", "--out", str(out))
    batch = DeclarationBatch.objects.get()
    assert __import__("hashlib").sha256(out.read_bytes()).hexdigest() == batch.sha256
    schema.validate(out.read_text(encoding="utf-8"))

    accuse = tmp_path / "accuse.xml"
    accuse.write_bytes(receipt(ok=[r.reference for r in holders], name=batch.file_name))
    stdout = io.StringIO()
    call_command("import_holders_receipt", str(accuse), stdout=stdout)
    assert "3 passage(s) déclaré(s)" in stdout.getvalue()
    assert services.HoldersReceipt.objects.get().batch == batch

    accuse.write_bytes(BILLION_LAUGHS)
    with pytest.raises(CommandError, match="refusé"):
        call_command("import_holders_receipt", str(accuse))
    with pytest.raises(CommandError, match="Aucun passage"):
        call_command("export_holders", "--out", str(tmp_path / "vide.xml"))
    assert not (tmp_path / "vide.xml").exists()


def test_nightly_task_creates_the_awards(holders):
    from reporting.tasks import sync_holders_awards

    assert sync_holders_awards.delay().get() == 3
    assert Award.objects.count() == 3
    assert sync_holders_awards.delay().get() == 0


def test_a_file_holds_at_most_the_passages_the_caisse_accepts(holders, staff, monkeypatch):
    monkeypatch.setattr(services, "MAX_PASSAGES", 2)
    first, _data = generate(staff)
    second, _data = generate(staff)
    assert (first.award_count, second.award_count) == (2, 1)


def test_control_characters_never_reach_the_file():
    from reporting.holders_xml import _clean

    assert _clean("Nan\x00t\x07es\x0b\x0c\r\x1f") == "Nantes"
    assert _clean("Ligne\tune\nLigne deux") == "Ligne\tune\nLigne deux"
    assert _clean("Dupont & <Fils> \x7fé") == "Dupont &amp; &lt;Fils&gt; \x7fé"


def test_generation_reads_the_same_number_of_queries_for_one_passage_or_many(
        centre, version, staff):
    """Each passage's dossier and award are read with the chunk they belong to, and written
    with it: never a query per passage."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries_of_a_batch(count: int) -> tuple[int, int]:
        for index in range(count):
            registration = make_award_registration(centre, version,
                                                   birth_name=f"Titulaire {index}")
            final_decision(registration, actor=staff)
        with CaptureQueriesContext(connection) as captured:
            batch, _data = generate(staff)
        return len(captured.captured_queries), batch.award_count

    one, one_count = queries_of_a_batch(1)
    many, many_count = queries_of_a_batch(4)
    assert (one_count, many_count) == (1, 4)
    assert many == one
