"""The jury reads a signed grid's summary (no criteria) where it used to parse the whole
snapshot: the summary says the same as the snapshot, and goes with it."""

import importlib

import pytest

from evaluations import deliberation, services
from evaluations.models import Grid

pytestmark = pytest.mark.django_db


def test_signing_stores_the_summary_of_the_snapshot(signed):
    assert signed.summary == services.summary_of(signed.snapshot)
    assert [c["code"] for c in signed.summary["competences"]] == \
        [c["code"] for c in signed.snapshot["competences"]]
    assert all("criteria" not in c for c in signed.summary["competences"])
    c2 = next(c for c in signed.summary["competences"] if c["code"] == "C2")
    assert c2["level"] == {"mastered": False} and c2["comment"]


def test_proposal_and_conformity_are_the_same_from_summary_or_snapshot(signed):
    registration = signed.scheduled.registration
    from_summary = Grid.objects.defer("snapshot").get(pk=signed.pk)
    from_snapshot = Grid.objects.get(pk=signed.pk)
    from_snapshot.summary = None  # a grid signed before summaries existed
    assert deliberation.propose(registration, [from_summary]) == \
        deliberation.propose(registration, [from_snapshot])
    assert deliberation.conformity(registration, [from_summary]) == \
        deliberation.conformity(registration, [from_snapshot])


def test_reopening_clears_the_summary_with_the_snapshot(signed, staff):
    grid = services.reopen_grid(grid=signed, actor=staff, reason="Erreur de saisie.")
    grid.refresh_from_db()
    assert grid.snapshot is None and grid.summary is None


def test_the_migration_fills_summaries_by_the_same_rule(signed):
    migration = importlib.import_module("evaluations.migrations.0004_grid_summary")
    assert migration.summary_rule(signed.snapshot) == services.summary_of(signed.snapshot)
