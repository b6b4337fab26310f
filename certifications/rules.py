"""Who may do what with referentials (django-rules predicates, STYLE.md §5)."""

import rules

from certifications.models import Role
from certifications.scoping import has_role


@rules.predicate
def is_centre_staff(user) -> bool:
    return has_role(user, Role.STAFF)


@rules.predicate
def is_evaluator(user) -> bool:
    return has_role(user, Role.EVALUATOR)


@rules.predicate
def is_jury_member(user) -> bool:
    return has_role(user, Role.JURY)


@rules.predicate
def is_national_reader(user) -> bool:
    return has_role(user, Role.NATIONAL)


# Referentials are national: any staff member (or an evaluator, who works against them)
# may read them; changes go through the admin, which Django's model permissions guard.
rules.add_perm(
    "certifications.view_referential", is_centre_staff | is_evaluator | is_national_reader
)

# The details of /healthz (config/health.py): the state of each service of the deployment.
rules.add_perm("certifications.view_operations", is_centre_staff)
