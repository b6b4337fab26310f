"""Right of access (DOMAIN.md §8, issue 8): the staff of a candidate's centre export
everything held about that person — a ZIP of a JSON and the files — and nobody else can;
the export is recorded in the register and the candidate's timeline."""

import hashlib
import io
import json
import zipfile

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse

from candidates.models import Candidate, Document, RegistrationEvent
from certifications.models import Role
from evaluations.models import GeneratedDocument, PersonalDataEvent
from tests.evaluations.conftest import NM_COMMENT
from tests.factories import make_registration, member
from tests.trust.test_retention import ADDRESS, CAREER, OPINION, PHONE, fill_dossier

pytestmark = pytest.mark.django_db

RENDERED = b"%PDF-1.7 attestation rendue"


@pytest.fixture(autouse=True)
def _media(media_root):
    return media_root


@pytest.fixture
def world(request, registration, second_registration, staff):
    """Two candidates of one jury (PV signed), both dossiers full; the second not mastering
    C3 (with its comment). Every PDF stored."""
    fill_dossier(registration, staff)
    fill_dossier(second_registration, staff)
    request.getfixturevalue("jury_closed")
    for document in GeneratedDocument.objects.all():
        document.file.save(f"{document.kind}.pdf", ContentFile(RENDERED), save=False)
        GeneratedDocument.objects.filter(pk=document.pk).update(
            file=document.file.name, file_sha256=hashlib.sha256(RENDERED).hexdigest())
    for item in (registration, second_registration):
        item.refresh_from_db()


def export_url(candidate) -> str:
    return reverse("personal_data_export", args=[candidate.pk])


def export(client, user, candidate):
    client.force_login(user)
    return client.post(export_url(candidate))


def downloaded(response) -> bytes:
    """The file, read to its end as a browser does (the test client then closes it)."""
    assert response["Content-Type"] == "application/zip"
    return b"".join(response.streaming_content)


def unzip(response) -> tuple[dict, dict[str, bytes]]:
    with zipfile.ZipFile(io.BytesIO(downloaded(response))) as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
    return json.loads(files.pop("donnees.json")), files


def test_the_export_holds_the_persons_data_and_files(client, world, staff, second_registration):
    candidate = second_registration.candidate
    upload = Document.objects.get(registration=second_registration)
    with upload.file.open("rb") as stream:
        uploaded_bytes = stream.read()

    response = export(client, staff, candidate)

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    data, files = unzip(response)
    assert data["identity"]["birth_name"] == candidate.birth_name
    assert (data["identity"]["email"], data["identity"]["phone"],
            data["identity"]["address"]) == (candidate.email, PHONE, ADDRESS)
    [dossier] = data["registrations"]
    assert dossier["reference"] == second_registration.reference
    assert dossier["dossier"]["career_summary"] == CAREER
    assert dossier["tutor"]["email"] == second_registration.tutor.email
    assert dossier["company_opinion"]["comment"] == OPINION
    assert dossier["links"][0]["email"] == second_registration.tutor.email
    assert any("déposé" in event["message"] for event in dossier["timeline"])
    [commission] = dossier["commissions"]
    comments = [c["comment"] for c in commission["grid"]["competences"]]
    assert NM_COMMENT in comments
    [decision] = dossier["decisions"]
    assert (decision["outcome"], decision["acquired_blocs"]) == ("admis_partiel", ["B1"])
    assert decision["pv_verification_code"]
    assert data["history"]["candidate"][0]["email"] == candidate.email
    # The files: the uploaded report, byte for byte, and every generated PDF of the person.
    [document] = dossier["documents"]
    assert files[document["file"]] == uploaded_bytes
    own_pdfs = GeneratedDocument.objects.filter(decision__registration=second_registration)
    own_pdfs = list(own_pdfs) + list(GeneratedDocument.objects.filter(
        grid__scheduled__registration=second_registration))
    pdf_codes = {name for name in files if name.endswith(".pdf") and name != document["file"]}
    assert len(pdf_codes) == len(own_pdfs)
    assert all(any(d.verification_code in name for name in pdf_codes) for d in own_pdfs)


def test_the_export_holds_nothing_of_another_person(client, world, staff, registration,
                                                    second_registration):
    other = registration.candidate

    data, files = unzip(export(client, staff, second_registration.candidate))

    text = json.dumps(data, ensure_ascii=False) + " ".join(files)
    for secret in (other.birth_name, other.first_names, other.email, registration.reference,
                   registration.tutor.email):
        assert secret not in text, secret
    other_codes = GeneratedDocument.objects.filter(
        decision__registration=registration).values_list("verification_code", flat=True)
    assert not any(code in text for code in other_codes)


def test_the_export_is_recorded_in_the_register_and_the_timeline(client, world, staff,
                                                                  second_registration):
    candidate = second_registration.candidate

    downloaded(export(client, staff, candidate))

    entry = PersonalDataEvent.objects.get(candidate=candidate)
    assert (entry.action, entry.actor) == (PersonalDataEvent.Action.EXPORTED, staff)
    assert entry.data == {"registrations": 1, "files": 4}
    event = RegistrationEvent.objects.filter(registration=second_registration).last()
    assert (event.actor, event.kind) == (staff, RegistrationEvent.Kind.DOSSIER)
    assert "Export des données personnelles" in event.message
    page = client.get(reverse("candidates:registration_detail",
                              args=[second_registration.pk])).content.decode()
    assert "Export des données personnelles du candidat" in page


def test_the_registration_page_offers_the_export(client, world, staff, registration):
    client.force_login(staff)
    page = client.get(reverse("candidates:registration_detail", args=[registration.pk]))

    assert export_url(registration.candidate) in page.content.decode()
    assert "Exporter les données personnelles (RGPD)" in page.content.decode()


def test_staff_of_another_centre_and_evaluators_get_404(client, world, registration,
                                                        president):
    outsider = member(Role.STAFF)

    assert export(client, outsider, registration.candidate).status_code == 404
    # The commission's own members read the dossier, never export the person.
    assert export(client, president.user, registration.candidate).status_code == 404
    assert export(client, outsider, Candidate(pk=999_999)).status_code == 404
    assert not PersonalDataEvent.objects.exists()


def test_anonymous_visitors_are_sent_to_login_and_get_is_refused(client, world, staff,
                                                                 registration):
    url = export_url(registration.candidate)

    response = client.post(url)
    assert response.status_code == 302
    assert reverse("login") in response["Location"]
    client.force_login(staff)
    assert client.get(url).status_code == 405
    assert not PersonalDataEvent.objects.exists()


def test_the_export_reads_a_fixed_number_of_queries(client, world, staff, registration,
                                                    centre, version,
                                                    django_assert_max_num_queries):
    from candidates.services import create_registration

    candidate = registration.candidate
    client.force_login(staff)
    with django_assert_max_num_queries(35) as small:
        downloaded(client.post(export_url(candidate)))
    # More registrations (with their events) for the same person: not one query more.
    for _ in range(3):
        create_registration(actor=staff, centre=centre, candidate=candidate, version=version,
                            path="candidat_libre")
    make_registration(centre=centre, version=version, actor=staff)  # someone else
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = client.post(export_url(candidate))
    assert len(unzip(response)[0]["registrations"]) == 4
