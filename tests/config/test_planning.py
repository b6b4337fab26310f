"""config.planning.joins_as_written: joins kept in written order inside, the connection's
planner settings put back afterwards — the connection serves later requests."""

import pytest
from django.db import connection
from django.urls import reverse

from candidates.models import Registration
from certifications.models import Role
from config.planning import joins_as_written
from tests.factories import CentreFactory, make_registration, member

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def collapse_limit() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW join_collapse_limit")
        return cursor.fetchone()[0]


def test_inside_joins_keep_their_order_and_afterwards_the_default_is_back():
    default = collapse_limit()
    assert default != "1"
    with joins_as_written():
        assert collapse_limit() == "1"
    assert collapse_limit() == default


def test_the_default_is_back_after_an_error_inside():
    default = collapse_limit()
    with pytest.raises(Registration.DoesNotExist), joins_as_written():
        Registration.objects.get(pk=-1)
    assert collapse_limit() == default


def test_the_registration_page_leaves_the_connection_as_it_found_it(client):
    centre = CentreFactory()
    staff = member(Role.STAFF, centre=centre)
    registration = make_registration(centre=centre, actor=staff)
    default = collapse_limit()
    client.force_login(staff)
    url = reverse("candidates:registration_detail", args=[registration.pk])
    assert client.get(url).status_code == 200
    assert collapse_limit() == default
