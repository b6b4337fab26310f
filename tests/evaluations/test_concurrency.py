"""Several members with the grid open at once (issue 5): no update is ever silently lost.
Two real database connections, in two threads released together by a barrier, call the
services at the same instant. PostgreSQL only: SQLite has no row locks to contend on."""

import threading

import pytest
from django.db import connections

from evaluations import services
from evaluations.models import GeneratedDocument, Grid, GridEvent, GridLocked, GridState, Signature
from evaluations.services import StaleEdit
from tests.evaluations.conftest import competence_row, criterion_row, sign

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

A = GridEvent.Action


def at_the_same_instant(*calls, timeout: float = 30) -> list:
    """Run each call in its own thread (so on its own database connection), all released
    by one barrier. Returns, in order, the call's result or the exception it raised."""
    barrier = threading.Barrier(len(calls))
    outcomes: list = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait(timeout=timeout)
            outcomes[index] = call()
        except Exception as exc:  # noqa: BLE001 — the outcome is what the test asserts
            outcomes[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    assert not any(thread.is_alive() for thread in threads), "a writer never finished"
    return outcomes


def save_call(grid, row, field, value, revision, actor):
    row_kind = "criterion" if hasattr(row, "competence_result_id") else "competence"
    return lambda: services.save_field(grid=Grid.objects.get(pk=grid.pk), row_kind=row_kind,
                                       row_id=row.pk, field=field, value=value,
                                       revision=revision, actor=actor)


def test_two_members_saving_the_same_field_at_once_lose_nothing(grid, president, assessor):
    row = criterion_row(grid, "C1.1")
    mine = "Observé : consignation complète avant intervention."
    theirs = "Non observé : consignation oubliée sur la pompe."
    outcomes = at_the_same_instant(
        save_call(grid, row, "notes", mine, 1, president.user),
        save_call(grid, row, "notes", theirs, 1, assessor.user),
    )
    stale = [o for o in outcomes if isinstance(o, StaleEdit)]
    saved = [o for o in outcomes if not isinstance(o, Exception)]
    assert len(stale) == 1 and len(saved) == 1, outcomes
    winner = saved[0]
    row.refresh_from_db()
    assert row.revision == 2
    assert row.notes == winner.notes
    assert row.updated_by == winner.updated_by
    # The loser is told exactly what the winner wrote, and by whom.
    assert stale[0].current_value == winner.notes
    assert stale[0].revision == 2
    assert stale[0].who == winner.updated_by.get_full_name()
    changes = grid.events.filter(action=A.CHANGED, target="C1.1.notes")
    assert changes.count() == 1
    assert changes.get().after == {"notes": winner.notes}


def test_many_writers_on_one_level_one_wins_the_others_are_told(grid, president, assessor):
    row = competence_row(grid, "C2")
    levels = dict(grid.scheduled.registration.version.rating_levels.values_list("code", "pk"))
    actors = [president.user, assessor.user] * 2
    values = [levels["MA"], levels["NM"]] * 2
    outcomes = at_the_same_instant(*[
        save_call(grid, row, "level", value, 1, actor)
        for value, actor in zip(values, actors, strict=True)])
    saved = [o for o in outcomes if not isinstance(o, Exception)]
    assert len(saved) == 1, outcomes
    assert all(isinstance(o, StaleEdit) for o in outcomes if o is not saved[0])
    row.refresh_from_db()
    assert row.revision == 2 and row.level_id == saved[0].level_id


def test_two_members_editing_different_criteria_at_once_both_succeed(grid, president,
                                                                     assessor):
    first, second = criterion_row(grid, "C1.1"), criterion_row(grid, "C3.2")
    outcomes = at_the_same_instant(
        save_call(grid, first, "satisfied", "oui", 1, president.user),
        save_call(grid, second, "notes", "Mesures reportées sans erreur.", 1, assessor.user),
    )
    assert not any(isinstance(o, Exception) for o in outcomes), outcomes
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.satisfied, first.revision, first.updated_by) == (True, 2, president.user)
    assert (second.notes, second.revision, second.updated_by) == (
        "Mesures reportées sans erreur.", 2, assessor.user)
    assert grid.events.filter(action=A.CHANGED).count() == 2


def test_two_members_signing_at_once_lock_the_grid_exactly_once(
        to_sign, president_member, assessor_member, media_root):
    outcomes = at_the_same_instant(
        lambda: sign(Grid.objects.get(pk=to_sign.pk), president_member),
        lambda: sign(Grid.objects.get(pk=to_sign.pk), assessor_member),
    )
    assert not any(isinstance(o, Exception) for o in outcomes), outcomes
    assert sorted(o.locked for o in outcomes) == [False, True]
    grid = Grid.objects.get(pk=to_sign.pk)
    assert grid.state == GridState.SIGNED
    assert Signature.objects.filter(grid=grid, voided_at__isnull=True).count() == 2
    assert set(Signature.objects.filter(grid=grid).values_list("snapshot_sha256", flat=True)) == {
        grid.snapshot_sha256}
    assert GeneratedDocument.objects.filter(grid=grid).count() == 1
    assert grid.events.filter(action=A.LOCKED).count() == 1
    assert grid.events.filter(action=A.SIGNED).count() == 2


def test_an_edit_racing_the_last_signature_never_leaves_a_lock_on_other_content(
        to_sign, president, president_member, assessor_member, media_root):
    """Either the edit lands first (it voids the first signature: no lock) or the signature
    does (the grid is locked and the edit refused) — never a signed grid whose content
    differs from what was signed."""
    sign(to_sign, president_member)
    row = competence_row(to_sign, "C1")
    edit, signature = at_the_same_instant(
        save_call(to_sign, row, "comment", "Précision du président.", row.revision,
                  president.user),
        lambda: sign(Grid.objects.get(pk=to_sign.pk), assessor_member),
    )
    assert not isinstance(signature, Exception), signature
    grid = Grid.objects.get(pk=to_sign.pk)
    if isinstance(edit, GridLocked):
        assert signature.locked is True and grid.state == GridState.SIGNED
        assert competence_row(grid, "C1").comment == ""
    else:
        assert not isinstance(edit, Exception), edit
        assert signature.locked is False and grid.state == GridState.TO_SIGN
        assert not Signature.objects.filter(grid=grid, member=president_member,
                                            voided_at__isnull=True).exists()
    if grid.is_locked:
        assert services.sha256_of(services.build_snapshot(grid)) == grid.snapshot_sha256
