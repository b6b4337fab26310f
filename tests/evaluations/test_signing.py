"""Signing a grid (DESIGN.md §4b): the signer re-authenticates and affirms the versioned
consent; impartiality and habilitation are checked again; the signature keeps who, when,
from where, the consent version and the SHA-256 of the canonical JSON snapshot it signed.
A change after a signature voids it visibly; the last valid signature of the same content
locks the grid, moves the registration to « évalué » and schedules the signed PDF."""

import datetime
import hashlib
import json

import pytest
from django.utils import timezone

from candidates.models import RegistrationState
from commissions.models import CharterVersion
from evaluations import services
from evaluations.consent import CONSENT_TEXTS, CURRENT_CONSENT_TEXT, CURRENT_CONSENT_VERSION
from evaluations.models import GeneratedDocument, Grid, GridEvent, GridState, Signature
from evaluations.services import SignatureRefused
from tests.evaluations.conftest import NM_COMMENT, competence_row, criterion_row, save, sign
from tests.factories import make_commission, siret_of_siren

pytestmark = pytest.mark.django_db

A = GridEvent.Action


def refusal(grid, member_, **kwargs) -> list[str]:
    """The messages of a refused signature; nothing was recorded."""
    count = Signature.objects.count()
    with pytest.raises(SignatureRefused) as refused:
        sign(grid, member_, **kwargs)
    assert Signature.objects.count() == count
    return refused.value.messages


def expected_sha(grid) -> str:
    return hashlib.sha256(
        services.canonical_json(services.build_snapshot(grid)).encode()).hexdigest()


# ---------------------------------------------------------------------------
# What a signer must do, and what is checked again
# ---------------------------------------------------------------------------
def test_consent_text_is_versioned_and_says_no_conflict():
    assert CONSENT_TEXTS[CURRENT_CONSENT_VERSION] == CURRENT_CONSENT_TEXT
    assert "aucun conflit d'intérêts" in CURRENT_CONSENT_TEXT


def test_wrong_password_is_refused(to_sign, president_member):
    assert refusal(to_sign, president_member, password="pas-le-bon") == [
        "Mot de passe incorrect : la signature n'est pas enregistrée."]


def test_another_members_password_is_refused(to_sign, president_member, assessor):
    assessor.user.set_password("autre-secret-99")
    assessor.user.save()
    assert refusal(to_sign, president_member, password="autre-secret-99") == [
        "Mot de passe incorrect : la signature n'est pas enregistrée."]


def test_consent_must_be_affirmed(to_sign, president_member):
    assert refusal(to_sign, president_member, consent=False) == [
        "Cochez la déclaration pour signer."]


def test_a_grid_not_submitted_cannot_be_signed(filled, president_member):
    assert filled.state == GridState.DRAFT
    assert refusal(filled, president_member) == [
        "La grille doit d'abord être complétée et passée à la signature."]


def test_a_member_of_another_commission_cannot_sign(to_sign, centre, certification, staff,
                                                    president, assessor):
    elsewhere = make_commission(centre=centre, certifications=[certification], actor=staff,
                                members=[assessor, president])
    outsider = elsewhere.members.get(evaluator=assessor)
    assert refusal(to_sign, outsider) == [
        "Vous ne siégez pas dans la commission de cette grille."]


def test_impartiality_is_checked_again_at_signature(to_sign, assessor, assessor_member,
                                                    registration):
    # After the composition, the member joins another establishment of the candidate's company.
    assessor.employer_siret = siret_of_siren(registration.company.siren, 321)
    assessor.save()
    candidate = registration.candidate.full_name
    assert refusal(to_sign, assessor_member) == [
        f"Sophie Martin travaille dans la même entreprise (même SIREN) que {candidate}."]
    to_sign.refresh_from_db()
    assert to_sign.state == GridState.TO_SIGN


def test_a_conflict_declared_after_composition_refuses_the_signature(
        to_sign, president, president_member, registration):
    from commissions.services import declare_conflict

    declare_conflict(evaluator=president, candidate=registration.candidate,
                     reason="voisin et ami de la famille")
    [message] = refusal(to_sign, president_member)
    assert "a déclaré un conflit d'intérêts" in message
    assert "voisin et ami de la famille" in message


def test_an_expired_habilitation_cannot_sign(to_sign, assessor, assessor_member, commission):
    assessor.habilitations.update(
        valid_from=commission.date - datetime.timedelta(days=400),
        valid_until=commission.date - datetime.timedelta(days=1))
    [message] = refusal(to_sign, assessor_member)
    assert message.startswith("Sophie Martin n'a pas d'habilitation valide le ")
    assert message.endswith(f"pour CQPM {commission.certifications.get().code}.")


def test_a_new_charter_not_yet_accepted_prevents_signing(to_sign, president_member):
    CharterVersion.objects.create(label="2030-1", text="Charte révisée.",
                                  published_at=timezone.now())
    assert refusal(to_sign, president_member) == [
        "Marc Durand n'a pas accepté la version en vigueur de la charte de déontologie."]


def test_a_member_signs_once(to_sign, president_member):
    sign(to_sign, president_member)
    assert refusal(to_sign, president_member) == ["Vous avez déjà signé cette grille."]
    assert Signature.objects.filter(grid=to_sign).count() == 1


# ---------------------------------------------------------------------------
# The evidence
# ---------------------------------------------------------------------------
def test_signature_stores_its_evidence(to_sign, president, president_member):
    before = timezone.now()
    result = sign(to_sign, president_member, ip="203.0.113.7",
                  user_agent="Mozilla/5.0 (iPad; CPU OS 17_0)")
    signature = Signature.objects.get(pk=result.signature.pk)
    assert signature.member == president_member
    assert signature.signer_name == "Marc Durand"
    assert before <= signature.signed_at <= timezone.now()
    assert signature.ip_address == "203.0.113.7"
    assert signature.user_agent == "Mozilla/5.0 (iPad; CPU OS 17_0)"
    assert signature.consent_version == CURRENT_CONSENT_VERSION
    assert signature.snapshot == services.build_snapshot(to_sign)
    assert signature.snapshot_sha256 == expected_sha(to_sign)
    assert len(signature.snapshot_sha256) == 64
    assert signature.is_valid
    event = to_sign.events.get(action=A.SIGNED)
    assert event.actor == president.user
    assert event.after == {"sha256": signature.snapshot_sha256,
                           "consent": CURRENT_CONSENT_VERSION}


def test_a_very_long_user_agent_is_truncated(to_sign, president_member):
    result = sign(to_sign, president_member, user_agent="X" * 1000)
    assert len(result.signature.user_agent) == 400


def test_snapshot_holds_referential_levels_comments_and_identities(
        to_sign, version, registration, commission):
    snapshot = services.build_snapshot(to_sign)
    assert snapshot["version"] == version.label == "2024-1"
    assert snapshot["certification"]["code"] == version.certification.code
    assert snapshot["certification"]["title"] == version.certification.title
    assert snapshot["candidate"]["name"] == registration.candidate.full_name
    assert snapshot["candidate"]["reference"] == registration.reference
    assert snapshot["company"] == registration.company.name
    assert snapshot["centre"] == "UIMM Pays de la Loire"
    assert snapshot["commission"]["date"] == commission.date.isoformat()
    assert sorted(snapshot["commission"]["members"], key=lambda m: m["name"]) == [
        {"name": "Marc Durand", "role": "president"}, {"name": "Sophie Martin", "role": "member"}]
    assert [lv["label"] for lv in snapshot["rating_scale"]] == [
        "Maîtrisée en toute autonomie", "Non maîtrisée en toute autonomie"]
    competences = {c["code"]: c for c in snapshot["competences"]}
    assert list(competences) == ["C1", "C2", "C3", "C4"]
    assert competences["C1"]["title"] == "Compétence 1"
    assert competences["C1"]["bloc"] == {"code": "B1", "title": "Bloc 1"}
    assert competences["C1"]["level"] == {
        "code": "MA", "label": "Maîtrisée en toute autonomie", "mastered": True}
    assert competences["C2"]["level"]["label"] == "Non maîtrisée en toute autonomie"
    assert competences["C2"]["comment"] == NM_COMMENT
    assert competences["C2"]["modality_label"] == "Évaluation en situation professionnelle"
    first = competences["C2"]["criteria"][0]
    assert first == {"code": "C2.1", "text": "Critère observable 2.1", "satisfied": False,
                     "notes": "Diagnostic guidé par le tuteur.", "concerned": True}
    assert all(c["satisfied"] for c in competences["C1"]["criteria"])
    json.dumps(snapshot)  # plain JSON, storable as is


def test_canonical_json_does_not_depend_on_key_order():
    one = {"b": 1, "a": {"d": [1, {"y": 2, "x": "é"}], "c": None}}
    two = {"a": {"c": None, "d": [1, {"x": "é", "y": 2}]}, "b": 1}
    assert services.canonical_json(one) == services.canonical_json(two)
    assert services.canonical_json(one) == '{"a":{"c":null,"d":[1,{"x":"é","y":2}]},"b":1}'
    assert services.sha256_of(one) == services.sha256_of(two) == hashlib.sha256(
        services.canonical_json(one).encode()).hexdigest()


def test_snapshot_hash_is_stable_and_follows_the_content(to_sign, president):
    first = expected_sha(to_sign)
    assert expected_sha(Grid.objects.get(pk=to_sign.pk)) == first
    save(to_sign, competence_row(to_sign, "C2"), "comment", NM_COMMENT + " Revu.",
         president.user)
    assert expected_sha(to_sign) != first


# ---------------------------------------------------------------------------
# Invalidation and locking
# ---------------------------------------------------------------------------
def test_first_signature_does_not_lock(to_sign, president_member):
    result = sign(to_sign, president_member)
    assert result.locked is False and result.document is None
    to_sign.refresh_from_db()
    assert to_sign.state == GridState.TO_SIGN and not to_sign.is_locked
    assert to_sign.snapshot is None and to_sign.snapshot_sha256 == ""
    assert not GeneratedDocument.objects.exists()


def test_a_change_after_a_signature_voids_it_visibly(to_sign, president_member,
                                                     assessor_member, assessor):
    first = sign(to_sign, president_member).signature
    save(to_sign, criterion_row(to_sign, "C3.2"), "notes", "Précision ajoutée.", assessor.user)
    first.refresh_from_db()
    assert first.voided_at is not None and not first.is_valid
    assert first.void_reason == "Contenu de la grille modifié après cette signature."
    voided = to_sign.events.get(action=A.SIGNATURE_VOIDED)
    assert (voided.actor, voided.target, voided.message) == (
        assessor.user, "Marc Durand", first.void_reason)
    # The other member's signature alone does not lock: the président must sign again.
    assert sign(to_sign, assessor_member).locked is False
    again = sign(to_sign, president_member)
    assert again.locked is True
    assert Signature.objects.filter(grid=to_sign).count() == 3
    assert Signature.objects.filter(grid=to_sign, voided_at__isnull=True).count() == 2


def test_an_incident_after_a_signature_voids_it(to_sign, president_member, assessor):
    first = sign(to_sign, president_member).signature
    services.report_incident(grid=to_sign, kind="interruption", actor=assessor.user,
                             description="Coupure de courant de 10 minutes.")
    first.refresh_from_db()
    assert first.void_reason == "Incident ajouté après cette signature."


def test_attendance_recorded_after_a_signature_voids_it(to_sign, president_member,
                                                        assessor_member, assessor):
    """The attendance is part of the signed content: changing it must not leave a signature
    of another content standing (else nobody could lock the grid)."""
    first = sign(to_sign, president_member).signature
    services.record_attendance(grid=to_sign, attendance="present", actor=assessor.user)
    first.refresh_from_db()
    assert not first.is_valid
    assert sign(to_sign, assessor_member).locked is False
    assert sign(to_sign, president_member).locked is True


def test_resolving_an_incident_after_a_signature_voids_it(to_sign, president_member,
                                                          assessor_member, assessor, staff):
    incident = services.report_incident(grid=to_sign, kind="equipement", actor=assessor.user,
                                        description="Banc hydraulique en panne.")
    first = sign(to_sign, president_member).signature
    services.resolve_incident(incident=incident, actor=staff,
                              resolution="Épreuve reprise sur le banc n°2.")
    first.refresh_from_db()
    assert not first.is_valid
    assert sign(to_sign, assessor_member).locked is False
    assert sign(to_sign, president_member).locked is True


def test_a_signature_of_data_changed_elsewhere_is_voided_at_the_next_signature(
        to_sign, president_member, assessor_member, registration):
    """The candidate's name is corrected between the two signatures: the first one signed
    another content; it is voided (visibly) and its signer signs again — never a grid that
    nobody can lock."""
    first = sign(to_sign, president_member).signature
    candidate = registration.candidate
    candidate.first_names = "Jean-Baptiste"
    candidate.save()
    assert sign(to_sign, assessor_member).locked is False
    first.refresh_from_db()
    assert first.void_reason == "Le contenu de la grille a changé depuis cette signature."
    assert to_sign.events.filter(action=A.SIGNATURE_VOIDED, target="Marc Durand").exists()
    result = sign(to_sign, president_member)
    assert result.locked is True
    assert "Jean-Baptiste" in Grid.objects.get(pk=to_sign.pk).snapshot["candidate"]["name"]


def test_all_signatures_of_the_same_content_lock_the_grid(
        to_sign, president_member, assessor_member, registration,
        django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as first_callbacks:
        sign(to_sign, president_member)
    assert first_callbacks == []
    sha = expected_sha(to_sign)
    snapshot = services.build_snapshot(to_sign)
    with django_capture_on_commit_callbacks() as callbacks:
        result = sign(to_sign, assessor_member)
    assert result.locked is True
    grid = Grid.objects.get(pk=to_sign.pk)
    assert grid.state == GridState.SIGNED and grid.is_locked
    assert grid.locked_at is not None
    assert grid.snapshot == snapshot
    assert grid.snapshot_sha256 == sha
    assert set(grid.signatures.values_list("snapshot_sha256", flat=True)) == {sha}
    registration.refresh_from_db()
    assert registration.state == RegistrationState.EVALUE
    document = GeneratedDocument.objects.get(grid=grid)
    assert result.document == document
    assert document.kind == GeneratedDocument.Kind.GRID
    assert document.content_sha256 == sha
    assert len(document.verification_code) == 23  # XXXXX-XXXXX-XXXXX-XXXXX
    assert not document.file  # rendered by the task, after the commit
    # The PDF task is scheduled once, on commit.
    assert len(callbacks) == 1
    actions = list(grid.events.values_list("action", flat=True))
    assert actions[-3:] == [A.SIGNED, A.SIGNED, A.LOCKED]
    assert registration.events.filter(to_state=RegistrationState.EVALUE).exists()


def test_the_scheduled_task_is_the_pdf_rendering(to_sign, president_member, assessor_member,
                                                 django_capture_on_commit_callbacks,
                                                 monkeypatch):
    """The callback sends ``render_grid_pdf`` with the new document (the rendering itself is
    tested with the documents; a broker that is down, in tests/trust/test_outbox.py)."""
    from evaluations import tasks

    sent = []
    monkeypatch.setattr(tasks.render_grid_pdf, "apply_async",
                        lambda kwargs, **_options: sent.append(kwargs))
    sign(to_sign, president_member)
    with django_capture_on_commit_callbacks(execute=True):
        result = sign(to_sign, assessor_member)
    assert sent == [{"document_id": result.document.pk}]


def test_a_member_who_signed_cannot_be_removed_from_the_commission(
        client, to_sign, president_member, staff):
    """Found by the permission matrix (issue 8): removing a member named by a signature was a
    500 (ProtectedError); it is now refused with a French message and nothing changes."""
    from django.core.exceptions import ValidationError
    from django.urls import reverse

    from commissions import services as commission_services

    sign(to_sign, president_member)
    with pytest.raises(ValidationError, match="a déjà signé"):
        commission_services.remove_member(member=president_member, actor=staff)

    client.force_login(staff)
    commission = president_member.commission
    response = client.post(reverse("commissions:compose", args=[commission.pk]),
                           {"action": "remove_member", "member": president_member.pk},
                           follow=True)
    assert response.status_code == 200
    assert "a déjà signé une grille" in response.content.decode()
    assert commission.members.filter(pk=president_member.pk).exists()
