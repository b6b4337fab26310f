"""Reads of grids that need care: scoped to the user, content in a fixed number of queries."""

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
    sits = CommissionMember.objects.filter(commission_id=OuterRef("scheduled__commission_id"),
                                           evaluator__user=user)
    return Grid.objects.filter(
        Exists(sits)
        | Q(scheduled__commission__centre_id__in=centre_ids_for(user, [Role.STAFF]))
    )


def grid_for_page(user, pk: int) -> Grid:
    with joins_as_written():  # one grid, joined on unique keys
        return (
            grids_visible_to(user)
            .select_related("scheduled__commission__centre",
                            "scheduled__registration__candidate",
                            "scheduled__registration__company",
                            "scheduled__registration__version__certification")
            .get(pk=pk)
        )
