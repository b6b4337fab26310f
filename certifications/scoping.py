"""Which centres a user may act on, and the one helper every later query uses to scope data.

DESIGN.md §1b: candidates, companies, evaluators, commissions and juries belong to a centre;
staff see their centre's data only; referentials are national and shared.
"""

from collections.abc import Iterable

from django.db.models import QuerySet

from certifications.models import Centre, CentreMembership, Role


def _membership_rows(user) -> list[tuple[str, int, str]]:
    """The user's (role, centre id, centre name) rows: one query per request, cached on the
    user object (the middleware loads the user anew for each request, so a change of
    membership counts from the next request)."""
    if not getattr(user, "is_authenticated", False):
        return []
    cached = getattr(user, "_membership_rows_cache", None)
    if cached is None:
        cached = user._membership_rows_cache = list(
            CentreMembership.objects.filter(user=user)
            .values_list("role", "centre_id", "centre__name"))
    return cached


def memberships_of(user) -> list[tuple[str, int]]:
    """The user's (role, centre id) pairs, read once per request (``_membership_rows``).
    Roles and centres below are read from it."""
    return [(role, centre) for role, centre, _name in _membership_rows(user)]


def centre_names_for(user) -> list[str]:
    """The names of the user's centres, sorted, without a query of their own."""
    return sorted({name for _role, _centre, name in _membership_rows(user)})


def user_roles(user) -> set[str]:
    """Every role the user holds in any centre."""
    return {role for role, _centre in memberships_of(user)}


def has_role(user, role: str) -> bool:
    return role in user_roles(user)


def centre_ids_for(user, roles: Iterable[str] | None = None) -> list[int]:
    """Ids of the centres where the user holds one of ``roles`` (any role when None), in a
    stable order."""
    wanted = None if roles is None else set(roles)
    return sorted({centre for role, centre in memberships_of(user)
                   if wanted is None or role in wanted})


def centres_for(user, roles: Iterable[str] | None = None) -> QuerySet[Centre]:
    return Centre.objects.filter(pk__in=centre_ids_for(user, roles))


def scope_to_centres(
    queryset: QuerySet, user, *, field: str = "centre", roles: Iterable[str] | None = None
) -> QuerySet:
    """Restrict ``queryset`` to rows whose ``field`` (a lookup path to a Centre) is one of
    the user's centres. The national read-only role sees every centre."""
    if has_role(user, Role.NATIONAL) and (roles is None or Role.NATIONAL in roles):
        return queryset
    return queryset.filter(**{f"{field}__in": centre_ids_for(user, roles)})


def staff_centre_ids(user) -> list[int]:
    return centre_ids_for(user, [Role.STAFF])
