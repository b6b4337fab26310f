"""Who may see and act on commissions (STYLE.md §5). Staff of the commission's centre
manage it; its members see it and the dossiers of its candidates; nobody else."""

import rules

from candidates.rules import is_staff_of_centre


@rules.predicate
def is_commission_member(user, commission) -> bool:
    if commission is None or not user.is_authenticated:
        return False
    return commission.members.filter(evaluator__user=user).exists()


@rules.predicate
def sits_on_registration_commission(user, registration) -> bool:
    """An evaluator sees a dossier only while it is scheduled in a commission they sit on."""
    if registration is None or not user.is_authenticated:
        return False
    return registration.schedulings.filter(commission__members__evaluator__user=user).exists()


rules.add_perm("commissions.view_commission", is_staff_of_centre | is_commission_member)
rules.add_perm("commissions.manage_commission", is_staff_of_centre)
rules.add_perm("commissions.view_dossier", is_staff_of_centre | sits_on_registration_commission)
