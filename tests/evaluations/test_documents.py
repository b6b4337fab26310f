"""The signed grid's PDF (DESIGN.md §5, issue 5 « The PDF »): rendered from the snapshot by an
idempotent task when the grid locks, regenerated identically on demand, downloadable by the
commission's members and the centre's staff only; the ZIP of a commission's signed grids."""

import datetime
import io
import time
import unicodedata
import zipfile
import zoneinfo

import pytest
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import timezone, translation
from pypdf import PdfReader

from certifications.models import Role
from commissions import services as commission_services
from evaluations import pdf, services
from evaluations.models import BatchExport, GeneratedDocument, Grid, GridEvent, GridState
from evaluations.tasks import build_commission_zip, render_grid_pdf
from tests.evaluations.conftest import NM_COMMENT, fill_grid, sign
from tests.factories import make_commission, make_evaluator, make_ready, make_registration, member


def pdf_text(content: bytes) -> str:
    """The PDF's text, whitespace collapsed (lines wrap where the layout says)."""
    reader = PdfReader(io.BytesIO(content))
    text = " ".join(page.extract_text() for page in reader.pages)
    return " ".join(unicodedata.normalize("NFC", text).split())


def file_bytes(document: GeneratedDocument) -> bytes:
    with document.file.open("rb") as stream:
        return stream.read()


def grid_document(grid) -> GeneratedDocument:
    return GeneratedDocument.objects.get(grid=grid)


def sign_all(grid, president, president_member, assessor_member):
    services.submit_for_signature(grid=grid, actor=president.user)
    sign(grid, president_member)
    return sign(grid, assessor_member)


@pytest.fixture(autouse=True)
def _own_media_root(request):
    """Files go to a temporary MEDIA_ROOT — except with the real worker, which writes to its
    own settings' MEDIA_ROOT (the test then reads the file there and deletes it)."""
    if "worker" not in request.keywords:
        request.getfixturevalue("media_root")


@pytest.fixture
def rendered(signed) -> GeneratedDocument:
    """The signed grid's document, its PDF rendered by the task."""
    document = grid_document(signed)
    assert render_grid_pdf(document_id=document.pk) is True
    document.refresh_from_db()
    return document


# ---------------------------------------------------------------------------
# The PDF
# ---------------------------------------------------------------------------
@pytest.mark.slow
def test_locking_the_grid_renders_its_pdf_after_commit(
        to_sign, president_member, assessor_member, django_capture_on_commit_callbacks):
    sign(to_sign, president_member)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        result = sign(to_sign, assessor_member)

    assert result.locked
    assert len(callbacks) == 1
    document = grid_document(to_sign)
    assert document.file
    assert file_bytes(document).startswith(b"%PDF")
    assert document.content_sha256 == Grid.objects.get(pk=to_sign.pk).snapshot_sha256


@pytest.mark.slow
def test_pdf_text_shows_candidate_competences_signatories_and_verification_code(
        rendered, signed, version):
    text = pdf_text(file_bytes(rendered))
    snapshot = signed.snapshot

    assert snapshot["candidate"]["name"] in text
    assert snapshot["candidate"]["reference"] in text
    assert "17 mai 1995" in text
    assert snapshot["company"] in text
    assert snapshot["centre"] in text
    for competence in version.competences.all():
        assert competence.code in text
        assert competence.title in text
    for criterion_code in ("C1.1", "C2.1", "C4.3"):
        assert criterion_code in text
    assert "Non maîtrisée en toute autonomie" in text
    assert NM_COMMENT[:40] in text
    assert "Évaluation en situation professionnelle" in text
    for signature in signed.signatures.all():
        assert signature.signer_name in text
    assert "Président" in text
    assert rendered.verification_code in text
    assert rendered.content_sha256 in text
    assert f"/verify/{rendered.verification_code}/" in text
    assert "Page 1 / 2" in text
    assert "Page 2 / 2" in text


@pytest.mark.slow
def test_regenerating_the_pdf_gives_the_same_text_whatever_the_language(rendered):
    first = pdf_text(file_bytes(rendered))

    with translation.override("en"):
        again = pdf_text(pdf.grid_pdf(rendered))

    assert again == first


@pytest.mark.slow
def test_render_task_run_twice_produces_one_file(signed, media_root):
    document = grid_document(signed)

    assert render_grid_pdf(document_id=document.pk) is True
    assert render_grid_pdf(document_id=document.pk) is False

    files = list((media_root / "documents" / "grille").iterdir())
    assert len(files) == 1
    document.refresh_from_db()
    assert document.file.path == str(files[0])
    assert GridEvent.objects.filter(grid=signed, action=GridEvent.Action.DOCUMENT).count() == 1


@pytest.mark.slow
def test_render_holds_no_lock_and_a_delivery_that_lost_the_race_stores_nothing(
        transactional_db, signed, media_root, monkeypatch):
    """The PDF (~0.5 s) is rendered outside any transaction — on SQLite a write transaction
    locks the whole database — and the row is locked only to store it. A second delivery of
    the task that stored the file while this one rendered wins; this one stores nothing."""
    from django.db import connection

    document = grid_document(signed)
    if document.file:  # rendered at signature (on commit, eager): start from a pending one
        document.file.delete(save=False)
        GeneratedDocument.objects.filter(pk=document.pk).update(file="", file_sha256="",
                                                                generated_at=None)
    events = GridEvent.objects.filter(grid=signed, action=GridEvent.Action.DOCUMENT)
    events_before = events.count()
    real_render = pdf.grid_pdf
    seen = []

    def render_while_another_delivery_stores(doc):
        seen.append(connection.in_atomic_block)
        if len(seen) == 1:  # the other delivery runs to the end meanwhile
            assert render_grid_pdf(document_id=doc.pk) is True
        return real_render(doc)

    monkeypatch.setattr(pdf, "grid_pdf", render_while_another_delivery_stores)
    assert render_grid_pdf(document_id=document.pk) is False
    assert seen == [False, False]
    assert len(list((media_root / "documents" / "grille").iterdir())) == 1
    assert events.count() == events_before + 1


def test_render_tasks_retry_database_errors():
    """A database briefly down or locked is retried like a file-system error (idempotent)."""
    from django.db import OperationalError

    from evaluations import tasks

    for task in (tasks.render_grid_pdf, tasks.render_jury_document,
                 tasks.render_session_documents):
        assert {OSError, OperationalError} <= set(task.autoretry_for)


def test_render_task_ignores_an_unknown_document(db):
    assert render_grid_pdf(document_id=987654) is False


@pytest.mark.slow
def test_pdf_shows_modality_change_incident_and_signature_times_in_paris(
        filled, president, president_member, assessor_member):
    from evaluations.models import CompetenceResult
    from tests.evaluations.conftest import save

    c3 = CompetenceResult.objects.get(grid=filled, competence__code="C3")
    save(filled, c3, "modality_used", "presentation_projets", president.user)
    services.report_incident(grid=filled, kind="equipement", actor=president.user,
                             description="Panne du banc de réglage pendant dix minutes.")
    sign_all(filled, president, president_member, assessor_member)
    document = grid_document(filled)

    text = pdf_text(pdf.grid_pdf(document))

    assert "Présentation des projets" in text
    assert "(prévue : Évaluation en situation professionnelle)" in text
    assert "Panne d'équipement" in text
    assert "Panne du banc de réglage pendant dix minutes." in text
    for signature in filled.signatures.all():
        paris = signature.signed_at.astimezone(zoneinfo.ZoneInfo("Europe/Paris"))
        assert paris.strftime("%d/%m/%Y à %H:%M:%S") in text


# ---------------------------------------------------------------------------
# Download on demand
# ---------------------------------------------------------------------------
def pdf_url(grid) -> str:
    return reverse("grids:pdf", args=[grid.pk])


@pytest.mark.slow
def test_member_downloads_the_pdf_rendered_now_when_the_task_has_not_run(
        client, signed, president):
    document = grid_document(signed)
    assert not document.file  # the test transaction never commits: the task is pending
    client.force_login(president.user)

    response = client.get(pdf_url(signed))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    reference = signed.scheduled.registration.reference
    assert response["Content-Disposition"] == f'attachment; filename="grille-{reference}.pdf"'
    content = b"".join(response.streaming_content)
    document.refresh_from_db()
    assert document.file
    assert content == file_bytes(document)
    assert document.verification_code in pdf_text(content)


@pytest.mark.slow
def test_staff_of_the_centre_downloads_the_stored_pdf(client, rendered, signed, staff):
    client.force_login(staff)

    response = client.get(pdf_url(signed))

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == file_bytes(rendered)
    assert GridEvent.objects.filter(grid=signed, action=GridEvent.Action.DOCUMENT).count() == 1


@pytest.mark.slow
def test_a_lost_pdf_file_is_regenerated_identically(client, rendered, signed, assessor):
    text = pdf_text(file_bytes(rendered))
    default_storage.delete(rendered.file.name)
    client.force_login(assessor.user)

    response = client.get(pdf_url(signed))

    assert response.status_code == 200
    assert pdf_text(b"".join(response.streaming_content)) == text


def test_pdf_of_a_grid_not_signed_is_404(client, to_sign, president):
    client.force_login(president.user)

    assert client.get(pdf_url(to_sign)).status_code == 404


def test_pdf_of_a_reopened_grid_is_404(client, signed, staff):
    services.reopen_grid(grid=signed, actor=staff, reason="Erreur de saisie sur C3.")
    client.force_login(staff)

    assert client.get(pdf_url(signed)).status_code == 404


def test_evaluator_of_another_commission_gets_404(client, signed, centre, certification):
    outsider = make_evaluator(centre=centre, certifications=[certification])
    make_commission(centre=centre, certifications=[certification], members=[outsider])
    client.force_login(outsider.user)

    assert client.get(pdf_url(signed)).status_code == 404


def test_jury_member_gets_404(client, signed, centre):
    client.force_login(member(Role.JURY, centre=centre))

    assert client.get(pdf_url(signed)).status_code == 404


def test_staff_of_another_centre_gets_404(client, signed):
    client.force_login(member(Role.STAFF))

    assert client.get(pdf_url(signed)).status_code == 404


def test_anonymous_is_sent_to_login(client, signed):
    response = client.get(pdf_url(signed))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


# ---------------------------------------------------------------------------
# ZIP of a commission's signed grids
# ---------------------------------------------------------------------------
@pytest.fixture
def second_signed(commission, centre, version, staff, president, president_member,
                  assessor_member):
    """A second candidate of the commission, graded and signed."""
    registration = make_ready(make_registration(centre=centre, version=version, actor=staff),
                              actor=staff)
    scheduled = commission_services.schedule_candidate(
        commission=commission, registration=registration, actor=staff,
        start_time=datetime.time(9, 0))
    grid = services.ensure_grid(scheduled=scheduled, actor=staff)
    fill_grid(grid, president.user)
    sign_all(grid, president, president_member, assessor_member)
    return Grid.objects.get(pk=grid.pk)


def zip_url(commission) -> str:
    return reverse("grids:commission_zip", args=[commission.pk])


@pytest.mark.slow
def test_zip_holds_one_pdf_per_signed_grid_and_progress_reaches_100(
        client, signed, second_signed, commission, staff, centre, version,
        django_capture_on_commit_callbacks):
    draft = make_ready(make_registration(centre=centre, version=version, actor=staff),
                       actor=staff)
    commission_services.schedule_candidate(
        commission=commission, registration=draft, actor=staff,
        start_time=datetime.time(10, 0))
    client.force_login(staff)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(zip_url(commission))

    batch = BatchExport.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("grids:zip_status", args=[batch.pk])
    assert batch.requested_by == staff
    assert batch.error == ""
    assert batch.finished_at is not None
    assert (batch.done, batch.total, batch.percent) == (2, 2, 100)
    with batch.file.open("rb") as stream, zipfile.ZipFile(stream) as archive:
        names = sorted(archive.namelist())
        contents = [archive.read(name) for name in names]
    references = sorted(f"grille-{g.scheduled.registration.reference}.pdf"
                        for g in (signed, second_signed))
    assert names == references
    assert all(content.startswith(b"%PDF") for content in contents)

    page = client.get(response["Location"])
    assert page.status_code == 200
    assert 'aria-valuenow="100"' in page.content.decode()
    assert reverse("grids:zip_download", args=[batch.pk]) in page.content.decode()
    assert 'hx-trigger="every 1s"' not in page.content.decode()

    download = client.get(reverse("grids:zip_download", args=[batch.pk]))
    assert download.status_code == 200
    assert download["Content-Type"] == "application/zip"
    assert b"".join(download.streaming_content)[:2] == b"PK"


def test_zip_status_polls_itself_every_second_until_finished(client, signed, commission, staff):
    batch = BatchExport.objects.create(commission=commission, requested_by=staff, total=3,
                                       done=1)
    client.force_login(staff)

    response = client.get(reverse("grids:zip_status", args=[batch.pk]),
                          headers={"HX-Request": "true"})

    body = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in body
    assert 'hx-trigger="every 1s"' in body
    assert f'hx-get="{reverse("grids:zip_status", args=[batch.pk])}"' in body
    assert 'aria-valuenow="33"' in body
    assert "1 grille sur 3" in body
    assert reverse("grids:zip_download", args=[batch.pk]) not in body
    assert client.get(reverse("grids:zip_download", args=[batch.pk])).status_code == 404


def test_zip_task_records_its_error_instead_of_failing_silently(signed, commission, staff):
    GeneratedDocument.objects.filter(grid=signed).delete()
    batch = BatchExport.objects.create(commission=commission, requested_by=staff)

    assert build_commission_zip(batch_id=batch.pk) is False

    batch.refresh_from_db()
    assert batch.finished_at is not None
    assert signed.scheduled.registration.reference in batch.error
    assert not batch.file


def test_zip_task_does_not_build_a_finished_export_again(signed, commission, staff):
    batch = BatchExport.objects.create(commission=commission, requested_by=staff,
                                       finished_at=timezone.now())

    assert build_commission_zip(batch_id=batch.pk) is False


def test_zip_without_signed_grid_says_so(client, grid, commission, staff):
    client.force_login(staff)

    response = client.post(zip_url(commission), follow=True)

    assert BatchExport.objects.count() == 0
    page = response.content.decode()
    assert "Aucune grille de cette commission n&#x27;est encore signée." in page


def test_commission_page_offers_the_zip_to_staff_only(client, commission, staff, president):
    url = reverse("commissions:commission_detail", args=[commission.pk])
    label = "Télécharger toutes les grilles signées (ZIP)"

    client.force_login(staff)
    assert label in client.get(url).content.decode()
    client.force_login(president.user)
    assert label not in client.get(url).content.decode()


@pytest.mark.parametrize("who", ["member", "other_staff", "jury"])
def test_zip_is_404_for_anyone_but_staff_of_the_centre(client, signed, commission, centre,
                                                       president, who):
    user = {"member": lambda: president.user,
            "other_staff": lambda: member(Role.STAFF),
            "jury": lambda: member(Role.JURY, centre=centre)}[who]()
    client.force_login(user)

    assert client.post(zip_url(commission)).status_code == 404
    assert BatchExport.objects.count() == 0


def test_zip_needs_login_and_post(client, signed, commission, staff):
    response = client.post(zip_url(commission))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))

    client.force_login(staff)
    assert client.get(zip_url(commission)).status_code == 405


def test_export_pages_are_for_the_requester_and_staff_of_the_centre(
        client, signed, commission, staff, centre, president):
    from django.core.files.base import ContentFile

    batch = BatchExport.objects.create(commission=commission, requested_by=staff, total=1,
                                       done=1, finished_at=timezone.now())
    batch.file.save("test.zip", ContentFile(b"PK\x05\x06" + b"\x00" * 18))
    status = reverse("grids:zip_status", args=[batch.pk])
    download = reverse("grids:zip_download", args=[batch.pk])

    for user, expected in [(staff, 200), (member(Role.STAFF, centre=centre), 200),
                           (member(Role.STAFF), 404), (president.user, 404),
                           (member(Role.JURY, centre=centre), 404)]:
        client.force_login(user)
        assert client.get(status).status_code == expected
        response = client.get(download)
        assert response.status_code == expected
        if expected == 200:
            b"".join(response.streaming_content)


# ---------------------------------------------------------------------------
# With a real worker (.ci/run: Redis + PostgreSQL)
# ---------------------------------------------------------------------------
@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_last_signature_has_the_worker_render_the_pdf(to_sign, president_member,
                                                      assessor_member):
    sign(to_sign, president_member)
    sign(to_sign, assessor_member)  # commits: the PDF task goes to the broker

    document = grid_document(to_sign)
    deadline = time.monotonic() + 30
    while not document.file and time.monotonic() < deadline:
        time.sleep(0.25)
        document.refresh_from_db()

    try:
        assert document.file, "le worker n'a pas produit le PDF en 30 s"
        assert document.generated_at is not None
        assert len(document.file_sha256) == 64
        with document.file.open("rb") as stream:
            assert stream.read(4) == b"%PDF"
    finally:
        if document.file:
            default_storage.delete(document.file.name)
    assert Grid.objects.get(pk=to_sign.pk).state == GridState.SIGNED
