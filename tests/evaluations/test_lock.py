"""A signed grid is an official record (DOMAIN.md §5): no path changes it — services, model
saves and deletes, queryset updates, signatures, the audit trail, the admin, the autosave
endpoint. Reopening is a staff act with a reason that voids the signatures; a new round of
signatures locks the grid again under a new document."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from candidates.models import RegistrationState
from evaluations import services
from evaluations.models import (
    LOCKED_MESSAGE,
    CompetenceResult,
    CriterionResult,
    GeneratedDocument,
    Grid,
    GridEvent,
    GridLocked,
    GridState,
    Incident,
    Signature,
)
from tests.evaluations.conftest import (
    NM_COMMENT,
    PASSWORD,
    competence_row,
    criterion_row,
    fill_grid,
    level_id,
    save,
    sign,
)
from tests.factories import UserFactory, make_commission, make_ready, make_registration

pytestmark = pytest.mark.django_db

A = GridEvent.Action


def content(grid) -> list:
    """Everything a grid holds, to compare before and after a refused write."""
    competences = list(CompetenceResult.objects.filter(grid=grid).order_by("pk").values())
    criteria = list(CriterionResult.objects.filter(competence_result__grid=grid)
                    .order_by("pk").values())
    signatures = list(Signature.objects.filter(grid=grid).order_by("pk").values())
    stored = Grid.objects.filter(pk=grid.pk).values().get()
    return [stored, competences, criteria, signatures, grid.scheduled.attendance,
            list(Incident.objects.filter(grid=grid).values())]


@pytest.fixture
def frozen(signed):
    """The signed grid and its content as locked."""
    return signed, content(signed), GridEvent.objects.filter(grid=signed).count()


def assert_unchanged(frozen_):
    grid, before, events = frozen_
    grid.scheduled.refresh_from_db()
    assert content(grid) == before
    assert GridEvent.objects.filter(grid=grid).count() == events


# ---------------------------------------------------------------------------
# Services
# ---------------------------------------------------------------------------
def test_save_field_refuses_a_signed_grid(frozen, president):
    grid = frozen[0]
    row = competence_row(grid, "C1")
    with pytest.raises(GridLocked) as refused:
        save(grid, row, "comment", "Ajout après signature.", president.user)
    assert refused.value.messages == [str(LOCKED_MESSAGE)]
    with pytest.raises(GridLocked):
        save(grid, criterion_row(grid, "C1.1"), "satisfied", "non", president.user)
    assert_unchanged(frozen)


def test_submit_refuses_a_signed_grid(frozen, president):
    with pytest.raises(GridLocked):
        services.submit_for_signature(grid=frozen[0], actor=president.user)
    assert_unchanged(frozen)


def test_incident_and_attendance_refuse_a_signed_grid(frozen, president):
    grid = frozen[0]
    with pytest.raises(GridLocked):
        services.report_incident(grid=grid, kind="fraude", description="Après coup.",
                                 actor=president.user)
    with pytest.raises(GridLocked):
        services.record_attendance(grid=grid, attendance="absent", actor=president.user)
    assert_unchanged(frozen)


def test_signing_a_signed_grid_is_refused(frozen, president_member):
    with pytest.raises(GridLocked):
        sign(frozen[0], president_member)
    assert_unchanged(frozen)


def test_a_signed_grid_does_not_go_back_to_signature_through_a_stale_object(
        to_sign, president_member, assessor_member, president):
    """A Grid object read before the lock still finds the stored state."""
    stale_copy = Grid.objects.get(pk=to_sign.pk)
    sign(to_sign, president_member)
    sign(to_sign, assessor_member)
    assert stale_copy.state == GridState.TO_SIGN
    with pytest.raises(GridLocked):
        save(stale_copy, competence_row(stale_copy, "C1"), "comment", "x", president.user)
    with pytest.raises(GridLocked):
        stale_copy.save()


# ---------------------------------------------------------------------------
# Models and querysets
# ---------------------------------------------------------------------------
def test_grid_model_save_and_delete_are_refused(frozen):
    grid = Grid.objects.get(pk=frozen[0].pk)
    grid.snapshot_sha256 = "0" * 64
    with pytest.raises(GridLocked):
        grid.save()
    with pytest.raises(GridLocked):
        grid.delete()
    assert_unchanged(frozen)


def test_an_unsigned_grid_is_never_deleted_either(grid):
    with pytest.raises(GridLocked):
        grid.delete()
    assert Grid.objects.filter(pk=grid.pk).exists()


def test_result_rows_refuse_save_and_delete(frozen):
    grid = frozen[0]
    competence = competence_row(grid, "C2")
    competence.comment = "Réécrit en douce."
    with pytest.raises(GridLocked):
        competence.save()
    with pytest.raises(GridLocked):
        competence.delete()
    criterion = criterion_row(grid, "C2.1")
    criterion.notes = "Réécrit en douce."
    with pytest.raises(GridLocked):
        criterion.save()
    with pytest.raises(GridLocked):
        criterion.delete()
    assert_unchanged(frozen)


def test_querysets_refuse_update_delete_and_bulk_update(frozen):
    grid = frozen[0]
    competences = CompetenceResult.objects.filter(grid=grid)
    criteria = CriterionResult.objects.filter(competence_result__grid=grid)
    with pytest.raises(GridLocked):
        competences.update(comment="Réécrit.")
    with pytest.raises(GridLocked):
        competences.delete()
    with pytest.raises(GridLocked):
        criteria.update(satisfied=False)
    with pytest.raises(GridLocked):
        criteria.delete()
    rows = list(competences)
    for row in rows:
        row.level_id = level_id(grid, "NM")
    with pytest.raises(GridLocked):
        CompetenceResult.objects.bulk_update(rows, ["level"])
    rows = list(criteria)
    for row in rows:
        row.concerned = True
    with pytest.raises(GridLocked):
        CriterionResult.objects.bulk_update(rows, ["concerned"])
    assert_unchanged(frozen)


def test_a_queryset_spanning_a_signed_grid_is_refused_whole(frozen, centre, version, staff,
                                                            certification, president, assessor):
    """An update over every grid of a centre touches the signed one: refused entirely."""
    other = make_commission(
        centre=centre, certifications=[certification], actor=staff, members=[president, assessor],
        registrations=[make_ready(make_registration(centre=centre, version=version, actor=staff),
                                  actor=staff)])
    draft = services.ensure_grid(scheduled=other.scheduled.get(), actor=staff)
    with pytest.raises(GridLocked):
        CompetenceResult.objects.all().update(comment="Massif.")
    with pytest.raises(GridLocked):
        CriterionResult.objects.all().update(notes="Massif.")
    assert not CompetenceResult.objects.filter(comment="Massif.").exists()
    # The draft grid alone is still writable through a queryset.
    assert CompetenceResult.objects.filter(grid=draft).update(comment="Brouillon.") == 4
    assert_unchanged(frozen)


def test_signatures_are_never_edited_nor_deleted(frozen):
    signature = Signature.objects.filter(grid=frozen[0]).first()
    signature.snapshot_sha256 = "f" * 64
    with pytest.raises(GridLocked, match="Une signature ne se modifie pas"):
        signature.save()
    signature = Signature.objects.get(pk=signature.pk)
    signature.signer_name = "Quelqu'un d'autre"
    with pytest.raises(GridLocked):
        signature.save()
    signature = Signature.objects.get(pk=signature.pk)
    with pytest.raises(GridLocked, match="invalidée avec un motif"):
        signature.delete()
    assert_unchanged(frozen)


def test_a_voided_signature_is_not_voided_again(to_sign, president_member, president):
    signature = sign(to_sign, president_member).signature
    save(to_sign, competence_row(to_sign, "C2"), "comment", NM_COMMENT + " (précisé)",
         president.user)
    signature.refresh_from_db()
    voided_at = signature.voided_at
    signature.void_reason = "Autre motif."
    with pytest.raises(GridLocked):
        signature.save()
    signature.refresh_from_db()
    assert signature.voided_at == voided_at
    assert signature.void_reason == "Contenu de la grille modifié après cette signature."


def test_the_audit_trail_is_append_only(frozen):
    event = GridEvent.objects.filter(grid=frozen[0], action=A.LOCKED).get()
    event.message = "Effacé."
    with pytest.raises(ValidationError, match="Le journal ne se modifie pas"):
        event.save()
    with pytest.raises(ValidationError, match="Le journal ne se supprime pas"):
        event.delete()
    assert_unchanged(frozen)


# ---------------------------------------------------------------------------
# The admin: everything readable, nothing editable
# ---------------------------------------------------------------------------
@pytest.fixture
def superuser(db):
    return UserFactory(username="root", is_staff=True, is_superuser=True)


@pytest.mark.parametrize("who", ["staff", "superuser"])
def test_admin_shows_a_signed_grid_read_only(client, frozen, who, request):
    client.force_login(request.getfixturevalue(who))
    grid = frozen[0]
    response = client.get(reverse("admin:evaluations_grid_change", args=[grid.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    assert 'name="_save"' not in body and 'name="_continue"' not in body
    assert grid.snapshot_sha256 in body
    assert reverse("admin:evaluations_grid_reopen", args=[grid.pk]) in body
    assert reverse("admin:evaluations_grid_delete", args=[grid.pk]) not in body


@pytest.mark.parametrize("who", ["staff", "superuser"])
def test_admin_refuses_to_change_or_delete_a_grid(client, frozen, who, request):
    client.force_login(request.getfixturevalue(who))
    grid = frozen[0]
    change = client.post(reverse("admin:evaluations_grid_change", args=[grid.pk]),
                         {"state": "brouillon", "snapshot_sha256": ""})
    assert change.status_code == 403
    delete = client.post(reverse("admin:evaluations_grid_delete", args=[grid.pk]),
                         {"post": "yes"})
    assert delete.status_code == 403
    bulk = client.post(reverse("admin:evaluations_grid_changelist"),
                       {"action": "delete_selected", "_selected_action": [grid.pk],
                        "post": "yes"})
    assert Grid.objects.filter(pk=grid.pk).exists()
    assert bulk.status_code in (200, 302)
    assert client.get(reverse("admin:evaluations_grid_add")).status_code == 403
    assert_unchanged(frozen)


def test_admin_refuses_to_change_the_audit_trail(client, frozen, superuser):
    client.force_login(superuser)
    event = GridEvent.objects.filter(grid=frozen[0]).first()
    assert client.post(reverse("admin:evaluations_gridevent_change", args=[event.pk]),
                       {"message": "Effacé."}).status_code == 403
    assert client.post(reverse("admin:evaluations_gridevent_delete", args=[event.pk]),
                       {"post": "yes"}).status_code == 403
    document = GeneratedDocument.objects.get(grid=frozen[0])
    assert client.post(reverse("admin:evaluations_generateddocument_delete",
                               args=[document.pk]), {"post": "yes"}).status_code == 403
    assert_unchanged(frozen)


def test_result_rows_have_no_admin_of_their_own(client, frozen, superuser):
    client.force_login(superuser)
    assert client.get("/admin/evaluations/competenceresult/").status_code == 404
    assert client.get("/admin/evaluations/criterionresult/").status_code == 404
    assert client.get("/admin/evaluations/signature/").status_code == 404


# ---------------------------------------------------------------------------
# The autosave endpoint
# ---------------------------------------------------------------------------
def test_autosave_on_a_signed_grid_is_refused_and_changes_nothing(client, frozen, president):
    grid = frozen[0]
    client.force_login(president.user)
    row = competence_row(grid, "C1")
    response = client.post(reverse("grids:save_field", args=[grid.pk]), {
        "row_kind": "competence", "row_id": row.pk, "field": "comment",
        "value": "Ajout après signature.", "revision": row.revision})
    assert response.status_code in (409, 423)
    assert response.json()["error"] == "locked"
    assert_unchanged(frozen)


def test_grid_forms_on_a_signed_grid_change_nothing(client, frozen, president):
    grid = frozen[0]
    client.force_login(president.user)
    client.post(reverse("grids:submit", args=[grid.pk]))
    client.post(reverse("grids:attendance", args=[grid.pk]), {"attendance": "absent"})
    client.post(reverse("grids:incident_report", args=[grid.pk]),
                {"kind": "fraude", "description": "Après coup."})
    client.post(reverse("grids:sign", args=[grid.pk]),
                {"password": PASSWORD, "consent": "on"})
    assert_unchanged(frozen)


# ---------------------------------------------------------------------------
# Reopening
# ---------------------------------------------------------------------------
def test_reopening_needs_a_reason(frozen, staff):
    for reason in ("", "   "):
        with pytest.raises(ValidationError, match="Indiquez le motif de la réouverture"):
            services.reopen_grid(grid=frozen[0], actor=staff, reason=reason)
    assert_unchanged(frozen)


def test_only_a_signed_grid_is_reopened(to_sign, staff):
    with pytest.raises(ValidationError, match="Seule une grille signée"):
        services.reopen_grid(grid=to_sign, actor=staff, reason="Erreur de saisie.")


def test_reopening_voids_every_signature_and_keeps_the_trail(signed, staff, registration):
    grid = services.reopen_grid(grid=signed, actor=staff,
                                reason="  Erreur de report sur C3, signalée par le président. ")
    grid.refresh_from_db()
    assert grid.state == GridState.DRAFT and not grid.is_locked
    assert grid.reopen_count == 1 and grid.reopened_at is not None
    assert grid.snapshot is None and grid.snapshot_sha256 == ""
    signatures = list(Signature.objects.filter(grid=grid))
    assert len(signatures) == 2
    for signature in signatures:
        assert signature.voided_at is not None
        assert signature.void_reason == (
            "Grille rouverte : Erreur de report sur C3, signalée par le président.")
    assert grid.events.filter(action=A.SIGNATURE_VOIDED).count() == 2
    reopened = grid.events.get(action=A.REOPENED)
    assert reopened.actor == staff
    assert reopened.message == "Erreur de report sur C3, signalée par le président."
    registration.refresh_from_db()
    assert registration.state == RegistrationState.PRET_EVALUATION
    back = registration.events.filter(to_state=RegistrationState.PRET_EVALUATION).latest("pk")
    assert back.from_state == RegistrationState.EVALUE
    assert "Erreur de report sur C3" in back.message
    # The old document stays (its verification code must still answer « rouverte »).
    assert GeneratedDocument.objects.filter(grid=grid).count() == 1


def test_a_reopened_grid_is_editable_and_locks_again_under_a_new_document(
        signed, staff, president, president_member, assessor_member, registration):
    old_document = GeneratedDocument.objects.get(grid=signed)
    old_sha = signed.snapshot_sha256
    grid = services.reopen_grid(grid=signed, actor=staff, reason="Erreur de report sur C3.")
    row = save(grid, competence_row(grid, "C3"), "level", level_id(grid, "NM"), president.user)
    assert row.level.code == "NM"
    with pytest.raises(ValidationError):  # C3 now needs its comment and criteria
        services.submit_for_signature(grid=grid, actor=president.user)
    fill_grid(grid, president.user, non_mastered={"C2", "C3"})
    services.submit_for_signature(grid=grid, actor=president.user)
    assert sign(grid, president_member).locked is False
    result = sign(grid, assessor_member)
    assert result.locked is True
    grid.refresh_from_db()
    assert grid.state == GridState.SIGNED
    assert grid.snapshot_sha256 != old_sha
    new_document = result.document
    assert new_document.pk != old_document.pk
    assert new_document.verification_code != old_document.verification_code
    assert new_document.content_sha256 == grid.snapshot_sha256
    assert GeneratedDocument.objects.filter(grid=grid).count() == 2
    registration.refresh_from_db()
    assert registration.state == RegistrationState.EVALUE
    assert Signature.objects.filter(grid=grid, voided_at__isnull=True).count() == 2
    assert list(grid.events.filter(action__in=[A.LOCKED, A.REOPENED])
                .values_list("action", flat=True)) == [A.LOCKED, A.REOPENED, A.LOCKED]
    with pytest.raises(GridLocked):
        save(grid, competence_row(grid, "C1"), "comment", "x", president.user)


def test_reopen_page_is_for_staff_only(client, signed, staff, president):
    url = reverse("grids:reopen", args=[signed.pk])
    client.force_login(president.user)
    assert client.post(url, {"reason": "Je corrige."}).status_code == 403
    client.force_login(staff)
    response = client.post(url, {"reason": ""})
    assert Grid.objects.get(pk=signed.pk).is_locked
    assert response.status_code == 200
    response = client.post(url, {"reason": "Erreur de saisie signalée par le président."})
    assert response.status_code == 302
    assert Grid.objects.get(pk=signed.pk).state == GridState.DRAFT


def test_admin_reopen_needs_a_reason(client, signed, staff):
    client.force_login(staff)
    url = reverse("admin:evaluations_grid_reopen", args=[signed.pk])
    assert client.get(url).status_code == 200
    client.post(url, {"reason": ""})
    assert Grid.objects.get(pk=signed.pk).is_locked
    response = client.post(url, {"reason": "Erreur de saisie signalée par le président."})
    assert response.status_code == 302
    assert Grid.objects.get(pk=signed.pk).state == GridState.DRAFT
