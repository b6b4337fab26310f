"""Who may see and change candidates' data (STYLE.md §5). Staff of the registration's centre
only; evaluators read dossiers through their commission's pages (commissions app)."""

import rules

from certifications.models import Role
from certifications.scoping import staff_centre_ids


@rules.predicate
def is_staff_of_centre(user, obj) -> bool:
    """``obj`` is anything with a ``centre_id`` (registration, candidate, company)."""
    if obj is None:
        return bool(staff_centre_ids(user))
    centre_id = getattr(obj, "centre_id", None)
    return centre_id is not None and centre_id in staff_centre_ids(user)


rules.add_perm("candidates.view_registration", is_staff_of_centre)
rules.add_perm("candidates.manage_registration", is_staff_of_centre)
rules.add_perm("candidates.view_candidate", is_staff_of_centre)

STAFF_ROLES = [Role.STAFF]
