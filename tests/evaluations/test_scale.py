"""``seed_demo --scale N``: volume data that the product reads and verifies like real data."""

import io

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.db.models import Count
from django.urls import reverse

from candidates.models import Path, Registration, RegistrationState, TrainingDecision
from commissions.models import JurySession, SessionStatus
from evaluations import scale
from evaluations.deliberation import minutes_snapshot
from evaluations.models import (
    CriterionResult,
    Decision,
    GeneratedDocument,
    Grid,
    GridState,
    Minutes,
)
from evaluations.services import build_snapshot, sha256_of
from tests.snapshot import restore_or_build

pytestmark = pytest.mark.django_db

UNIT = 100  # a small centre-year keeps the test quick; the shape is the same


@pytest.fixture
def volume(monkeypatch, settings):
    """The demo and a volume of 3 units, loaded by the first test of the process; the next
    ones get the same rows back (tests.snapshot), the load taking 5–8 s."""
    settings.DEBUG = True
    monkeypatch.setattr(scale, "UNIT", UNIT)
    restore_or_build(f"seed_demo --scale 3 (unit {UNIT})",
                     lambda: call_command("seed_demo", "--scale", "3", stdout=io.StringIO()))
    yield
    # The test's rollback gives the content types their earlier ids back.
    ContentType.objects.clear_cache()


def test_plan_puts_half_the_units_in_one_large_centre():
    assert scale.plan(1) == [("volume-01", 1)]
    plan = scale.plan(20)
    assert plan[0] == ("volume-01", 10)
    assert sum(units for _code, units in plan) == 20
    assert len({code for code, _units in plan}) == len(plan) == 11


def test_volume_has_the_expected_size_and_every_step(volume):
    volume_regs = Registration.objects.filter(centre__code__startswith="volume-")
    assert volume_regs.count() == 3 * UNIT
    # volume-01 holds two years, volume-02 one.
    per_centre = dict(volume_regs.values_list("centre__code").annotate(n=Count("pk")))
    assert per_centre == {"volume-01": 2 * UNIT, "volume-02": UNIT}
    states = set(volume_regs.filter(centre__code="volume-01")
                 .values_list("state", flat=True))
    assert states == {s.value for s in RegistrationState}
    assert volume_regs.values("reference").distinct().count() == 3 * UNIT
    # Grids of about 40 criteria, and 60 for the large certification.
    sizes = set(CriterionResult.objects.filter(
        competence_result__grid__scheduled__registration__in=volume_regs)
        .values("competence_result__grid").annotate(n=Count("pk")).values_list("n", flat=True))
    assert sizes == {40, 60}


def test_states_match_grids_and_decisions(volume):
    volume_regs = Registration.objects.filter(centre__code__startswith="volume-")
    ready = volume_regs.filter(state=RegistrationState.PRET_EVALUATION)
    assert not ready.exclude(schedulings__grid__state=GridState.DRAFT).exists()
    for state in (RegistrationState.EVALUE, RegistrationState.DELIBERE):
        assert not volume_regs.filter(state=state).exclude(
            schedulings__grid__state=GridState.SIGNED).exists()
    for registration in volume_regs.filter(state=RegistrationState.DELIBERE):
        decision = registration.decisions.get()
        assert decision.is_final and decision.outcome == registration.outcome
    assert not Decision.objects.filter(registration__state=RegistrationState.EVALUE,
                                       final_at__isnull=False).exists()


def test_trainings_match_the_training_decision(volume):
    """Step 2 is in the volume: the trained dossiers have their trainings (with competences
    and an organisation habilitated for the certification), finished unless « en formation »;
    the others, and a VAE past that step, have none."""
    volume_regs = Registration.objects.filter(centre__code__startswith="volume-")
    trained = volume_regs.filter(training_decision=TrainingDecision.TRAINING)
    assert trained.filter(state=RegistrationState.DELIBERE).exists()
    assert not trained.filter(trainings__isnull=True).exists()
    assert not volume_regs.exclude(training_decision=TrainingDecision.TRAINING).filter(
        trainings__isnull=False).exists()
    assert not trained.filter(path=Path.VAE).exclude(
        state=RegistrationState.EN_FORMATION).exists()
    in_training = volume_regs.filter(state=RegistrationState.EN_FORMATION)
    assert in_training.exists()
    assert not in_training.exclude(trainings__end_on__isnull=True).exists()
    assert not trained.exclude(state=RegistrationState.EN_FORMATION).filter(
        trainings__end_on__isnull=True).exists()
    for registration in trained.prefetch_related("trainings__competences",
                                                 "trainings__organisation__habilitations"):
        for training in registration.trainings.all():
            assert training.competences.all()
            assert {c.version_id for c in training.competences.all()} == {
                registration.version_id}
            assert any(registration.version.certification_id in
                       h.certifications.values_list("pk", flat=True)
                       for h in training.organisation.habilitations.all())


def test_signed_content_hashes_like_the_product(volume):
    """Every signed grid and PV of the volume data hashes to what the product computes from
    the rows: the integrity checks of the product hold on the volume data."""
    grids = Grid.objects.filter(state=GridState.SIGNED,
                                scheduled__commission__centre__code__startswith="volume-")
    assert grids.count() > 50
    for grid in grids[:60]:
        snapshot = build_snapshot(grid)
        assert snapshot == grid.snapshot
        assert sha256_of(snapshot) == grid.snapshot_sha256
        assert {s.snapshot_sha256 for s in grid.signatures.all()} == {grid.snapshot_sha256}
        assert grid.documents.get().content_sha256 == grid.snapshot_sha256
    closed = JurySession.objects.filter(centre__code__startswith="volume-",
                                        status=SessionStatus.CLOSED)
    assert closed.exists()
    for session in closed:
        minutes = Minutes.objects.get(session=session)
        assert sha256_of(minutes_snapshot(session)) == minutes.snapshot_sha256
        assert GeneratedDocument.objects.get(minutes=minutes).content_sha256 == \
            minutes.snapshot_sha256


def test_second_run_changes_nothing(volume, settings):
    before = Registration.objects.count()
    call_command("seed_demo", "--scale", "3", stdout=io.StringIO())
    assert Registration.objects.count() == before


def test_volume_pages_open_for_their_users(volume, client):
    """The product works on the volume data: an evaluator opens a draft grid, the verify page
    answers for a signed grid's code, staff list the centre's registrations."""
    grid = (Grid.objects.filter(state=GridState.DRAFT,
                                scheduled__commission__centre__code="volume-01")
            .select_related("scheduled__commission").first())
    member = grid.scheduled.commission.members.select_related("evaluator__user").first()
    client.force_login(member.evaluator.user)
    assert client.get(reverse("grids:detail", args=[grid.pk])).status_code == 200
    document = GeneratedDocument.objects.filter(
        grid__scheduled__commission__centre__code="volume-01").first()
    assert client.get(f"/verify/{document.verification_code}/").status_code == 200
    staff = Registration.objects.filter(centre__code="volume-01").first().created_by
    client.force_login(staff)
    response = client.get(reverse("candidates:registration_list"))
    assert response.status_code == 200
