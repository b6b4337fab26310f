"""The role dashboard at ``/``. It lives in the rightmost app because it reads across all of
them (DESIGN.md §3: imports only go leftwards)."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from candidates.selectors import state_counts
from certifications.models import Role
from certifications.scoping import centre_names_for, user_roles
from certifications.selectors import versions_for_listing
from commissions.impartiality import charter_pending_for_user
from commissions.selectors import evaluator_commissions
from evaluations.selectors_jury import sessions_of_member

# Commissions and sessions a dashboard lists; « Toutes mes … » links to the full lists.
DASHBOARD_ITEMS = 5

DASHBOARD_ORDER = [Role.STAFF, Role.EVALUATOR, Role.JURY, Role.NATIONAL]


@login_required
def dashboard(request):
    roles = user_roles(request.user)
    panels = [role for role in DASHBOARD_ORDER if role in roles]
    context = {
        "panels": panels,
        "centres": centre_names_for(request.user),
    }
    if Role.STAFF in roles:
        context["registration_counts"] = state_counts(request.user)
    if Role.EVALUATOR in roles:
        # Nothing for a role without an evaluator profile: no seat, no charter pending.
        context["evaluator_commissions"] = evaluator_commissions(
            request.user, upcoming_only=DASHBOARD_ITEMS)
        context["charter_pending"] = charter_pending_for_user(request.user)
    if Role.JURY in roles:
        context["jury_sessions"] = sessions_of_member(request.user, limit=DASHBOARD_ITEMS)
    if Role.STAFF in roles or Role.NATIONAL in roles:
        context["recent_versions"] = versions_for_listing()[:8]
    return render(request, "dashboard.html", context)
