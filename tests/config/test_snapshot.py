"""tests.snapshot: what a fixture built once is put back, row for row, for the next tests."""

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command

from certifications.models import Centre, CentreMembership, Role
from tests import snapshot
from tests.factories import CentreFactory, member


def _state():
    return (sorted(Centre.objects.values_list("pk", "code", "name")),
            sorted(get_user_model().objects.values_list("pk", "username", "last_login")),
            sorted(CentreMembership.objects.values_list("pk", "user_id", "centre_id", "role")))


@pytest.mark.django_db(transaction=True)
def test_the_fixture_is_built_once_then_its_rows_come_back_with_their_ids(monkeypatch):
    monkeypatch.setattr(snapshot, "_snapshots", {})
    built = []

    def build():
        built.append(1)
        user = member(Role.STAFF, centre=CentreFactory(code="snap-a"))
        # A date-time and a date survive the round trip (SQLite keeps them as text).
        user.last_login = datetime.datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=datetime.UTC)
        user.save()

    snapshot.restore_or_build("fixture", build)
    before = _state()
    assert built == [1] and before[0][0][1] == "snap-a"

    # What a test does, then an emptying that also restarts the id sequences (the flush
    # command's) and gives the content types new ids, cached on the way.
    Centre.objects.filter(code="snap-a").update(code="changed")
    CentreFactory(code="snap-b")
    call_command("flush", interactive=False, verbosity=0)
    ContentType.objects.get_for_model(Centre)
    snapshot.restore_or_build("fixture", lambda: built.append("again"))

    assert built == [1]  # not built again
    assert _state() == before
    # The id sequences come back too: a new row does not take an id of the snapshot.
    newest = max(pk for pk, _code, _name in before[0])
    assert CentreFactory(code="snap-c").pk > newest
    # Content types are read afresh, not from a cache of another database state.
    assert ContentType.objects.get_for_model(Centre).pk == ContentType.objects.get(
        app_label="certifications", model="centre").pk


@pytest.mark.django_db(transaction=True)
def test_each_key_keeps_its_own_rows(monkeypatch):
    monkeypatch.setattr(snapshot, "_snapshots", {})
    snapshot.restore_or_build("one", lambda: CentreFactory(code="snap-one"))
    Centre.objects.all().delete()
    snapshot.restore_or_build("two", lambda: CentreFactory(code="snap-two"))
    snapshot.restore_or_build("one", lambda: pytest.fail("built twice"))
    assert list(Centre.objects.values_list("code", flat=True)) == ["snap-one"]
