"""Which centres a user may act on, and the one helper every later query uses to scope data.

DESIGN.md §1b: candidates, companies, evaluators, commissions and juries belong to a centre;
staff see their centre's data only; referentials are national and shared.
"""

from collections.abc import Iterable

from django.db.models import QuerySet

from certifications.models import Centre, CentreMembership, Role


def user_roles(user) -> set[str]:
    """Every role the user holds in any centre (cached on the user object for the request)."""
    if not getattr(user, "is_authenticated", False):
        return set()
    cached = getattr(user, "_roles_cache", None)
    if cached is None:
        cached = set(CentreMembership.objects.filter(user=user).values_list("role", flat=True))
        user._roles_cache = cached
    return cached


def has_role(user, role: str) -> bool:
    return role in user_roles(user)


def centre_ids_for(user, roles: Iterable[str] | None = None) -> list[int]:
    """Ids of the centres where the user holds one of ``roles`` (any role when None)."""
    if not getattr(user, "is_authenticated", False):
        return []
    # A page asks several times (scoping, permissions, admin filters): one query per set of
    # roles, cached on the user object like ``user_roles`` — that is, for the request.
    cache = getattr(user, "_centre_ids_cache", None)
    if cache is None:
        cache = user._centre_ids_cache = {}
    key = None if roles is None else frozenset(roles)
    if key not in cache:
        memberships = CentreMembership.objects.filter(user=user)
        if key is not None:
            memberships = memberships.filter(role__in=list(key))
        cache[key] = list(memberships.values_list("centre_id", flat=True).distinct())
    return list(cache[key])


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
