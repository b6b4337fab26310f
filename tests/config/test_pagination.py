"""config.pagination.OnePassPaginator: the pages Django's paginator gives, in two queries
whose first one finds the matches once (count beside each key)."""

import pytest
from django.core.paginator import Paginator
from django.db import connection
from django.test.utils import CaptureQueriesContext

from certifications.models import Centre
from config.pagination import OnePassPaginator
from tests.factories import CentreFactory

pytestmark = pytest.mark.django_db

PER_PAGE = 3


@pytest.fixture
def centres():
    # Seven matches (two full pages and one row), one centre that does not match.
    CentreFactory(name="Autre")
    return [CentreFactory(name=f"Pôle {i}") for i in range(7)]


def matches():
    return Centre.objects.filter(name__startswith="Pôle").order_by("-name", "-pk")


def both(number):
    plain = Paginator(matches(), PER_PAGE).get_page(number)
    one_pass = OnePassPaginator(matches(), PER_PAGE, rows=Centre.objects.all()).get_page(number)
    return plain, one_pass


def describe(page):
    return {"rows": [c.pk for c in page.object_list], "number": page.number,
            "count": page.paginator.count, "pages": page.paginator.num_pages,
            "next": page.has_next(), "previous": page.has_previous(),
            "start": page.start_index(), "end": page.end_index()}


@pytest.mark.parametrize("number", [1, "2", 3, 4, 99, 0, -1, "abc", None, "2.0"])
def test_the_same_page_as_django_gives(centres, number):
    plain, one_pass = both(number)
    assert describe(one_pass) == describe(plain)


def test_the_page_keeps_the_matches_order_whatever_the_rows_order(centres):
    page = OnePassPaginator(matches(), PER_PAGE, rows=Centre.objects.order_by("pk")).get_page(1)
    assert [c.name for c in page.object_list] == ["Pôle 6", "Pôle 5", "Pôle 4"]


def test_no_match_is_an_empty_first_page(centres):
    nothing = Centre.objects.filter(name="Personne").order_by("pk")
    page = OnePassPaginator(nothing, PER_PAGE, rows=Centre.objects.all()).get_page(1)
    assert list(page.object_list) == [] and page.paginator.count == 0
    assert page.paginator.num_pages == 1


def test_two_queries_for_a_page_the_matches_found_once(centres):
    with CaptureQueriesContext(connection) as queries:
        page = OnePassPaginator(matches(), PER_PAGE, rows=Centre.objects.all()).get_page(2)
        assert page.paginator.count == 7 and len(page.object_list) == 3
    assert len(queries) == 2
    first, second = (q["sql"] for q in queries.captured_queries)
    assert "COUNT(*) OVER ()" in first and "LIKE" in first
    # The page's rows are read by key: the search is not run again.
    assert "LIKE" not in second


def test_a_distinct_queryset_is_counted_the_usual_way(centres):
    # DISTINCT applies after the window: its count would count duplicates.
    distinct = matches().distinct()
    with CaptureQueriesContext(connection) as queries:
        page = OnePassPaginator(distinct, PER_PAGE, rows=Centre.objects.all()).get_page(1)
        assert page.paginator.count == 7 and len(page.object_list) == 3
    assert not any("OVER" in q["sql"] for q in queries.captured_queries)
