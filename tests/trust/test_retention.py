"""Retention of personal data (DOMAIN.md §8, issue 8): `manage.py apply_retention` effaces what
a dossier holds about the person once it is past its retention — 5 years after the decision,
or after the abandonment — and keeps the fact of certification: identity, decision, PV, the
results documents and their verification codes."""

import datetime
import hashlib
import io
import json
from pathlib import Path

import pytest
from dateutil.relativedelta import relativedelta
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import models
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfWriter

from candidates import services as candidate_services
from candidates.models import (
    AccessLink,
    Candidate,
    CompanyOpinion,
    CompanyOpinionItem,
    Document,
    DocumentKind,
    LinkPurpose,
    Registration,
    RegistrationEvent,
    RegistrationState,
    Tutor,
)
from evaluations import deliberation, retention
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
from evaluations.protection import purge_allowed
from evaluations.tasks import render_grid_pdf, requeue_pending_work
from tests.evaluations.conftest import NM_COMMENT
from tests.factories import make_registration

pytestmark = pytest.mark.django_db

CAREER = "Dix ans de maintenance chez Forges Dupuis, licencié en 2019 après un accident."
TRAINER = "Jacques Formateur-Référent"
OPINION = "Très bon élément malgré ses absences pour raisons de santé."
OPINION_SIGNER = "Bernadette Signataire"
PHONE = "06 12 34 56 78"
ADDRESS = "3 impasse des Lilas, 44100 Nantes"
CRITERION_NOTES = "Diagnostic guidé par le tuteur."


@pytest.fixture(autouse=True)
def _media(media_root):
    return media_root


def pdf_upload(name: str) -> SimpleUploadedFile:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    buffer = io.BytesIO()
    writer.write(buffer)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="application/pdf")


def fill_dossier(registration, staff):
    """What a centre records about a person along the way: contact details, dossier text, a
    referent trainer, a rapport d'activités, the tutor's avis given through their link. Names
    no other text of the tests contains, to search for them."""
    candidate = registration.candidate
    candidate.birth_name = f"Kerbrat-Zéphyrin{registration.pk}"
    candidate.first_names = f"Anaïs-Solène{registration.pk}"
    candidate.phone, candidate.address = PHONE, ADDRESS
    candidate.save()
    registration.career_summary = CAREER
    registration.dossier_notes = "Reconnaissance travailleur handicapé : prévoir un poste adapté."
    registration.referent_trainer_name = TRAINER
    registration.referent_trainer_email = "jacques.formateur@of.example"
    registration.manager_name = "Martine Cheffe"
    registration.save()
    candidate_services.upload_document(
        registration=registration, kind=DocumentKind.ACTIVITY_REPORT, actor=staff,
        uploaded=pdf_upload(f"rapport-{candidate.birth_name}.pdf"))
    link = candidate_services.issue_link(registration=registration,
                                         purpose=LinkPurpose.COMPANY_OPINION, actor=staff)
    candidate_services.submit_company_opinion(
        link=link, given_by_name=OPINION_SIGNER, given_by_function="Cheffe d'atelier",
        overall="favorable", comment=OPINION,
        items={c.pk: ("maitrisee", "Autonome sur la presse.")
               for c in registration.version.competences.all()})


def decided_years_ago(registration, years: int = 6, days: int = 0):
    """Test set-up: the jury's decisions on ``registration`` as if taken ``years`` (and
    ``days``) ago (a final decision is protected like any signed record; only time ages it)."""
    past = timezone.now() - relativedelta(years=years, days=days)
    with purge_allowed():
        models.QuerySet(model=Decision).filter(registration=registration).update(
            decided_at=past, final_at=past)


def abandoned_years_ago(registration, staff, years: int = 6):
    registration = candidate_services.transition(
        registration=registration, to_state=RegistrationState.ABANDON, actor=staff,
        reason="Déménagement à Lyon pour raisons familiales.")
    Registration.objects.filter(pk=registration.pk).update(
        state_changed_at=timezone.now() - relativedelta(years=years))
    return registration


@pytest.fixture
def world(request, registration, second_registration, staff):
    """Two candidates deliberated today by one jury (PV signed): ``registration`` admis (an
    attestation), ``second_registration`` admis partiellement (C3 not mastered, with its
    comment). Both dossiers are full of personal data; every PDF is stored."""
    fill_dossier(registration, staff)
    fill_dossier(second_registration, staff)
    session = request.getfixturevalue("jury_closed")
    rendered = b"%PDF-1.7 rendu"
    for document in GeneratedDocument.objects.all():
        document.file.save(f"{document.kind}.pdf", ContentFile(rendered), save=False)
        GeneratedDocument.objects.filter(pk=document.pk).update(
            file=document.file.name, file_sha256=hashlib.sha256(rendered).hexdigest())
    for item in (registration, second_registration):
        item.refresh_from_db()
    return session


def run(*args) -> str:
    out = io.StringIO()
    call_command("apply_retention", *args, stdout=out)
    return out.getvalue()


def run_and_commit(django_capture_on_commit_callbacks, *args) -> str:
    """Run the command and its after-commit work (the files' deletion), as in production."""
    with django_capture_on_commit_callbacks(execute=True):
        return run(*args)


def grid_of(registration) -> Grid:
    return Grid.objects.get(scheduled__registration=registration)


def disk_path(field_file) -> Path:
    return Path(field_file.storage.path(field_file.name))


def dump(*querysets) -> str:
    """Every value of the rows, as text: to search for what must be gone."""
    return json.dumps([list(qs.values()) for qs in querysets], default=str, ensure_ascii=False)


def everything_about(registration) -> str:
    candidate = registration.candidate
    registrations = Registration.objects.filter(pk=registration.pk)
    return dump(
        Candidate.objects.filter(pk=candidate.pk),
        Candidate.history.filter(id=candidate.pk),
        registrations, Registration.history.filter(id=registration.pk),
        RegistrationEvent.objects.filter(registration=registration),
        Document.objects.filter(registration=registration),
        AccessLink.objects.filter(registration=registration),
        CompanyOpinion.objects.filter(registration=registration),
        CompanyOpinion.history.filter(registration_id=registration.pk),
        CompanyOpinionItem.objects.filter(opinion__registration=registration),
        Grid.objects.filter(scheduled__registration=registration),
        CompetenceResult.objects.filter(grid__scheduled__registration=registration),
        CriterionResult.objects.filter(competence_result__grid__scheduled__registration=registration),
        Signature.objects.filter(grid__scheduled__registration=registration),
        GridEvent.objects.filter(grid__scheduled__registration=registration),
    )


def state_of_database() -> str:
    """The rows the command may write, to compare before and after."""
    return dump(Candidate.objects.order_by("pk"), Candidate.history.order_by("history_id"),
                Registration.objects.order_by("pk"),
                Registration.history.order_by("history_id"),
                RegistrationEvent.objects.order_by("pk"), Document.objects.order_by("pk"),
                AccessLink.objects.order_by("pk"), CompanyOpinion.objects.order_by("pk"),
                CompanyOpinionItem.objects.order_by("pk"), Tutor.objects.order_by("pk"),
                Grid.objects.order_by("pk"), CompetenceResult.objects.order_by("pk"),
                CriterionResult.objects.order_by("pk"), Signature.objects.order_by("pk"),
                GridEvent.objects.order_by("pk"), GeneratedDocument.objects.order_by("pk"),
                Decision.objects.order_by("pk"), PersonalDataEvent.objects.order_by("pk"))


# ---------------------------------------------------------------------------
# What is effaced
# ---------------------------------------------------------------------------
def test_a_dossier_decided_over_five_years_ago_loses_its_personal_data(
        world, registration, django_capture_on_commit_callbacks):
    candidate = registration.candidate
    email, tutor_email = candidate.email, registration.tutor.email
    tutor_pk = registration.tutor_id
    document = Document.objects.get(registration=registration)
    upload_on_disk = disk_path(document.file)
    grid = grid_of(registration)
    grid_pdf = GeneratedDocument.objects.get(grid=grid)
    grid_pdf_on_disk = disk_path(grid_pdf.file)
    assert upload_on_disk.exists() and grid_pdf_on_disk.exists()
    before = everything_about(registration)
    for secret in (email, PHONE, ADDRESS, CAREER, TRAINER, OPINION, OPINION_SIGNER,
                   tutor_email, f"rapport-{candidate.birth_name}.pdf", "192.0.2.10",
                   "tablette d'atelier"):
        assert secret in before
    decided_years_ago(registration)

    output = run_and_commit(django_capture_on_commit_callbacks)

    after = everything_about(registration)
    for secret in (email, PHONE, ADDRESS, CAREER, TRAINER, OPINION, OPINION_SIGNER,
                   tutor_email, f"rapport-{candidate.birth_name}.pdf", "192.0.2.10",
                   "tablette d'atelier", "Déménagement"):
        assert secret not in after, secret
    # Files are gone from the storage, their rows cleared.
    assert not upload_on_disk.exists()
    assert not grid_pdf_on_disk.exists()
    document.refresh_from_db()
    assert (document.file.name, document.original_name) == ("", "")
    grid_pdf.refresh_from_db()
    assert not grid_pdf.file
    # The grid: no level, verdict or note; snapshots reduced to their frame; marked purged.
    grid.refresh_from_db()
    assert grid.purged_at is not None
    assert not CompetenceResult.objects.filter(grid=grid, level__isnull=False).exists()
    assert not CriterionResult.objects.filter(competence_result__grid=grid,
                                              satisfied__isnull=False).exists()
    assert grid.snapshot["purged"] is True
    assert all(c["level"] is None and c["criteria"] == [] for c in grid.snapshot["competences"])
    assert all(s.snapshot == grid.snapshot and s.ip_address is None and not s.user_agent
               for s in grid.signatures.all())
    # The tutor belonged to this dossier only: gone; the avis keeps only its date.
    assert not Tutor.objects.filter(pk=tutor_pk).exists()
    assert not CompanyOpinionItem.objects.filter(opinion__registration=registration).exists()
    assert "1 dossier(s) anonymisé(s) : 1 après décision, 0 après abandon." in output


def test_no_trace_of_what_the_commission_wrote_remains(
        world, registration, second_registration):
    assert NM_COMMENT in everything_about(second_registration)
    assert CRITERION_NOTES in everything_about(second_registration)
    decided_years_ago(registration)
    decided_years_ago(second_registration)

    run()

    whole_grid_side = dump(CompetenceResult.objects.all(), CriterionResult.objects.all(),
                           Signature.objects.all(), GridEvent.objects.all(),
                           Grid.objects.all())
    assert NM_COMMENT not in whole_grid_side
    assert CRITERION_NOTES not in whole_grid_side
    assert Grid.objects.filter(purged_at__isnull=True).count() == 0


# ---------------------------------------------------------------------------
# What is kept: the fact of certification
# ---------------------------------------------------------------------------
def test_the_fact_of_certification_is_kept_and_still_verifiable(
        client, world, registration, django_capture_on_commit_callbacks):
    candidate = registration.candidate
    identity = (candidate.birth_name, candidate.first_names, candidate.birth_date,
                candidate.sex)
    decided_years_ago(registration)
    decisions = list(Decision.objects.filter(registration=registration).values())
    minutes = list(Minutes.objects.values())
    attestation = GeneratedDocument.objects.get(decision__registration=registration,
                                                kind=GeneratedDocument.Kind.CERTIFICATE)
    attestation_on_disk = disk_path(attestation.file)
    pv = GeneratedDocument.objects.get(kind=GeneratedDocument.Kind.PV)

    run_and_commit(django_capture_on_commit_callbacks)

    candidate.refresh_from_db()
    assert (candidate.birth_name, candidate.first_names, candidate.birth_date,
            candidate.sex) == identity
    registration.refresh_from_db()
    assert (registration.state, registration.outcome) == (RegistrationState.DELIBERE, "admis")
    assert list(Decision.objects.filter(registration=registration).values()) == decisions
    assert list(Minutes.objects.values()) == minutes
    assert attestation_on_disk.exists()
    # The attestation, the PV and the (effaced) grid still answer on the public page.
    page = client.get(reverse("verify", args=[attestation.verification_code]))
    assert page.status_code == 200
    assert 'data-testid="verify-valid"' in page.content.decode()
    assert candidate.full_name in page.content.decode()
    assert client.get(reverse("verify", args=[pv.verification_code])).status_code == 200
    grid_code = GeneratedDocument.objects.get(grid=grid_of(registration)).verification_code
    page = client.get(reverse("verify", args=[grid_code]))
    assert page.status_code == 200
    assert 'data-testid="verify-purged"' in page.content.decode()
    assert candidate.full_name in page.content.decode()


def test_a_recent_dossier_is_untouched(world, registration, second_registration):
    decided_years_ago(registration)
    recent = everything_about(second_registration)
    recent_files = [disk_path(d.file) for d in Document.objects.filter(
        registration=second_registration)]

    run()

    assert everything_about(second_registration) == recent
    assert all(path.exists() for path in recent_files)
    assert grid_of(second_registration).purged_at is None


def test_a_dossier_is_kept_until_the_fifth_anniversary_of_its_decision(world, registration):
    decided_years_ago(registration, years=5, days=-1)
    untouched = everything_about(registration)

    assert "Aucun dossier" in run()
    assert everything_about(registration) == untouched
    assert "1 dossier(s) anonymisé(s)" in run(
        "--today", (timezone.localdate() + relativedelta(days=1)).isoformat())


def test_the_retention_period_is_a_setting(world, registration, settings):
    decided_years_ago(registration, years=6)
    settings.RETENTION = {**settings.RETENTION, "DECIDED_YEARS": 10}

    assert "Aucun dossier" in run()
    assert grid_of(registration).purged_at is None


def test_a_corrected_decision_restarts_the_count(world, registration, jury_members):
    decided_years_ago(registration)
    original = Decision.objects.get(registration=registration)
    deliberation.correct_decision(decision=original, actor=jury_members["president"].user,
                                  outcome="admis_partiel", acquired_blocs=["B1"],
                                  reason="Erreur de saisie du bloc B2.")
    untouched = everything_about(registration)

    run()

    assert everything_about(registration) == untouched


def test_an_open_registration_is_never_purged_and_is_reported(centre, version, staff):
    open_one = make_registration(centre=centre, version=version, actor=staff,
                                 career_summary=CAREER)
    untouched = everything_about(open_one)

    # Eight years later, still « inscrit », nothing happened since.
    output = run("--today", (timezone.localdate() + relativedelta(years=8)).isoformat())

    assert everything_about(open_one) == untouched
    assert "1 inscription(s) encore ouverte(s)" in output


# ---------------------------------------------------------------------------
# Registrations that never reached a decision
# ---------------------------------------------------------------------------
def test_an_abandoned_dossier_is_purged_five_years_after_with_its_identity(
        centre, version, staff, django_capture_on_commit_callbacks):
    old = make_registration(centre=centre, version=version, actor=staff,
                            career_summary=CAREER)
    fill_dossier(old, staff)
    document = disk_path(Document.objects.get(registration=old).file)
    abandoned_years_ago(old, staff)
    recent = make_registration(centre=centre, version=version, actor=staff,
                               career_summary=CAREER)
    abandoned_years_ago(recent, staff, years=2)
    candidate = old.candidate
    names = (candidate.birth_name, candidate.first_names)
    recent_before = everything_about(recent)

    output = run_and_commit(django_capture_on_commit_callbacks)

    assert "1 dossier(s) anonymisé(s) : 0 après décision, 1 après abandon." in output
    after = everything_about(old)
    for secret in (*names, candidate.email, PHONE, ADDRESS, CAREER, OPINION,
                   "Déménagement", "1995-05-17"):
        assert secret not in after, secret
    assert not document.exists()
    candidate.refresh_from_db()
    # No jury ever decided on this person: nothing to attest, only the birth year stays.
    assert (candidate.birth_name, candidate.birth_date) == ("Anonyme", datetime.date(1995, 1, 1))
    assert everything_about(recent) == recent_before


def test_contact_details_stay_while_another_dossier_is_kept(centre, version, staff):
    old = make_registration(centre=centre, version=version, actor=staff)
    candidate = old.candidate
    candidate.phone = PHONE
    candidate.save()
    abandoned_years_ago(old, staff)
    candidate_services.create_registration(actor=staff, centre=centre, candidate=candidate,
                                           version=version, path="candidat_libre")

    run()

    candidate.refresh_from_db()
    assert (candidate.phone, candidate.email) != ("", "")
    assert candidate.birth_name != "Anonyme"
    assert PersonalDataEvent.objects.filter(registration=old).exists()


# ---------------------------------------------------------------------------
# Idempotent, dry run, audited, one transaction per dossier
# ---------------------------------------------------------------------------
def test_a_second_run_changes_nothing(world, registration):
    decided_years_ago(registration)
    run()
    once = state_of_database()

    output = run()

    assert state_of_database() == once
    assert "Aucun dossier" in output


def test_dry_run_counts_the_same_and_changes_nothing(
        world, registration, django_capture_on_commit_callbacks):
    decided_years_ago(registration)
    files = [disk_path(d.file) for d in GeneratedDocument.objects.exclude(file="")]
    files += [disk_path(d.file) for d in Document.objects.all()]
    before = state_of_database()

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        simulated = retention.apply_retention(dry_run=True)
    assert not callbacks

    assert state_of_database() == before
    assert all(path.exists() for path in files)
    assert "Simulation (--dry-run)" in "\n".join(simulated.lines())
    real = retention.apply_retention()
    assert real.counts == simulated.counts
    assert [d.registration_id for d in real.purged] == [registration.pk]


def test_the_purge_is_audited_without_personal_data(world, registration):
    decided_years_ago(registration)
    candidate = registration.candidate

    run()

    entry = PersonalDataEvent.objects.get(registration=registration)
    assert entry.action == PersonalDataEvent.Action.PURGED
    assert entry.candidate_id == candidate.pk
    assert entry.data["rule"] == "decided"
    assert entry.data["counts"]["grids"] == 1
    assert entry.data["counts"]["documents"] == 1
    text = json.dumps(entry.data, ensure_ascii=False)
    for secret in (candidate.birth_name, candidate.email, CAREER, OPINION_SIGNER):
        assert secret not in text
    timeline = RegistrationEvent.objects.filter(registration=registration).last()
    assert "effacées au terme de la durée de conservation" in timeline.message
    assert GridEvent.objects.filter(grid=grid_of(registration),
                                    action=GridEvent.Action.PURGED).count() == 1


def test_a_failing_dossier_is_left_untouched_and_the_others_proceed(
        world, registration, second_registration, monkeypatch):
    decided_years_ago(registration)
    decided_years_ago(second_registration)
    untouched = everything_about(registration)
    purge_grids = retention._purge_grids

    def failing_for_the_first(registration_, files, now):
        counts = purge_grids(registration_, files, now)  # half-way through the dossier
        if registration_.pk == registration.pk:
            raise RuntimeError("disque plein")
        return counts

    monkeypatch.setattr(retention, "_purge_grids", failing_for_the_first)
    out = io.StringIO()
    with pytest.raises(CommandError, match="1 dossier en échec"):
        call_command("apply_retention", stdout=out)

    assert everything_about(registration) == untouched
    assert f"Échec, dossier laissé intact : {registration.reference} — disque plein" in (
        out.getvalue())
    assert grid_of(second_registration).purged_at is not None
    assert not PersonalDataEvent.objects.filter(registration=registration).exists()


def test_today_must_be_a_date():
    with pytest.raises(CommandError, match="Date invalide"):
        call_command("apply_retention", "--today", "31/12/2030")


def test_the_integrity_check_does_not_take_an_effaced_grid_for_a_tampered_one(
        world, registration):
    from evaluations.integrity import check_integrity

    decided_years_ago(registration)
    run()

    assert check_integrity().findings == []


# ---------------------------------------------------------------------------
# A purged grid is never rendered again
# ---------------------------------------------------------------------------
def test_an_effaced_grid_is_never_rendered_again(client, world, registration, staff):
    decided_years_ago(registration)
    run()
    grid = grid_of(registration)
    document = GeneratedDocument.objects.get(grid=grid)
    with purge_allowed():  # test set-up: the document is a day old (time passing)
        GeneratedDocument.objects.filter(pk=document.pk).update(
            created_at=timezone.now() - relativedelta(days=1))

    assert render_grid_pdf(document_id=document.pk) is False
    assert requeue_pending_work()["documents"] == 0
    client.force_login(staff)
    assert client.get(reverse("grids:pdf", args=[grid.pk])).status_code == 404
    upload = Document.objects.get(registration=registration)
    assert client.get(reverse("candidates:document_download",
                              args=[upload.pk])).status_code == 404
    page = client.get(reverse("candidates:registration_detail", args=[registration.pk]))
    assert "Fichier effacé au terme de la durée de conservation." in page.content.decode()


def test_the_staff_pages_of_an_effaced_dossier_still_open(client, world, registration, staff):
    decided_years_ago(registration)
    run()
    grid = grid_of(registration)
    candidate = world.candidates.get(registration=registration)
    client.force_login(staff)

    for url in (reverse("candidates:registration_detail", args=[registration.pk]),
                reverse("grids:detail", args=[grid.pk]),
                reverse("grids:history", args=[grid.pk]),
                reverse("juries:session_detail", args=[world.pk]),
                reverse("juries:synthesis", args=[world.pk, candidate.pk])):
        assert client.get(url).status_code == 200, url


# ---------------------------------------------------------------------------
# PostgreSQL: the triggers refuse any other write; the purge goes through them
# ---------------------------------------------------------------------------
@pytest.mark.postgres
def test_the_purge_goes_through_the_triggers_that_refuse_everything_else(world, registration):
    from django.db import IntegrityError, InternalError, transaction

    grid = grid_of(registration)
    with pytest.raises((IntegrityError, InternalError)), transaction.atomic():
        models.QuerySet(model=CompetenceResult).filter(grid=grid).update(comment="effacé")
    decided_years_ago(registration)

    report = retention.apply_retention()

    assert [d.registration_id for d in report.purged] == [registration.pk]
    assert not report.failed
    assert not CompetenceResult.objects.filter(grid=grid, level__isnull=False).exists()
