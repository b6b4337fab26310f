"""The shared admin mixin: what it writes by hand must be exactly what Django would render."""

import datetime

import pytest
from django.contrib import admin
from django.contrib.admin.templatetags import admin_list
from django.core.exceptions import FieldDoesNotExist
from django.db.models import Max, Min
from django.urls import reverse

from certifications.admin_scoping import CentreScopedAdminMixin, years_with_rows
from tests.factories import CandidateFactory, UserFactory, make_registration

pytestmark = pytest.mark.django_db


def scoped_admins():
    return [model_admin for model_admin in admin.site._registry.values()
            if isinstance(model_admin, CentreScopedAdminMixin)]


def test_every_centre_scoped_admin_uses_the_direct_checkbox():
    assert len(scoped_admins()) >= 10
    for model_admin in scoped_admins():
        assert type(model_admin).action_checkbox is CentreScopedAdminMixin.action_checkbox


@pytest.mark.parametrize("last_name", ["Martin", "O'Brien & <Fils> \"Père\""])
def test_action_checkbox_is_the_widget_markup(last_name):
    candidate = CandidateFactory(birth_name=last_name)
    model_admin = admin.site._registry[type(candidate)]
    written = model_admin.action_checkbox(candidate)
    rendered = admin.ModelAdmin.action_checkbox(model_admin, candidate)
    assert written == rendered
    assert 'name="_selected_action"' in written and f'value="{candidate.pk}"' in written
    assert "<Fils>" not in written  # escaped once, as the widget does



# ---------------------------------------------------------------------------
# The date hierarchy's year list: index probes, the same years as Django's DISTINCT
# ---------------------------------------------------------------------------
@pytest.fixture
def registrations_over_years():
    """Registrations in 2019, 2021 (not 2020) and 2023 at one centre, 2020 at another; state
    changes around a New Year's Eve, where UTC and Paris disagree on the year."""
    from candidates.models import Registration

    rows = [make_registration()]
    centre = rows[0].centre
    for day in [datetime.date(2021, 6, 1), datetime.date(2023, 12, 31)]:
        rows.append(make_registration(centre=centre, registered_on=day))
    elsewhere = make_registration(registered_on=datetime.date(2020, 3, 1))
    Registration.objects.filter(pk=rows[0].pk).update(registered_on=datetime.date(2019, 1, 1))
    utc = datetime.UTC
    Registration.objects.filter(pk=rows[1].pk).update(  # 2024-01-01 00:30 in Paris
        state_changed_at=datetime.datetime(2023, 12, 31, 23, 30, tzinfo=utc))
    Registration.objects.filter(pk=rows[2].pk).update(
        state_changed_at=datetime.datetime(2021, 7, 1, 12, 0, tzinfo=utc))
    Registration.objects.filter(pk__in=[rows[0].pk, elsewhere.pk]).update(
        state_changed_at=datetime.datetime(2019, 12, 31, 23, 30, tzinfo=utc))
    return centre


def test_year_list_is_the_same_as_djangos(registrations_over_years):
    from candidates.models import Registration

    everywhere = Registration.objects.all()
    one_centre = Registration.objects.filter(centre=registrations_over_years)
    for queryset in (everywhere, one_centre, everywhere.filter(path="salarie")):
        assert (years_with_rows(queryset, "registered_on", datetimes=False)
                == list(queryset.dates("registered_on", "year")))
        assert (years_with_rows(queryset, "state_changed_at", datetimes=True)
                == list(queryset.datetimes("state_changed_at", "year")))
    assert [d.year for d in years_with_rows(one_centre, "registered_on", datetimes=False)] == [
        2019, 2021, 2023]  # 2020 only at the other centre: not offered
    assert [d.year for d in years_with_rows(everywhere, "state_changed_at", datetimes=True)
            ] == [2020, 2021, 2024]  # the Paris years
    assert years_with_rows(Registration.objects.none(), "registered_on", datetimes=False) == []


def test_admin_date_hierarchy_offers_the_years_with_rows(client, registrations_over_years,
                                                         django_assert_max_num_queries):
    admin_user = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(admin_user)
    url = reverse("admin:candidates_registration_changelist")
    with django_assert_max_num_queries(15) as captured:
        response = client.get(url)
    assert response.status_code == 200
    # The page asked for the years by probes, never by a DISTINCT over truncated dates.
    sql = [query["sql"].lower() for query in captured.captured_queries]
    assert any(q.startswith("select exists(") for q in sql)
    assert not any("distinct" in q and "trunc" in q for q in sql)
    years = [choice["title"]
             for choice in admin_list.date_hierarchy(response.context["cl"])["choices"]]
    assert years == ["2019", "2020", "2021", "2023"]
    drilled = client.get(url, {"registered_on__year": "2021"})
    assert drilled.status_code == 200 and drilled.context["cl"].result_count == 1


def test_other_aggregates_of_the_admin_queryset_are_untouched(registrations_over_years):
    from django.db.models import Count, F
    from django.db.models.functions import Coalesce

    from candidates.models import Registration
    from certifications.admin_scoping import _with_year_probes

    queryset = Registration.objects.all()
    queryset.__class__ = _with_year_probes(type(queryset))
    assert queryset.aggregate(n=Count("pk")) == {"n": 4}
    bounds = queryset.aggregate(first=Min(Coalesce(F("registered_on"), F("registered_on"))),
                                last=Max("registered_on"))
    assert bounds["first"].year == 2019 and queryset._year_bounds is None
    assert [d.year for d in queryset.dates("registered_on", "year", order="DESC")] == [
        2023, 2021, 2020, 2019]
    assert (list(queryset.dates("registered_on", "month"))  # other kinds: Django's own
            == list(Registration.objects.dates("registered_on", "month")))


@pytest.fixture
def compiled_probes(monkeypatch):
    """How many year probes were compiled (Exists.as_sql, called through)."""
    from django.db.models import Exists

    calls = []
    as_sql = Exists.as_sql

    def counting(self, *args, **kwargs):
        calls.append(self)
        return as_sql(self, *args, **kwargs)

    monkeypatch.setattr(Exists, "as_sql", counting)
    return calls


@pytest.mark.parametrize(("field_name", "datetimes"), [("registered_on", False),
                                                        ("state_changed_at", True)])
def test_year_probes_are_compiled_twice_whatever_the_years(registrations_over_years,
                                                            compiled_probes, field_name,
                                                            datetimes):
    from candidates.models import Registration

    queryset = Registration.objects.filter(centre=registrations_over_years)
    expected = list(getattr(queryset, "datetimes" if datetimes else "dates")(field_name,
                                                                             "year"))
    compiled_probes.clear()
    assert years_with_rows(queryset, field_name, datetimes=datetimes) == expected
    assert len(compiled_probes) == 2  # five years between the first and the last


def test_year_probes_compiled_each_when_the_bounds_cannot_be_told_apart(
        registrations_over_years, compiled_probes, monkeypatch):
    from candidates.models import Registration

    field = Registration._meta.get_field("registered_on")
    adapt = field.get_db_prep_value

    def other_bounds(value, connection, prepared=False):
        # The lookups compile as before (prepared=True); the bounds the function adapts
        # itself no longer match the compiled parameters.
        return adapt(value, connection, prepared=True) if prepared else "autre"

    monkeypatch.setattr(field, "get_db_prep_value", other_bounds)
    queryset = Registration.objects.all()
    expected = list(queryset.dates("registered_on", "year"))
    compiled_probes.clear()
    assert years_with_rows(queryset, "registered_on", datetimes=False) == expected
    assert len(compiled_probes) == 2 + 5  # 2019 to 2023, each compiled


def test_year_probes_compiled_each_when_two_years_compile_differently(
        registrations_over_years, compiled_probes, monkeypatch):
    from django.db.models import Exists

    from candidates.models import Registration

    counting = Exists.as_sql  # compiled_probes' wrapper

    def second_differs(self, *args, **kwargs):
        sql, params = counting(self, *args, **kwargs)
        if len(compiled_probes) == 2:  # the second year's probe: another shape
            return f"{sql} AND %s", [*params, 0]
        return sql, params

    queryset = Registration.objects.all()
    expected = list(queryset.dates("registered_on", "year"))
    monkeypatch.setattr(Exists, "as_sql", second_differs)
    compiled_probes.clear()
    assert years_with_rows(queryset, "registered_on", datetimes=False) == expected
    assert len(compiled_probes) == 2 + 5


# ---------------------------------------------------------------------------
# Date columns: Django's cells, written by config.dateformats
# ---------------------------------------------------------------------------
def test_date_columns_write_djangos_cells(registrations_over_years):
    from django.contrib.admin.utils import display_for_field
    from django.utils import timezone

    from candidates.models import Registration
    from certifications.admin_scoping import date_column

    # Written in Paris time, as Django's: the fixture's New Year's Eve changes the year.
    assert timezone.get_current_timezone_name() == "Europe/Paris"
    for name in ("registered_on", "state_changed_at", "created_at"):
        column = date_column(Registration, name)
        field = Registration._meta.get_field(name)
        assert column.__name__ == name and column.admin_order_field == name
        assert column.short_description == field.verbose_name
        for registration in Registration.objects.all():
            value = getattr(registration, name)
            django = display_for_field(value, field, "-")
            assert column(registration) == (
                f'<span class="nowrap">{django}</span>' if value is not None else None)
    # Only concrete date fields of the model.
    for name in ("reference", "candidate", "candidate__birth_date", "__str__", "inconnu"):
        assert date_column(Registration, name) is None
    assert date_column(Registration, "registered_on")(
        Registration(registered_on=None)) is None


def registration_list_columns() -> list[str]:
    """The registrations list's columns, as its admin gives them (date columns by name)."""
    from django.test import RequestFactory

    from candidates.models import Registration

    request = RequestFactory().get("/")
    request.user = UserFactory(is_superuser=True)
    return [getattr(column, "__name__", column)
            for column in admin.site._registry[Registration].get_list_display(request)]


def test_admin_lists_show_dates_as_django_and_sort_by_them(client, registrations_over_years):
    from django.contrib.admin.utils import display_for_field

    from candidates.models import Registration

    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    url = reverse("admin:candidates_registration_changelist")
    position = 1 + registration_list_columns().index("registered_on")  # after the checkbox
    response = client.get(url, {"o": str(position)})
    assert response.status_code == 200
    html = response.content.decode()
    field = Registration._meta.get_field("registered_on")
    ordered = list(Registration.objects.order_by("registered_on", "-pk"))
    cells = [f'<td class="field-registered_on"><span class="nowrap">'
             f'{display_for_field(r.registered_on, field, "-")}</span></td>' for r in ordered]
    assert all(cell in html for cell in cells)
    # Sorted by the date, the header marked sorted and named as the field.
    assert [html.index(f'value="{r.pk}"') for r in ordered] == sorted(
        html.index(f'value="{r.pk}"') for r in ordered)
    header = html.split('class="sortable column-registered_on sorted ascending"')[1]
    assert f'?o=-{position}">Date d&#x27;inscription</a>' in header.split("</th>")[0]


def test_every_scoped_list_writes_its_date_fields_fast():
    from django.db import models
    from django.test import RequestFactory

    request = RequestFactory().get("/")
    request.user = UserFactory(is_superuser=True)
    replaced = 0
    for model_admin in scoped_admins():
        for name, column in zip(model_admin.list_display,
                                model_admin.get_list_display(request), strict=True):
            try:
                field = model_admin.model._meta.get_field(name)
            except FieldDoesNotExist:  # a method or a lookup: kept as given
                assert column == name
                continue
            if isinstance(field, models.DateField) and name not in (
                    model_admin.list_display_links or ()):
                assert callable(column) and column.__name__ == name
                replaced += 1
            else:
                assert column == name
    assert replaced >= 5  # registrations, candidates, decisions (2), grids, …
