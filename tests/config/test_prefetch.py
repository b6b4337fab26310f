"""Rows read in advance as plain lists: read without a query, the same rows as the
relation's; without them, the relation is read."""

import pytest
from django.db.models import Prefetch

from candidates.models import Registration
from config.prefetch import loaded, prefetched
from tests.factories import make_registration

pytestmark = pytest.mark.django_db


def test_rows_read_in_advance_are_read_without_a_query(django_assert_num_queries):
    registration = make_registration()
    expected = list(registration.events.all())
    assert expected  # the creation is in the timeline
    read = Registration.objects.prefetch_related(
        Prefetch("events", to_attr=loaded("events"))).get(pk=registration.pk)
    with django_assert_num_queries(0):
        assert prefetched(read, "events") == expected


def test_a_plain_prefetch_serves_too_and_nothing_read_means_a_query(
        django_assert_num_queries):
    registration = make_registration()
    expected = list(registration.events.all())
    plain = Registration.objects.prefetch_related("events").get(pk=registration.pk)
    with django_assert_num_queries(0):
        assert prefetched(plain, "events") == expected
    bare = Registration.objects.get(pk=registration.pk)
    with django_assert_num_queries(1):
        assert prefetched(bare, "events") == expected
