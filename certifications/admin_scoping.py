"""Admin classes of every app scope their rows to the staff member's centres (DESIGN.md §1b);
the read-only inline they share."""

import datetime
import functools

from django.contrib import admin
from django.contrib.admin import helpers
from django.core.exceptions import FieldDoesNotExist
from django.db import connections, models
from django.db.models import Exists, Max, Min
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _

from certifications.models import Role
from certifications.scoping import scope_to_centres, staff_centre_ids
from config import dateformats


def years_with_rows(queryset, field_name: str, *, datetimes: bool, bounds=None) -> list:
    """The years of ``field_name`` holding rows of ``queryset``: what ``queryset.dates(
    field_name, "year")`` (or ``datetimes``, in the current time zone) returns, as a list.

    Django asks it with SELECT DISTINCT over the truncated dates, which reads every row (14 ms
    over 40 000 registrations). Here, the first and last dates (``bounds``, when already
    read), then one query asking, for each year between them, whether a row exists: index
    probes, a millisecond."""
    if bounds is None:
        bounds = queryset.order_by().aggregate(first=Min(field_name), last=Max(field_name))
    if bounds["first"] is None:
        return []
    first, last = bounds["first"], bounds["last"]
    if datetimes and timezone.is_aware(first):
        first, last = timezone.localtime(first), timezone.localtime(last)

    def start(year: int):
        if not datetimes:
            return datetime.date(year, 1, 1)
        moment = datetime.datetime(year, 1, 1)
        return timezone.make_aware(moment) if timezone.is_aware(first) else moment

    years = list(range(first.year, last.year + 1))
    connection = connections[queryset.db]
    field = queryset.model._meta.get_field(field_name)
    compiler = queryset.query.get_compiler(using=queryset.db)

    def probe(year: int) -> tuple[str, list]:
        exists = Exists(queryset.order_by().filter(**{f"{field_name}__gte": start(year),
                                                      f"{field_name}__lt": start(year + 1)}))
        sql, params = exists.as_sql(compiler, connection)
        return sql, list(params)

    # Every year's probe is the same SQL but for its two bounds: compiled for two years, the
    # positions where their parameters differ are the bounds; the others' parameters are
    # written there, as the field adapts them (compiling a probe per year was ≈ 0.3 ms each).
    def bounds(year: int) -> list:
        return [field.get_db_prep_value(start(year + n), connection) for n in (0, 1)]

    sql, template = probe(years[0])
    next_sql, next_params = probe(years[0] + 1)
    bound_at = []
    if next_sql == sql and len(next_params) == len(template):
        bound_at = [i for i, (a, b) in enumerate(zip(template, next_params, strict=True))
                    if a != b]
    bounds_found = len(bound_at) == 2 and [template[i] for i in bound_at] == bounds(years[0])
    parts, params = [], []
    for year in years:
        if bounds_found:
            year_params = list(template)
            year_params[bound_at[0]], year_params[bound_at[1]] = bounds(year)
        else:  # the bounds could not be told apart: compile this year's probe
            sql, year_params = probe(year)
        parts.append(sql)
        params.extend(year_params)
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(parts), params)
        found = cursor.fetchone()
    return [start(year) for year, exists in zip(years, found, strict=True) if exists]


class YearProbesQuerySetMixin:
    """A queryset whose year list (the admin's date hierarchy) comes from years_with_rows.

    The admin's date hierarchy first reads the first and last dates (``aggregate(first=Min(f),
    last=Max(f))``), then the years: those bounds are kept and reused, so the page runs as
    many queries as Django's own (any other aggregate is untouched)."""

    _year_bounds = None

    def aggregate(self, *args, **kwargs):
        result = super().aggregate(*args, **kwargs)
        first, last = kwargs.get("first"), kwargs.get("last")
        if not args and set(kwargs) == {"first", "last"} and isinstance(first, Min) \
                and isinstance(last, Max):
            field_name = getattr(first.source_expressions[0], "name", None)
            if field_name and field_name == getattr(last.source_expressions[0], "name", None):
                self._year_bounds = (field_name, result)
        return result

    def _years(self, field_name, *, datetimes, order):
        kept = self._year_bounds
        years = years_with_rows(self, field_name, datetimes=datetimes,
                                bounds=kept[1] if kept and kept[0] == field_name else None)
        return years if order == "ASC" else years[::-1]

    def dates(self, field_name, kind, order="ASC"):
        if kind != "year":
            return super().dates(field_name, kind, order)
        return self._years(field_name, datetimes=False, order=order)

    def datetimes(self, field_name, kind, order="ASC", tzinfo=None):
        if kind != "year" or tzinfo is not None:
            return super().datetimes(field_name, kind, order, tzinfo)
        return self._years(field_name, datetimes=True, order=order)


@functools.cache
def _with_year_probes(queryset_class: type) -> type:
    return type(f"{queryset_class.__name__}WithYearProbes",
                (YearProbesQuerySetMixin, queryset_class), {})


@functools.cache
def date_column(model, name: str):
    """The list column of the date or datetime field ``name`` of ``model``: the cell Django's
    admin writes (its text, not wrapped, sorted by the field, headed by its name), written by
    config.dateformats: a hundred datetimes take ≈ 1.4 ms instead of ≈ 2.7 through Django's
    DateFormat, a column of the decisions list. None when ``name`` is not such a field."""
    try:
        field = model._meta.get_field(name)
    except FieldDoesNotExist:
        return None
    if not isinstance(field, models.DateField) or not field.concrete:
        return None
    attname = field.attname

    def column(obj):
        value = getattr(obj, attname)
        if value is None:
            return None  # the admin's empty value
        return format_html('<span class="nowrap">{}</span>', dateformats.localize(value))

    column.__name__ = name  # the cells' class, field-<name>, as Django's
    column.short_description = field.verbose_name
    column.admin_order_field = name
    return column


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

    def get_list_display(self, request):
        """Date and datetime fields shown by date_column; a field the list links or edits
        stays Django's."""
        kept = set(self.list_editable) | set(self.list_display_links or ())
        columns = []
        for name in super().get_list_display(request):
            column = (date_column(self.model, name)
                      if isinstance(name, str) and name not in kept else None)
            columns.append(column or name)
        return columns

    def action_checkbox(self, obj):
        """Django's action checkbox, written directly: rendering it through the form widget
        templates (three template includes per row) was a fifth of a 100-row list's time.
        The markup is the widget's, attribute for attribute (tested against it)."""
        return format_html(
            '<input type="checkbox" name="{}" value="{}" class="action-select" aria-label="{}">',
            helpers.ACTION_CHECKBOX_NAME, str(obj.pk),
            format_html(_("Select this object for an action - {}"), str(obj)))

    def get_changelist(self, request, **kwargs):
        changelist = super().get_changelist(request, **kwargs)
        if not self.date_hierarchy:
            return changelist

        class YearProbesChangeList(changelist):
            # The date hierarchy's year list from index probes (years_with_rows).
            def get_queryset(self, request, exclude_parameters=None):
                queryset = super().get_queryset(request, exclude_parameters)
                queryset.__class__ = _with_year_probes(type(queryset))
                return queryset

        return YearProbesChangeList

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
