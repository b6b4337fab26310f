"""The second wall (issue 8): on PostgreSQL, triggers refuse any SQL that would change signed
content or the audit trail — even raw SQL that never meets the models' guards — while every
legitimate flow (sign, reopen, sign again, finalise the decisions, correct one, render a file,
purge at the end of retention) still goes through."""

import pgtrigger
import pytest
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from candidates.models import RegistrationEvent
from evaluations import deliberation, services
from evaluations.models import (
    CompetenceResult,
    CriterionResult,
    Decision,
    GeneratedDocument,
    Grid,
    GridEvent,
    GridState,
    Minutes,
    PersonalDataEvent,
    Signature,
)
from evaluations.protection import PROTECTION_TRIGGERS, purge_allowed
from tests.evaluations.conftest import NM_COMMENT, competence_row, save, sign

Kind = GeneratedDocument.Kind


def test_every_protection_trigger_is_declared_on_its_model():
    """purge_allowed() names exactly the triggers the models declare (a renamed trigger would
    otherwise make the retention purge fail, or leave a trigger it cannot lift)."""
    declared = {f"{model._meta.label}:{trigger.name}"
                for model, trigger in pgtrigger.registered()}
    assert set(PROTECTION_TRIGGERS) <= declared
    ours = {uri for uri in declared if uri.split(".")[0] in {"evaluations", "candidates"}}
    assert ours == set(PROTECTION_TRIGGERS)


# ---------------------------------------------------------------------------
# Raw SQL against each protected table
# ---------------------------------------------------------------------------
def run(sql: str, params=()) -> int:
    """One raw statement in its own savepoint: its row count, or the database's refusal."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def refused(sql: str, params=()) -> bool:
    try:
        run(sql, params)
    except DatabaseError as error:  # IntegrityError or InternalError, raised by the trigger
        assert "pgtrigger" in str(error) or "signed grid" in str(error), error
        return True
    return False


@pytest.fixture
def closed_jury(jury_closed):
    """A PV signed: final decisions, their letters, two signed grids."""
    return jury_closed


def protected_rows(session) -> dict:
    """One row of each protected kind in the database of a closed jury."""
    grid = Grid.objects.filter(state=GridState.SIGNED).first()
    decision = Decision.objects.filter(final_at__isnull=False).first()
    pd_event = PersonalDataEvent.objects.create(
        candidate=decision.registration.candidate, registration=decision.registration,
        action=PersonalDataEvent.Action.EXPORTED)
    return {
        "grid": grid,
        "competence": CompetenceResult.objects.filter(grid=grid).first(),
        "criterion": CriterionResult.objects.filter(competence_result__grid=grid).first(),
        "signature": Signature.objects.filter(grid=grid).first(),
        "grid_event": GridEvent.objects.filter(grid=grid).first(),
        "decision": decision,
        "minutes": Minutes.objects.get(session=session),
        "letter": GeneratedDocument.objects.filter(kind=Kind.LETTER).first(),
        "registration_event": RegistrationEvent.objects.first(),
        "personal_data_event": pd_event,
    }


# (row key, statement): every one is refused on PostgreSQL.
REFUSED = [
    ("grid", "UPDATE evaluations_grid SET state = 'brouillon' WHERE id = %s"),
    ("grid", "UPDATE evaluations_grid SET snapshot_sha256 = 'x' WHERE id = %s"),
    ("grid", "UPDATE evaluations_grid SET locked_at = now() WHERE id = %s"),
    # The reopening's shape but keeping the signed content: not a reopening.
    ("grid", "UPDATE evaluations_grid SET state = 'brouillon', reopened_at = now(), "
             "reopen_count = reopen_count + 1 WHERE id = %s"),
    ("grid", "DELETE FROM evaluations_grid WHERE id = %s"),
    ("competence", "UPDATE evaluations_competenceresult SET comment = 'Réécrit' WHERE id = %s"),
    ("competence", "DELETE FROM evaluations_competenceresult WHERE id = %s"),
    ("criterion", "UPDATE evaluations_criterionresult SET satisfied = NOT satisfied "
                  "WHERE id = %s"),
    ("criterion", "DELETE FROM evaluations_criterionresult WHERE id = %s"),
    ("signature", "UPDATE evaluations_signature SET signer_name = 'Autre' WHERE id = %s"),
    ("signature", "UPDATE evaluations_signature SET snapshot = '{}' WHERE id = %s"),
    # Voiding, but rewriting the evidence at the same time.
    ("signature", "UPDATE evaluations_signature SET voided_at = now(), void_reason = 'x', "
                  "ip_address = NULL WHERE id = %s"),
    # Voiding without a reason.
    ("signature", "UPDATE evaluations_signature SET voided_at = now() WHERE id = %s"),
    ("signature", "DELETE FROM evaluations_signature WHERE id = %s"),
    ("grid_event", "UPDATE evaluations_gridevent SET message = 'Réécrit' WHERE id = %s"),
    ("grid_event", "DELETE FROM evaluations_gridevent WHERE id = %s"),
    ("decision", "UPDATE evaluations_decision SET outcome = 'non_admis' WHERE id = %s"),
    ("decision", "UPDATE evaluations_decision SET final_at = NULL WHERE id = %s"),
    ("decision", "DELETE FROM evaluations_decision WHERE id = %s"),
    ("minutes", "UPDATE evaluations_minutes SET snapshot = '{}' WHERE id = %s"),
    ("minutes", "DELETE FROM evaluations_minutes WHERE id = %s"),
    ("letter", "UPDATE evaluations_generateddocument SET content_sha256 = 'x' WHERE id = %s"),
    ("letter", "UPDATE evaluations_generateddocument SET verification_code = 'AAAAA' "
               "WHERE id = %s"),
    ("letter", "UPDATE evaluations_generateddocument SET snapshot = '{}' WHERE id = %s"),
    ("registration_event", "UPDATE candidates_registrationevent SET message = 'Réécrit' "
                           "WHERE id = %s"),
    ("registration_event", "DELETE FROM candidates_registrationevent WHERE id = %s"),
    ("personal_data_event", "UPDATE evaluations_personaldataevent SET data = '{}' "
                            "WHERE id = %s"),
    ("personal_data_event", "DELETE FROM evaluations_personaldataevent WHERE id = %s"),
]


@pytest.mark.postgres
@pytest.mark.django_db
def test_raw_sql_on_signed_content_and_audit_rows_is_refused(closed_jury):
    rows = protected_rows(closed_jury)

    accepted = [sql for key, sql in REFUSED if not refused(sql, [rows[key].pk])]

    assert accepted == []
    # Nothing changed.
    grid = Grid.objects.get(pk=rows["grid"].pk)
    assert grid.state == GridState.SIGNED
    assert Decision.objects.get(pk=rows["decision"].pk).outcome == rows["decision"].outcome


@pytest.mark.postgres
@pytest.mark.django_db
def test_a_draft_grid_stays_writable(grid):
    row = CriterionResult.objects.filter(competence_result__grid=grid).first()

    assert run("UPDATE evaluations_criterionresult SET notes = 'Brouillon' WHERE id = %s",
               [row.pk]) == 1
    assert run("UPDATE evaluations_grid SET state = 'a_signer' WHERE id = %s", [grid.pk]) == 1


@pytest.mark.postgres
@pytest.mark.django_db
def test_a_decision_before_the_pv_stays_writable(jury_open):
    decision = Decision.objects.filter(final_at__isnull=True).first()

    assert run("UPDATE evaluations_decision SET motive = 'Précision' WHERE id = %s",
               [decision.pk]) == 1


@pytest.mark.postgres
@pytest.mark.django_db
def test_a_documents_file_and_sending_stay_writable(closed_jury):
    letter = GeneratedDocument.objects.filter(kind=Kind.LETTER).first()

    assert run("UPDATE evaluations_generateddocument SET file = 'x.pdf', file_sha256 = 'y', "
               "sent_at = now() WHERE id = %s", [letter.pk]) == 1


@pytest.mark.postgres
@pytest.mark.django_db
def test_purge_allowed_lifts_the_triggers_for_the_retention(closed_jury):
    rows = protected_rows(closed_jury)
    statement = "UPDATE evaluations_signature SET ip_address = NULL WHERE id = %s"
    assert refused(statement, [rows["signature"].pk])

    with purge_allowed():
        assert run(statement, [rows["signature"].pk]) == 1

    assert refused(statement, [rows["signature"].pk])  # and only inside the block


# ---------------------------------------------------------------------------
# Legitimate flows, triggers installed
# ---------------------------------------------------------------------------
@pytest.mark.postgres
@pytest.mark.django_db
def test_sign_reopen_and_sign_again_go_through(signed, staff, president, president_member,
                                               assessor_member):
    grid = services.reopen_grid(grid=signed, actor=staff, reason="Commentaire à préciser.")
    assert grid.state == GridState.DRAFT and grid.reopen_count == 1
    assert not Signature.objects.filter(grid=grid, voided_at__isnull=True).exists()
    save(grid, competence_row(grid, "C2"), "comment", NM_COMMENT + " Reprise.", president.user)
    services.submit_for_signature(grid=grid, actor=president.user)
    sign(grid, president_member)
    assert sign(grid, assessor_member).locked

    grid = services.reopen_grid(grid=Grid.objects.get(pk=grid.pk), actor=staff,
                                reason="Deuxième réouverture.")
    assert grid.reopen_count == 2


@pytest.mark.postgres
@pytest.mark.django_db
def test_content_changed_after_a_signature_voids_it(to_sign, president, president_member):
    sign(to_sign, president_member)
    save(to_sign, competence_row(to_sign, "C1"), "comment", "Précision.", president.user)

    signature = Signature.objects.get(grid=to_sign)
    assert signature.voided_at is not None and signature.void_reason


@pytest.mark.postgres
@pytest.mark.django_db
def test_decisions_become_final_and_are_corrected(jury_closed, registration, staff):
    decision = Decision.objects.get(registration=registration)
    assert decision.final_at is not None

    corrected = deliberation.correct_decision(
        decision=decision, actor=staff, outcome="admis_partiel", acquired_blocs=["B1"],
        reason="Erreur matérielle sur le bloc B2.")

    assert corrected.supersedes_id == decision.pk
    assert Decision.objects.get(pk=decision.pk).outcome == decision.outcome


@pytest.mark.postgres
@pytest.mark.django_db
def test_a_lost_file_is_rendered_again(signed, media_root):
    from evaluations.tasks import ensure_rendered

    document = GeneratedDocument.objects.get(grid=signed)
    GeneratedDocument.objects.filter(pk=document.pk).update(
        file="documents/grille/perdu.pdf", file_sha256="0" * 64, generated_at=timezone.now())
    document.refresh_from_db()

    assert ensure_rendered(document).file_sha256 != "0" * 64
