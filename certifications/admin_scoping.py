"""Admin classes of every app scope their rows to the staff member's centres (DESIGN.md §1b);
the read-only inline they share."""

from django.contrib import admin
from django.contrib.admin import helpers
from django.utils.html import format_html
from django.utils.translation import gettext as _

from certifications.models import Role
from certifications.scoping import scope_to_centres, staff_centre_ids


class CentreScopedAdminMixin:
    """Rows whose ``centre_lookup`` is one of the user's centres; superusers see all."""

    centre_lookup = "centre"
    # A filtered list counts its rows once, not also the whole table for « N au total »: over
    # every centre's registrations that second COUNT(*) cost ≈ 3 ms a page at N=20.
    show_full_result_count = False

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return scope_to_centres(queryset, request.user, field=self.centre_lookup,
                                roles=[Role.STAFF])

    def action_checkbox(self, obj):
        """Django's action checkbox, written directly: rendering it through the form widget
        templates (three template includes per row) was a fifth of a 100-row list's time.
        The markup is the widget's, attribute for attribute (tested against it)."""
        return format_html(
            '<input type="checkbox" name="{}" value="{}" class="action-select" aria-label="{}">',
            helpers.ACTION_CHECKBOX_NAME, str(obj.pk),
            format_html(_("Select this object for an action - {}"), str(obj)))

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        from certifications.models import Centre

        if db_field.related_model is Centre and not request.user.is_superuser:
            kwargs["queryset"] = Centre.objects.filter(pk__in=staff_centre_ids(request.user))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class ReadOnlyInline(admin.TabularInline):
    """Rows shown, never added, changed or deleted from the admin (history, audit, content
    changed only through the services)."""

    extra = 0
    can_delete = False
    # The relations its rows display: joined, not read once per row.
    list_select_related: tuple[str, ...] = ()

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        return (queryset.select_related(*self.list_select_related) if self.list_select_related
                else queryset)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
