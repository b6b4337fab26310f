"""The audit trail and signed content cannot be edited or deleted through the admin (issue 8),
not even by a superuser: their pages are read-only, and a forged POST — change, delete, add,
the « delete selected » action — is refused and changes nothing. Evidence that has no admin of
its own (signatures, PV, grid content) is reachable only through read-only inlines."""

import re

import pytest
from django.contrib import admin
from django.urls import NoReverseMatch, reverse

from candidates.models import RegistrationEvent
from evaluations.models import (
    CompetenceResult,
    CriterionResult,
    Decision,
    GeneratedDocument,
    Grid,
    GridEvent,
    Minutes,
    PersonalDataEvent,
    Signature,
)
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

# Rows shown in the admin, never written there.
READ_ONLY = [Grid, GridEvent, GeneratedDocument, Decision, RegistrationEvent]
# Evidence with no admin page of its own.
NO_PAGE = [Signature, Minutes, CompetenceResult, CriterionResult]


@pytest.fixture
def superuser_client(client):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


def url(model, view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def rows_of(model):
    return model._base_manager.order_by("pk")


@pytest.mark.parametrize("model", READ_ONLY + [PersonalDataEvent])
def test_no_one_may_add_change_or_delete_audit_rows(model, rf):
    """Superusers included: the permissions are refused by the admin class, not by a group."""
    model_admin = admin.site._registry.get(model)
    if model_admin is None:  # no page at all (the register of personal data, until it has one)
        with pytest.raises(NoReverseMatch):
            url(model, "change", 1)
        return
    request = rf.get("/")
    request.user = UserFactory(username="root", is_staff=True, is_superuser=True)
    obj = rows_of(model).first()

    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request, obj)
    assert not model_admin.has_delete_permission(request, obj)
    for inline in model_admin.get_inline_instances(request, obj):
        assert not inline.has_add_permission(request, obj)
        assert not inline.has_change_permission(request, obj)
        assert not inline.has_delete_permission(request, obj)


@pytest.mark.parametrize("model", READ_ONLY)
def test_change_page_is_read_only_and_forged_posts_are_refused(model, jury_closed,
                                                               superuser_client):
    obj = rows_of(model).first()
    assert obj is not None
    before = rows_of(model).filter(pk=obj.pk).values().get()

    page = superuser_client.get(url(model, "change", obj.pk))
    assert page.status_code == 200
    body = page.content.decode()
    assert 'name="_save"' not in body
    assert 'name="_continue"' not in body
    assert url(model, "delete", obj.pk) not in body
    assert "-DELETE" not in body  # no inline row can be deleted either

    forged = {field.name: "réécrit" for field in model._meta.concrete_fields
              if field.get_internal_type() in ("CharField", "TextField")}
    assert superuser_client.post(url(model, "change", obj.pk),
                                 {**forged, "_save": "1"}).status_code == 403
    assert superuser_client.get(url(model, "delete", obj.pk)).status_code == 403
    assert superuser_client.post(url(model, "delete", obj.pk),
                                 {"post": "yes"}).status_code == 403
    assert superuser_client.get(url(model, "add")).status_code == 403
    assert superuser_client.post(url(model, "add"), forged).status_code == 403

    assert rows_of(model).filter(pk=obj.pk).values().get() == before


@pytest.mark.parametrize("model", READ_ONLY)
def test_changelist_offers_no_bulk_delete(model, jury_closed, superuser_client):
    count = rows_of(model).count()
    pks = list(rows_of(model).values_list("pk", flat=True))

    page = superuser_client.get(url(model, "changelist"))
    assert page.status_code == 200
    assert 'value="delete_selected"' not in page.content.decode()

    superuser_client.post(url(model, "changelist"), {
        "action": "delete_selected", "_selected_action": pks, "post": "yes"})
    assert rows_of(model).count() == count


@pytest.mark.parametrize("model", NO_PAGE)
def test_evidence_without_admin_page(model, superuser_client):
    assert not admin.site.is_registered(model)
    with pytest.raises(NoReverseMatch):
        url(model, "change", 1)


def test_grid_page_shows_signatures_and_journal_read_only(jury_closed, superuser_client):
    grid = Grid.objects.first()
    signature = grid.signatures.first()

    body = superuser_client.get(url(Grid, "change", grid.pk)).content.decode()

    assert signature.signer_name in body
    assert signature.snapshot_sha256 in body
    # Inline rows carry only their hidden keys: no field to type in, nothing to tick.
    for prefix in ("signatures", "events", "competence_results", "incidents"):
        editable = re.compile(rf'<(input|textarea|select)(?![^>]*type="hidden")[^>]*'
                              rf'name="{prefix}-\d+-')
        assert not editable.search(body), prefix
