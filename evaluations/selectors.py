"""Reads of grids that need care: scoped to the user, content in a fixed number of queries."""

from django.db.models import Q, QuerySet

from certifications.models import Role
from certifications.scoping import centre_ids_for
from evaluations.models import Grid


def grids_visible_to(user) -> QuerySet[Grid]:
    """Grids of the commissions the user sits on, and of the centres where they are staff."""
    if not user.is_authenticated:
        return Grid.objects.none()
    return Grid.objects.filter(
        Q(scheduled__commission__members__evaluator__user=user)
        | Q(scheduled__commission__centre_id__in=centre_ids_for(user, [Role.STAFF]))
    ).distinct()


def grid_for_page(user, pk: int) -> Grid:
    return (
        grids_visible_to(user)
        .select_related("scheduled__commission__centre", "scheduled__registration__candidate",
                        "scheduled__registration__company",
                        "scheduled__registration__version__certification")
        .get(pk=pk)
    )
