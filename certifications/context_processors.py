from certifications.models import Role
from certifications.scoping import user_roles


def navigation(request):
    """Expose the user's roles to templates so that the navigation adapts to them."""
    roles = user_roles(request.user)
    return {
        "nav_roles": roles,
        "is_staff_role": Role.STAFF in roles,
        "is_evaluator_role": Role.EVALUATOR in roles,
        "is_jury_role": Role.JURY in roles,
        "is_national_role": Role.NATIONAL in roles,
    }
