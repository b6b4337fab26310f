"""The PostgreSQL wall around signed content and audit rows, and its one deliberate door.

The triggers themselves are declared in each model's ``Meta.triggers`` (django-pgtrigger); this
module names them so that the only code allowed to go through them says so explicitly.
"""

import contextlib
from collections.abc import Iterator

import pgtrigger

# Every trigger that refuses a write on signed content or on an audit row. Keep in step with
# the models' Meta.triggers (tests/trust/test_triggers.py checks that each one is registered).
PROTECTION_TRIGGERS = (
    "evaluations.Grid:signed_grid_update",
    "evaluations.Grid:signed_grid_delete",
    "evaluations.CompetenceResult:signed_competence_result",
    "evaluations.CriterionResult:signed_criterion_result",
    "evaluations.Signature:signature_update",
    "evaluations.Signature:signature_delete",
    "evaluations.GridEvent:grid_event_append_only",
    "evaluations.GeneratedDocument:document_content",
    "evaluations.Decision:final_decision",
    "evaluations.Minutes:minutes_append_only",
    "evaluations.PersonalDataEvent:personal_data_event_append_only",
    "candidates.RegistrationEvent:registration_event_append_only",
)


@contextlib.contextmanager
def purge_allowed() -> Iterator[None]:
    """Lift the protection triggers for the block (PostgreSQL; a no-op on SQLite).

    Reserved for the GDPR retention command, which anonymises or deletes signed grids,
    decisions, minutes and their audit rows once their retention period has passed. No
    business service, view or admin action may use it: everywhere else a signed row is only
    reopened or superseded through its service. Only the database triggers are lifted: the
    models' own guards (``Grid.delete``, the append-only querysets) still refuse, so the purge
    writes through ``Model._base_manager`` querysets inside this block.
    """
    with pgtrigger.ignore(*PROTECTION_TRIGGERS):
        yield
