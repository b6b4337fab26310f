"""Reads of grids that need care: scoped to the user, content in a fixed number of queries."""

import rules
from django.db.models import Exists, OuterRef, Q, QuerySet

from certifications.models import Role
from certifications.scoping import centre_ids_for
from commissions.models import CommissionMember
from config.planning import joins_as_written
from evaluations.models import Grid


def grids_visible_to(user) -> QuerySet[Grid]:
    """Grids of the commissions the user sits on, and of the centres where they are staff."""
    if not user.is_authenticated:
        return Grid.objects.none()
    # EXISTS rather than a join + DISTINCT: the planner then reads the one grid by its key
    # (the DISTINCT over a join with the JSON snapshot cost ~12 ms per page at volume).
    return Grid.objects.filter(
        Exists(_seat_of(user))
        | Q(scheduled__commission__centre_id__in=centre_ids_for(user, [Role.STAFF]))
    )


def _seat_of(user) -> QuerySet[CommissionMember]:
    return CommissionMember.objects.filter(commission_id=OuterRef("scheduled__commission_id"),
                                           evaluator__user=user)


def _noting_seat(queryset: QuerySet[Grid], user, pk: int) -> Grid:
    """The grid ``pk`` read with whether ``user`` sits on its commission, which the access
    rule (rules.is_grid_member) then reads instead of asking the database again."""
    grid = queryset.annotate(user_sits=Exists(_seat_of(user))).get(pk=pk)
    grid.user_sits_for = user.pk
    return grid


def grid_for_page(user, pk: int) -> Grid:
    with joins_as_written():  # one grid, joined on unique keys
        return _noting_seat(
            grids_visible_to(user)
            .select_related("scheduled__commission__centre",
                            "scheduled__registration__candidate",
                            "scheduled__registration__company",
                            "scheduled__registration__version__certification"), user, pk)


def grid_for_saving(user, pk: int) -> Grid:
    """What an autosave reads before the service locks the grid: the grid, its commission
    (status and centre, for the access rules) and the user's seat. Not the candidate and
    dossier the page shows: an evaluator saves a field every few seconds.

    Read by its key, then kept only if the access rule ``evaluations.see_grid`` lets the
    user see it: a seat on its commission (read with it) or staff of its centre — the two
    conditions of ``grids_visible_to``, whose ``WHERE`` would repeat the seat's subquery.
    PostgreSQL planned that query in ≈ 1.4 ms against ≈ 0.9 ms for this one (N=20), on a
    request that runs every few seconds per evaluator."""
    if not user.is_authenticated:
        raise Grid.DoesNotExist
    grid = _noting_seat(Grid.objects.select_related("scheduled__commission"), user, pk)
    if not rules.has_perm("evaluations.see_grid", user, grid):
        raise Grid.DoesNotExist
    return grid
