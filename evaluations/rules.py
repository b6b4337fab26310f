"""Who may see, fill, sign and reopen a grid (STYLE.md §5). Members of the grid's commission
fill and sign it; staff of the centre read it and may reopen it; nobody else sees it (404)."""

import rules

from candidates.rules import is_staff_of_centre
from certifications.scoping import staff_centre_ids
from commissions.models import Seat


@rules.predicate
def is_grid_member(user, grid) -> bool:
    if grid is None or not user.is_authenticated:
        return False
    if getattr(grid, "user_sits_for", None) == user.pk:  # read with the grid (selectors)
        return grid.user_sits
    return grid.scheduled.commission.members.filter(evaluator__user=user).exists()


@rules.predicate
def is_grid_centre_staff(user, grid) -> bool:
    if grid is None:
        return False
    return grid.scheduled.commission.centre_id in staff_centre_ids(user)


rules.add_perm("evaluations.see_grid", is_grid_member | is_grid_centre_staff)
rules.add_perm("evaluations.fill_grid", is_grid_member)
rules.add_perm("evaluations.reopen_grid", is_grid_centre_staff)
rules.add_perm("evaluations.resolve_incident", is_grid_centre_staff)


# ---------------------------------------------------------------------------
# Juries paritaires (DOMAIN.md §6): staff of the centre prepare and may record decisions;
# the members of the session read it; its president records presence, decides (when present)
# and signs the procès-verbal. Nobody else sees a session (404).
# ---------------------------------------------------------------------------
@rules.predicate
def is_session_centre_staff(user, session) -> bool:
    if session is None:
        return False
    return session.centre_id in staff_centre_ids(user)


def _seats_of(user, session) -> list:
    """The user's seats on ``session``: from the seats a page already loaded with their
    members (selectors_jury.session_for_page), else one query."""
    loaded = getattr(session, "_prefetched_objects_cache", {}).get("seats")
    if loaded is not None and all(Seat.member.is_cached(seat) for seat in loaded):
        return [seat for seat in loaded if seat.member.user_id == user.pk]
    return list(session.seats.filter(member__user=user))


@rules.predicate
def sits_on_session(user, session) -> bool:
    if session is None or not user.is_authenticated:
        return False
    return bool(_seats_of(user, session))


@rules.predicate
def presides_session(user, session) -> bool:
    if session is None or not user.is_authenticated:
        return False
    return any(seat.is_president for seat in _seats_of(user, session))


@rules.predicate
def presides_session_present(user, session) -> bool:
    if session is None or not user.is_authenticated:
        return False
    return any(seat.is_president and seat.present for seat in _seats_of(user, session))


rules.add_perm("evaluations.see_session", is_session_centre_staff | sits_on_session)
rules.add_perm("evaluations.manage_session", is_session_centre_staff)
rules.add_perm("evaluations.record_presence", is_session_centre_staff | presides_session)
rules.add_perm("evaluations.decide_session", is_session_centre_staff | presides_session_present)
rules.add_perm("evaluations.correct_decision", is_session_centre_staff | presides_session)
rules.add_perm("evaluations.sign_minutes", presides_session_present)
rules.add_perm("evaluations.open_session", is_session_centre_staff | presides_session)


# ---------------------------------------------------------------------------
# Personal data (DOMAIN.md §8): the right-of-access export of a candidate is for the staff of
# the candidate's centre only.
# ---------------------------------------------------------------------------
rules.add_perm("evaluations.export_personal_data", is_staff_of_centre)
