"""Admin classes of every app scope their rows to the staff member's centres (DESIGN.md §1b)."""

from certifications.models import Role
from certifications.scoping import scope_to_centres, staff_centre_ids


class CentreScopedAdminMixin:
    """Rows whose ``centre_lookup`` is one of the user's centres; superusers see all."""

    centre_lookup = "centre"

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return scope_to_centres(queryset, request.user, field=self.centre_lookup,
                                roles=[Role.STAFF])

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        from certifications.models import Centre

        if db_field.related_model is Centre and not request.user.is_superuser:
            kwargs["queryset"] = Centre.objects.filter(pk__in=staff_centre_ids(request.user))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)
