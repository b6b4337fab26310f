"""Evidence and audit rows refuse bulk updates and deletes through every queryset path."""

import pytest
from django.core.exceptions import ValidationError

from candidates.models import RegistrationEvent
from evaluations.models import Grid, GridEvent, GridLocked, Signature

pytestmark = pytest.mark.django_db


def test_signed_grid_refuses_queryset_update_and_delete(signed):
    with pytest.raises(GridLocked):
        Grid.objects.filter(pk=signed.pk).update(state="brouillon")
    with pytest.raises(GridLocked):
        Grid.objects.filter(pk=signed.pk).delete()
    signed.refresh_from_db()
    assert signed.state == "signee"


@pytest.mark.parametrize("model", [Signature, GridEvent])
def test_signatures_and_grid_audit_rows_refuse_bulk_writes(signed, model):
    rows = model.objects.filter(grid=signed)
    count = rows.count()
    assert count
    with pytest.raises(ValidationError):
        rows.update(grid=signed)
    with pytest.raises(ValidationError):
        rows.delete()
    assert model.objects.filter(grid=signed).count() == count


def test_registration_timeline_refuses_bulk_writes(signed):
    events = RegistrationEvent.objects.filter(registration=signed.scheduled.registration)
    count = events.count()
    with pytest.raises(ValidationError):
        events.update(message="réécrit")
    with pytest.raises(ValidationError):
        events.delete()
    assert events.count() == count
