"""Every transition of a registration, allowed and refused, with its French reason
(DESIGN.md §4, DOMAIN.md §2)."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from candidates import services
from candidates.models import (
    OrganisationHabilitation,
    Outcome,
    RegistrationEvent,
    RegistrationState,
    TrainingDecision,
    TrainingOrganisation,
)
from certifications.models import Competence, Modality
from tests.factories import build_version, make_ready, make_registration, member

pytestmark = pytest.mark.django_db
S = RegistrationState

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def staff():
    return member()


@pytest.fixture
def registration(staff):
    return make_registration(actor=staff)


def plan_all(registration, modality=Modality.SITUATION_PROFESSIONNELLE):
    services.set_planned_modalities(
        registration=registration,
        modalities={c.pk: modality for c in registration.version.competences.all()},
    )


def refused(registration, target, **kwargs) -> list[str]:
    with pytest.raises(services.TransitionRefused) as error:
        services.transition(registration=registration, to_state=target, **kwargs)
    registration.refresh_from_db()
    return error.value.messages


@pytest.fixture
def organisation(registration):
    organisation = TrainingOrganisation.objects.create(name="AFPI Atlantique")
    habilitation = OrganisationHabilitation.objects.create(
        organisation=organisation, subject="CQPM maintenance",
        valid_from=datetime.date(2020, 1, 1),
    )
    habilitation.certifications.add(registration.version.certification)
    return organisation


# --- the table ---------------------------------------------------------------------------
def test_new_registration_starts_inscrit_with_a_timeline_row(registration):
    assert registration.state == S.INSCRIT
    event = registration.events.get()
    assert event.kind == RegistrationEvent.Kind.TRANSITION
    assert event.to_state == S.INSCRIT


@pytest.mark.parametrize("target", [S.EVALUE, S.DELIBERE])
def test_inscrit_cannot_jump_to_later_steps(registration, target):
    messages = refused(registration, target, system=True, outcome=Outcome.PASSED)
    assert any("Passage impossible" in m for m in messages)
    assert registration.state == S.INSCRIT


def test_evalue_is_reached_only_by_the_evaluation_service(registration, staff):
    make_ready(registration)
    messages = refused(registration, S.EVALUE, actor=staff)
    assert messages == ["L'état « Évalué » résulte de la signature de la grille d'évaluation "
                        "par la commission."]
    services.transition(registration=registration, to_state=S.EVALUE, system=True)
    registration.refresh_from_db()
    assert registration.state == S.EVALUE


def test_delibere_is_reached_only_by_the_jury_with_an_outcome(registration, staff):
    make_ready(registration)
    services.transition(registration=registration, to_state=S.EVALUE, system=True)
    assert refused(registration, S.DELIBERE, actor=staff) == [
        "L'état « Délibéré » résulte de la décision du jury paritaire."]
    assert "La délibération doit indiquer un résultat." in refused(
        registration, S.DELIBERE, system=True)
    services.transition(registration=registration, to_state=S.DELIBERE, system=True,
                        outcome=Outcome.PARTIAL)
    registration.refresh_from_db()
    assert (registration.state, registration.outcome) == (S.DELIBERE, Outcome.PARTIAL)
    assert not registration.is_open


@pytest.mark.parametrize("target", [S.INSCRIT, S.EN_FORMATION, S.PRET_EVALUATION, S.ABANDON])
def test_closed_registration_cannot_move(registration, target):
    services.transition(registration=registration, to_state=S.ABANDON, reason="Démission")
    messages = refused(registration, target, reason="x")
    assert any("Passage impossible" in m for m in messages)


def test_abandon_needs_a_reason_and_is_recorded(registration, staff):
    assert refused(registration, S.ABANDON, actor=staff) == [
        "Indiquez le motif de ce changement d'état."]
    services.transition(registration=registration, to_state=S.ABANDON, actor=staff,
                        reason="Le candidat a quitté l'entreprise.")
    event = registration.events.order_by("-pk").first()
    assert (event.from_state, event.to_state, event.actor, event.message) == (
        S.INSCRIT, S.ABANDON, staff, "Le candidat a quitté l'entreprise.")


@pytest.mark.parametrize("state_path", [
    [S.PRET_EVALUATION], [S.PRET_EVALUATION, "evalue"],
])
def test_abandon_is_possible_from_every_open_state(registration, staff, state_path):
    make_ready(registration)
    if "evalue" in state_path:
        services.transition(registration=registration, to_state=S.EVALUE, system=True)
    services.transition(registration=registration, to_state=S.ABANDON, actor=staff,
                        reason="Abandon")
    registration.refresh_from_db()
    assert registration.state == S.ABANDON


def test_back_from_ready_to_inscrit_needs_a_reason(registration, staff):
    make_ready(registration)
    assert refused(registration, S.INSCRIT) == ["Indiquez le motif de ce changement d'état."]
    services.transition(registration=registration, to_state=S.INSCRIT, actor=staff,
                        reason="Modalités à revoir")
    registration.refresh_from_db()
    assert registration.state == S.INSCRIT


# --- guards of « prêt pour l'évaluation » ------------------------------------------------
def test_ready_refused_lists_every_missing_item(registration):
    messages = refused(registration, S.PRET_EVALUATION)
    assert any(m.startswith("Modalité d'évaluation non choisie pour : C1, C2, C3, C4")
               for m in messages)
    assert ("Étape 2 : enregistrez la formation suivie ou la décision « sans formation »."
            in messages)
    assert registration.state == S.INSCRIT


def test_ready_refused_without_activity_report_when_presentation_is_planned(registration):
    plan_all(registration, Modality.PRESENTATION_PROJETS)
    services.decide_without_training(registration=registration, actor=None)
    assert refused(registration, S.PRET_EVALUATION) == ["Le rapport d'activités n'a pas été reçu."]


def test_ready_allowed_once_activity_report_is_received(registration, media_root):
    plan_all(registration, Modality.PRESENTATION_PROJETS)
    services.decide_without_training(registration=registration, actor=None)
    services.upload_document(registration=registration, kind="rapport_activites",
                             uploaded=SimpleUploadedFile("rapport.pdf", PDF))
    services.transition(registration=registration, to_state=S.PRET_EVALUATION)
    registration.refresh_from_db()
    assert registration.state == S.PRET_EVALUATION


def test_ready_without_training_decision_is_refused(registration):
    plan_all(registration)
    assert refused(registration, S.PRET_EVALUATION) == [
        "Étape 2 : enregistrez la formation suivie ou la décision « sans formation »."]


def test_en_formation_needs_a_training_record(registration):
    assert refused(registration, S.EN_FORMATION) == [
        "Enregistrez d'abord la formation suivie (organisme, dates, heures)."]


def test_training_then_ready_requires_the_training_to_be_finished(registration, organisation):
    plan_all(registration)
    record = services.record_training(registration=registration, actor=None,
                                      organisation=organisation,
                                      start_on=datetime.date(2026, 9, 1), hours=70)
    services.transition(registration=registration, to_state=S.EN_FORMATION)
    registration.refresh_from_db()
    assert registration.training_decision == TrainingDecision.TRAINING
    assert refused(registration, S.PRET_EVALUATION) == [
        "La formation n'est pas terminée : indiquez sa date de fin."]
    record.end_on = datetime.date(2026, 10, 15)
    record.save()
    services.transition(registration=registration, to_state=S.PRET_EVALUATION)
    registration.refresh_from_db()
    assert registration.state == S.PRET_EVALUATION


def test_training_by_an_organisation_not_habilitated_is_refused(registration):
    stranger = TrainingOrganisation.objects.create(name="Formations Express")
    with pytest.raises(ValidationError, match="n'est pas habilité par la branche"):
        services.record_training(registration=registration, actor=None, organisation=stranger,
                                 start_on=datetime.date(2026, 9, 1), hours=35)


def test_training_outside_the_habilitation_period_is_refused(registration, organisation):
    organisation.habilitations.update(valid_until=datetime.date(2025, 12, 31))
    with pytest.raises(ValidationError, match="n'est pas habilité"):
        services.record_training(registration=registration, actor=None,
                                 organisation=organisation,
                                 start_on=datetime.date(2026, 9, 1), hours=35)


def test_sans_formation_is_refused_once_a_training_exists(registration, organisation):
    services.record_training(registration=registration, actor=None, organisation=organisation,
                             start_on=datetime.date(2026, 9, 1), hours=35,
                             end_on=datetime.date(2026, 9, 30))
    with pytest.raises(ValidationError, match="déjà enregistrée"):
        services.decide_without_training(registration=registration, actor=None)


# --- VAE -----------------------------------------------------------------------------------
@pytest.fixture
def vae(staff):
    return make_registration(actor=staff, path="vae")


def test_vae_needs_recevabilite_before_evaluation(vae):
    plan_all(vae)
    services.decide_without_training(registration=vae, actor=None)
    assert refused(vae, S.PRET_EVALUATION) == [
        "La recevabilité de la demande de VAE n'a pas été prononcée."]


def test_vae_refused_recevabilite_blocks_evaluation(vae, staff):
    plan_all(vae)
    services.decide_without_training(registration=vae, actor=None)
    services.record_vae_admissibility(registration=vae, actor=staff, experience_months=6,
                                      experience_description="Six mois d'intérim",
                                      accepted=False, reason="Expérience insuffisante")
    assert refused(vae, S.PRET_EVALUATION) == ["La demande de VAE a été déclarée non recevable."]


def test_vae_recevabilite_requires_one_year_of_experience(vae, staff):
    with pytest.raises(ValidationError, match="au moins 12 mois"):
        services.record_vae_admissibility(registration=vae, actor=staff, experience_months=11,
                                          experience_description="Onze mois", accepted=True)


def test_vae_minimum_experience_is_a_setting(vae, staff, settings):
    settings.CANDIDATES = {**settings.CANDIDATES, "VAE_MIN_EXPERIENCE_MONTHS": 24}
    with pytest.raises(ValidationError, match="au moins 24 mois"):
        services.record_vae_admissibility(registration=vae, actor=staff, experience_months=18,
                                          experience_description="Dix-huit mois", accepted=True)


def test_vae_accepted_then_ready(vae, staff):
    plan_all(vae)
    services.decide_without_training(registration=vae, actor=None)
    services.record_vae_admissibility(registration=vae, actor=staff, experience_months=30,
                                      experience_description="Deux ans et demi", accepted=True)
    services.transition(registration=vae, to_state=S.PRET_EVALUATION)
    vae.refresh_from_db()
    assert vae.state == S.PRET_EVALUATION
    assert vae.events.filter(kind=RegistrationEvent.Kind.VAE).exists()


def test_collective_vae_skips_recevabilite(staff):
    registration = make_registration(actor=staff, path="vae", vae_collective=True)
    make_ready(registration)
    registration.refresh_from_db()
    assert registration.state == S.PRET_EVALUATION


def test_vae_on_a_certification_off_the_rncp_is_warned(staff):
    version = build_version()
    version.certification.registry = "RS"
    version.certification.save()
    other = make_registration()
    created = services.create_registration(
        actor=staff, centre=other.centre, candidate=other.candidate, version=version, path="vae")
    assert any("RNCP" in warning for warning in created.warnings)


# --- dossier -------------------------------------------------------------------------------
def test_planned_modality_must_be_allowed_by_the_referential(registration):
    competence = registration.version.competences.first()
    Competence.objects.filter(pk=competence.pk)  # published: read only
    with pytest.raises(ValidationError, match="n'autorise pas"):
        services.set_planned_modalities(
            registration=registration,
            modalities={competence.pk: Modality.SITUATION_RECONSTITUEE},
        )


def test_dossier_edit_refuses_a_stale_row_version(registration, staff):
    stale = registration.row_version
    services.update_dossier(registration=registration, actor=staff, expected_row_version=stale,
                            changes={"job_title": "Régleur"}, modalities={})
    with pytest.raises(services.ConcurrentEdit, match="a été modifié par"):
        services.update_dossier(registration=registration, actor=staff,
                                expected_row_version=stale,
                                changes={"job_title": "Tourneur"}, modalities={})
    registration.refresh_from_db()
    assert registration.job_title == "Régleur"


def test_references_are_unique_and_sequential_per_centre(staff):
    first = make_registration(actor=staff)
    second = make_registration(actor=staff, centre=first.centre)
    assert first.reference != second.reference
    assert second.reference.endswith("00002")


def test_timeline_rows_cannot_be_edited_or_deleted(registration):
    event = registration.events.get()
    event.message = "réécrit"
    with pytest.raises(ValidationError):
        event.save()
    with pytest.raises(ValidationError):
        event.delete()
