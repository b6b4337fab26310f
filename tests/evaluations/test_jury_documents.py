"""Documents of the jury paritaire (issue 6, DOMAIN.md §6, DESIGN.md §5): the procès-verbal
signed by the president, the attendance sheet, the results letters with the attestation or the
relevé, e-mailed once; corrections that replace them; the bundle for the CPNE; who may download
what; the public verification of each code."""

import datetime
import io
import re
import unicodedata
import zipfile

import pytest
from django.contrib.messages import get_messages
from django.core import mail
from django.urls import reverse
from django.utils import dateformat, timezone, translation
from pypdf import PdfReader

from candidates.models import RegistrationEvent
from commissions import juries
from commissions.models import College, JurySession
from evaluations import deliberation, documents_jury
from evaluations.models import Decision, GeneratedDocument, Minutes
from evaluations.services import sha256_of
from evaluations.tasks import render_jury_document, send_results
from tests.evaluations.conftest import JURY_PLACE, make_jury_member, sign_jury_minutes

Kind = GeneratedDocument.Kind


@pytest.fixture(autouse=True)
def _own_media_root(media_root):
    """Every file goes to a temporary MEDIA_ROOT."""


def pdf_text(content: bytes) -> str:
    """The PDF's text, whitespace collapsed (lines wrap where the layout says)."""
    reader = PdfReader(io.BytesIO(content))
    text = " ".join(page.extract_text() for page in reader.pages)
    return " ".join(unicodedata.normalize("NFC", text).split())


def file_text(document: GeneratedDocument) -> str:
    document.refresh_from_db()
    with document.file.open("rb") as stream:
        return pdf_text(stream.read())


def french_date(day: datetime.date) -> str:
    with translation.override("fr"):
        return dateformat.format(day, "j F Y")


def document_of(session, kind, registration=None) -> GeneratedDocument:
    documents = GeneratedDocument.objects.filter(session=session, kind=kind)
    if registration is not None:
        documents = documents.filter(decision__registration=registration,
                                     decision__superseded_by__isnull=True)
    return documents.get()


@pytest.fixture
def closed_and_sent(jury_open, jury_members, django_capture_on_commit_callbacks):
    """The PV signed with its after-commit work run: every document rendered, the results
    e-mailed."""
    with django_capture_on_commit_callbacks(execute=True):
        sign_jury_minutes(jury_open, jury_members)
    jury_open.refresh_from_db()
    return jury_open


@pytest.fixture
def other_session_member(centre):
    """A jury member of the same centre, seated in another session only."""
    member_ = make_jury_member(centre=centre, college=College.EMPLOYERS,
                               organisation="Forges de Basse-Indre", username="jury.other",
                               first_name="Marc", last_name="Autre")
    session = JurySession.objects.create(centre=centre, date=timezone.localdate(),
                                         start_time=datetime.time(9, 0), place="Saint-Nazaire")
    juries.add_seat(session=session, member=member_, president=True)
    return member_.user


# ---------------------------------------------------------------------------
# Issuing at signature time
# ---------------------------------------------------------------------------
def test_signing_the_pv_issues_every_document_with_its_content_hash(
        jury_closed, registration, second_registration):
    minutes = Minutes.objects.get(session=jury_closed)
    pv = document_of(jury_closed, Kind.PV)
    assert pv.minutes == minutes
    assert pv.content_sha256 == minutes.snapshot_sha256

    sheet = document_of(jury_closed, Kind.ATTENDANCE)
    assert sheet.content_sha256 == sha256_of(sheet.snapshot)
    assert {m["name"]: m["present"] for m in sheet.snapshot["members"]}["Hélène Petit"] is False

    kinds = {reg.pk: sorted(GeneratedDocument.objects.filter(decision__registration=reg)
                            .values_list("kind", flat=True))
             for reg in (registration, second_registration)}
    assert kinds[registration.pk] == sorted([Kind.LETTER, Kind.CERTIFICATE])
    assert kinds[second_registration.pk] == sorted([Kind.LETTER, Kind.PARTIAL])
    for document in GeneratedDocument.objects.filter(decision__isnull=False):
        assert document.session == jury_closed
        assert document.content_sha256 == sha256_of(document.snapshot)
        assert not document.file  # rendered after commit


def test_documents_are_issued_once_however_often_issuing_runs(jury_closed):
    before = GeneratedDocument.objects.count()

    documents_jury.issue_minutes_documents(minutes=jury_closed.minutes)

    assert GeneratedDocument.objects.count() == before


def test_signing_schedules_the_rendering_after_commit(jury_open, jury_members,
                                                      django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        sign_jury_minutes(jury_open, jury_members)

    assert len(callbacks) == 1
    assert not GeneratedDocument.objects.filter(session=jury_open).exclude(file="").exists()


def test_partial_results_say_what_is_validated_and_until_when(jury_closed,
                                                              second_registration):
    snapshot = document_of(jury_closed, Kind.PARTIAL, second_registration).snapshot

    assert snapshot["outcome"] == "admis_partiel"
    assert [b["code"] for b in snapshot["blocs"] if b["acquired"]] == ["B1"]
    assert [c["code"] for c in snapshot["competences"] if c["validated"]] == ["C1", "C2", "C4"]
    day = jury_closed.date
    assert snapshot["validity"]["competences_until"] == day.replace(year=day.year + 2).isoformat()
    assert snapshot["validity"]["blocs_until"] == day.replace(year=day.year + 5).isoformat()


def test_bloc_validity_applies_only_to_rncp_certifications(jury_open, jury_members,
                                                           certification, second_registration):
    certification.registry = "RS"
    certification.save()

    sign_jury_minutes(jury_open, jury_members)

    snapshot = document_of(jury_open, Kind.PARTIAL, second_registration).snapshot
    assert snapshot["validity"]["blocs_until"] is None
    assert snapshot["validity"]["competences_until"]


def test_validity_periods_come_from_the_settings(jury_open, jury_members, settings,
                                                 second_registration):
    settings.RESULTS = {"COMPETENCE_VALIDITY_MONTHS": 12, "BLOC_VALIDITY_YEARS": 3}

    sign_jury_minutes(jury_open, jury_members)

    validity = document_of(jury_open, Kind.PARTIAL, second_registration).snapshot["validity"]
    day = jury_open.date
    assert validity["competences_until"] == day.replace(year=day.year + 1).isoformat()
    assert validity["blocs_until"] == day.replace(year=day.year + 3).isoformat()


# ---------------------------------------------------------------------------
# The PDFs, read back
# ---------------------------------------------------------------------------
@pytest.mark.slow
def test_pv_shows_session_members_per_college_outcomes_blocs_president_and_code(
        closed_and_sent, registration, second_registration):
    pv = document_of(closed_and_sent, Kind.PV)
    text = file_text(pv)

    assert french_date(closed_and_sent.date) in text
    assert "Salle Vauban".lower() in text.lower()
    assert "UIMM Pays de la Loire" in text
    employers, employees = text.index("Collège employeurs"), text.index("Collège salariés")
    for name in ("Anne Lefèvre", "Paul Renaud"):
        assert employers < text.index(name, employers) < employees
    for name in ("Nadia Benali", "Luc Moreau", "Hélène Petit"):
        assert text.index(name, employers) > employees
    assert "Absent" in text
    assert "2 au titre du collège employeurs, 2 au titre du collège salariés" in text
    assert "parité entre les deux collèges est respectée" in text
    for reg in (registration, second_registration):
        reg.refresh_from_db()
        assert reg.reference in text
        assert reg.candidate.full_name in text
    assert "Admis" in text
    assert "Validation partielle" in text
    assert "B1 — Bloc 1" in text
    assert "(1) Évaluation conforme" in text
    assert "(2) Conditions d'admission" in text
    assert "Signature du président du jury" in text
    assert "Anne Lefèvre" in text
    assert pv.verification_code in text
    assert pv.content_sha256 in text
    assert f"/verify/{pv.verification_code}/" in text
    assert "Page 1 / " in text


@pytest.mark.slow
def test_pv_regenerates_the_same_text_from_the_signed_snapshot(closed_and_sent):
    pv = document_of(closed_and_sent, Kind.PV)
    first = file_text(pv)

    with translation.override("en"):
        again = pdf_text(documents_jury.document_pdf(pv))

    assert again == first


@pytest.mark.slow
def test_attendance_sheet_lists_every_member_and_candidate_and_has_no_code(
        jury_open, jury_members, registration, second_registration):
    text = pdf_text(documents_jury.attendance_pdf(jury_open))

    for jury_member in jury_members.values():
        assert str(jury_member) in text
    for organisation in ("CFDT", "CGT", "CGT-FO", "Chantiers de l'Atlantique"):
        assert organisation in text
    for reg in (registration, second_registration):
        assert reg.reference in text
    assert "Signature" in text
    assert "sans code de vérification" in text
    assert "Code de vérification :" not in text


@pytest.mark.slow
def test_attendance_sheet_prints_before_the_session_with_an_empty_presence(
        centre, certification, staff, jury_members):
    session = JurySession.objects.create(centre=centre, date=timezone.localdate()
                                         + datetime.timedelta(days=30),
                                         start_time=datetime.time(14, 0), place=JURY_PLACE)
    session.certifications.set([certification])
    juries.add_seat(session=session, member=jury_members["president"], president=True)
    juries.add_seat(session=session, member=jury_members["cgt"])

    text = pdf_text(documents_jury.attendance_pdf(session))

    assert "Anne Lefèvre" in text
    assert "Luc Moreau" in text
    assert "Présence enregistrée" not in text
    assert "Aucun candidat pour le moment." in text


@pytest.mark.slow
def test_results_letter_and_attestation_of_an_admitted_candidate(closed_and_sent,
                                                                 registration, certification):
    registration.refresh_from_db()
    letter = document_of(closed_and_sent, Kind.LETTER, registration)
    text = file_text(letter)
    assert registration.candidate.full_name in text
    assert "Admis" in text
    assert certification.code in text
    assert certification.title in text
    assert french_date(closed_and_sent.date) in text
    assert "Anne Lefèvre" in text
    assert letter.verification_code in text

    certificate = document_of(closed_and_sent, Kind.CERTIFICATE, registration)
    text = file_text(certificate)
    assert "Attestation de réussite" in text
    assert registration.candidate.full_name in text
    assert certification.title in text
    assert "B1 — Bloc 1" in text
    assert "B2 — Bloc 2" in text
    assert certificate.verification_code in text


@pytest.mark.slow
def test_letter_and_relevé_of_a_partial_validation_show_the_validated_blocs(
        closed_and_sent, second_registration, certification):
    second_registration.refresh_from_db()
    text = file_text(document_of(closed_and_sent, Kind.LETTER, second_registration))
    assert second_registration.candidate.full_name in text
    assert "Validation partielle" in text
    assert "B1 — Bloc 1" in text
    assert certification.code in text

    notice = document_of(closed_and_sent, Kind.PARTIAL, second_registration)
    text = file_text(notice)
    assert "Relevé des compétences et blocs validés" in text
    assert "Blocs de compétences validés B1 — Bloc 1" in text
    assert "C4 — Compétence 4" in text
    assert "Compétences restant à valider C3 — Compétence 3" in text
    day = closed_and_sent.date
    assert f"jusqu'au {french_date(day.replace(year=day.year + 2))}" in text
    assert f"jusqu'au {french_date(day.replace(year=day.year + 5))}" in text
    assert "Le président du jury" in text
    assert "Anne Lefèvre" in text
    assert notice.verification_code in text


@pytest.mark.slow
def test_rendering_twice_keeps_one_file(jury_closed, media_root):
    pv = document_of(jury_closed, Kind.PV)

    assert render_jury_document(document_id=pv.pk) is True
    pv.refresh_from_db()
    first = (pv.file.name, pv.file_sha256)
    assert render_jury_document(document_id=pv.pk) is False

    pv.refresh_from_db()
    assert (pv.file.name, pv.file_sha256) == first
    assert len(list((media_root / "documents" / "pv").iterdir())) == 1


# ---------------------------------------------------------------------------
# Results by e-mail
# ---------------------------------------------------------------------------
@pytest.mark.slow
def test_results_are_emailed_once_with_their_pdfs(closed_and_sent, registration,
                                                  second_registration):
    assert len(mail.outbox) == 2
    by_address = {message.to[0]: message for message in mail.outbox}
    registration.refresh_from_db()
    message = by_address[registration.candidate.email]
    assert "Vos résultats" in message.subject
    assert "Admis" in message.body
    names = [name for name, _content, _type in message.attachments]
    assert names == [f"lettre-resultats-{registration.reference}.pdf",
                     f"attestation-{registration.reference}.pdf"]
    assert all(content.startswith(b"%PDF") for _n, content, _t in message.attachments)
    partial = by_address[second_registration.candidate.email]
    assert [name for name, _c, _t in partial.attachments] == [
        f"lettre-resultats-{second_registration.reference}.pdf",
        f"releve-competences-{second_registration.reference}.pdf"]
    assert not GeneratedDocument.objects.filter(decision__isnull=False, sent_at=None).exists()
    events = RegistrationEvent.objects.filter(registration=registration,
                                              message__startswith="Résultats envoyés")
    assert events.count() == 1

    decision = Decision.objects.get(registration=registration)
    assert send_results(decision_id=decision.pk) is False
    assert len(mail.outbox) == 2


def test_results_are_not_emailed_to_a_candidate_without_address(
        jury_closed, registration, caplog):
    registration.candidate.email = ""
    registration.candidate.save()
    decision = Decision.objects.get(registration=registration)

    assert send_results(decision_id=decision.pk) is False
    assert mail.outbox == []
    assert document_of(jury_closed, Kind.LETTER, registration).sent_at is None


# ---------------------------------------------------------------------------
# Corrections
# ---------------------------------------------------------------------------
@pytest.fixture
def corrected(jury_closed, jury_members, second_registration,
              django_capture_on_commit_callbacks):
    """The partial validation corrected into « admis » (after commit: rendered, e-mailed)."""
    decision = Decision.objects.get(registration=second_registration)
    with django_capture_on_commit_callbacks(execute=True):
        new = deliberation.correct_decision(
            decision=decision, actor=jury_members["president"].user, outcome="admis",
            acquired_blocs=["B1", "B2"], reason="Erreur matérielle sur la compétence C3.")
    return decision, new


@pytest.mark.slow
def test_a_correction_issues_new_documents_and_emails_them(corrected, second_registration):
    old, new = corrected

    assert sorted(GeneratedDocument.objects.filter(decision=new)
                  .values_list("kind", flat=True)) == sorted([Kind.LETTER, Kind.CERTIFICATE])
    assert all(d.file for d in GeneratedDocument.objects.filter(decision=new))
    assert len(mail.outbox) == 1
    assert "Résultat rectifié" in mail.outbox[0].subject
    text = file_text(GeneratedDocument.objects.get(decision=new, kind=Kind.LETTER))
    assert "Décision rectifiée" in text
    # The decision it replaces, named as the jury pages name it.
    assert "(précédemment : Validation partielle)" in " ".join(text.split())
    assert "Erreur matérielle sur la compétence C3." in text


# ---------------------------------------------------------------------------
# Public verification
# ---------------------------------------------------------------------------
def verify(client, document):
    return client.get(reverse("verify", args=[document.verification_code]))


def test_verify_pv_shows_type_date_certification_and_president(client, jury_closed,
                                                              certification, registration):
    response = verify(client, document_of(jury_closed, Kind.PV))

    page = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="verify-valid"' in page
    assert "Procès-verbal de délibération" in page
    assert french_date(jury_closed.date) in page
    assert certification.code in page
    assert "Anne Lefèvre" in page
    registration.refresh_from_db()
    assert registration.candidate.full_name not in page


def test_verify_letter_shows_the_candidate_and_no_result_detail(client, jury_closed,
                                                               second_registration):
    response = verify(client, document_of(jury_closed, Kind.PARTIAL, second_registration))

    page = response.content.decode()
    assert 'data-testid="verify-valid"' in page
    second_registration.refresh_from_db()
    assert second_registration.candidate.full_name in page
    assert "Anne Lefèvre" in page
    # The body carries a random CSRF token (htmx headers) that may hold "B1":
    # the result detail is looked for in the page's main content only.
    main = page.split("<main", 1)[1].split("</main>", 1)[0]
    assert "Compétence 4" not in main
    assert re.search(r"\bB1\b", main) is None


def test_verify_unknown_code_tells_nothing(client, jury_closed):
    response = client.get(reverse("verify", args=["AAAAA-BBBBB-CCCCC-DDDDD"]))

    assert response.status_code == 404
    assert 'data-testid="verify-unknown"' in response.content.decode()


def test_attendance_record_has_no_verifiable_code(client, jury_closed):
    response = verify(client, document_of(jury_closed, Kind.ATTENDANCE))

    assert response.status_code == 404


def test_verify_says_a_corrected_decision_replaced_its_documents(
        client, jury_closed, jury_members, second_registration):
    old_letter = document_of(jury_closed, Kind.LETTER, second_registration)
    old_notice = document_of(jury_closed, Kind.PARTIAL, second_registration)
    decision = Decision.objects.get(registration=second_registration)
    new = deliberation.correct_decision(
        decision=decision, actor=jury_members["president"].user, outcome="admis",
        acquired_blocs=["B1", "B2"], reason="Erreur matérielle.")

    for document in (old_letter, old_notice):
        page = verify(client, document).content.decode()
        assert 'data-testid="verify-replaced"' in page
        assert "n'est plus valide" in page
    new_letter = GeneratedDocument.objects.get(decision=new, kind=Kind.LETTER)
    assert 'data-testid="verify-valid"' in verify(client, new_letter).content.decode()
    pv_page = verify(client, document_of(jury_closed, Kind.PV)).content.decode()
    assert 'data-testid="verify-valid"' in pv_page
    assert "ont été rectifiées depuis sa signature" in pv_page


# ---------------------------------------------------------------------------
# The bundle for the CPNE
# ---------------------------------------------------------------------------
def test_cpne_status_shows_the_deadline_until_sent(jury_closed, staff):
    status = documents_jury.cpne_status(jury_closed)
    assert status["deadline"] == juries.cpne_deadline(jury_closed)
    assert (status["sent_on"], status["overdue"], status["bundle_ready"]) == (None, False, False)

    JurySession.objects.filter(pk=jury_closed.pk).update(
        date=timezone.localdate() - datetime.timedelta(days=120))
    jury_closed.refresh_from_db()
    assert documents_jury.cpne_status(jury_closed)["overdue"] is True

    juries.mark_cpne_bundle_sent(session=jury_closed)
    jury_closed.refresh_from_db()
    status = documents_jury.cpne_status(jury_closed)
    assert status["sent_on"] == timezone.localdate()
    assert status["overdue"] is False


def test_cpne_bundle_waits_for_the_signed_pv(client, jury_open, staff):
    client.force_login(staff)

    response = client.post(reverse("juries:cpne_bundle", args=[jury_open.pk]))

    assert response.status_code == 302
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "Le dossier CPNE se prépare après la signature du PV."]
    assert not GeneratedDocument.objects.filter(kind=Kind.CPNE).exists()


@pytest.mark.slow
def test_cpne_bundle_zips_letter_pv_composition_and_attendance(client, jury_closed, staff,
                                                               django_capture_on_commit_callbacks):
    client.force_login(staff)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("juries:cpne_bundle", args=[jury_closed.pk]))
    assert response.status_code == 302
    assert response.url == reverse("juries:session_detail", args=[jury_closed.pk])
    assert documents_jury.cpne_status(jury_closed)["bundle_ready"] is True

    download = client.get(reverse("juries:cpne_download", args=[jury_closed.pk]))

    assert download.status_code == 200
    assert download["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(b"".join(download.streaming_content)))
    names = archive.namelist()
    assert [name.split("-2")[0] for name in names] == [
        "1-lettre-de-conformite", "2-proces-verbal", "3-composition-du-jury",
        "4-feuille-emargement"]
    letter = pdf_text(archive.read(names[0]))
    assert "attestation de conformité" in letter
    assert "Nous attestons que les évaluations" in letter
    pv = document_of(jury_closed, Kind.PV)
    assert pv.verification_code in letter
    assert pv.verification_code in pdf_text(archive.read(names[1]))
    composition = pdf_text(archive.read(names[2]))
    for organisation in ("CFDT", "CFE-CGC", "CGT", "CGT-FO"):
        assert organisation in composition
    assert "Nadia Benali" in composition
    assert "Hélène Petit" in pdf_text(archive.read(names[3]))

    # Asking again for the same content gives the same bundle.
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("juries:cpne_bundle", args=[jury_closed.pk]))
    assert GeneratedDocument.objects.filter(kind=Kind.CPNE).count() == 1


# ---------------------------------------------------------------------------
# Who may download what
# ---------------------------------------------------------------------------
def document_url(document) -> str:
    return reverse("juries:document", args=[document.pk])


def test_anonymous_visitors_are_sent_to_login(client, jury_closed):
    for url in (reverse("juries:attendance_pdf", args=[jury_closed.pk]),
                reverse("juries:cpne_download", args=[jury_closed.pk]),
                document_url(document_of(jury_closed, Kind.PV))):
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith(reverse("login"))


def test_members_of_another_session_and_evaluators_get_404(client, jury_closed, president,
                                                          other_session_member, registration):
    pv = document_of(jury_closed, Kind.PV)
    letter = document_of(jury_closed, Kind.LETTER, registration)
    for user in (other_session_member, president.user):
        client.force_login(user)
        for url in (reverse("juries:attendance_pdf", args=[jury_closed.pk]),
                    document_url(pv), document_url(letter),
                    reverse("juries:cpne_download", args=[jury_closed.pk])):
            assert client.get(url).status_code == 404, (user, url)
        assert client.post(reverse("juries:cpne_bundle",
                                   args=[jury_closed.pk])).status_code == 404


def test_a_candidate_letter_is_not_for_the_jury_members(client, jury_closed, jury_members,
                                                        registration):
    client.force_login(jury_members["cfdt"].user)

    for kind in (Kind.LETTER, Kind.CERTIFICATE):
        response = client.get(document_url(document_of(jury_closed, kind, registration)))
        assert response.status_code == 404
    assert client.get(reverse("juries:cpne_download",
                              args=[jury_closed.pk])).status_code == 404
    assert client.post(reverse("juries:cpne_bundle",
                               args=[jury_closed.pk])).status_code == 404


@pytest.mark.slow
def test_jury_members_download_the_pv_and_the_attendance_sheet(client, jury_closed,
                                                                jury_members):
    client.force_login(jury_members["fo"].user)  # absent, but a member of the session

    pv = client.get(document_url(document_of(jury_closed, Kind.PV)))
    sheet = client.get(reverse("juries:attendance_pdf", args=[jury_closed.pk]))

    assert pv.status_code == 200
    assert pv["Content-Type"] == "application/pdf"
    assert b"".join(pv.streaming_content).startswith(b"%PDF")
    assert sheet.status_code == 200
    assert sheet.content.startswith(b"%PDF")


@pytest.mark.slow
def test_staff_download_a_letter_rendered_on_demand(client, jury_closed, staff, registration):
    letter = document_of(jury_closed, Kind.LETTER, registration)
    client.force_login(staff)

    response = client.get(document_url(letter))

    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"%PDF")
    registration.refresh_from_db()
    assert (f'filename="lettre-resultats-{registration.reference}.pdf"'
            in response["Content-Disposition"])
    letter.refresh_from_db()
    assert letter.file


def test_cpne_statuses_of_an_overview_take_one_query(jury_closed, staff,
                                                     django_assert_num_queries):
    documents_jury.request_cpne_bundle(session=jury_closed, actor=staff)
    sessions = list(JurySession.objects.all())

    with django_assert_num_queries(1):
        statuses = documents_jury.cpne_statuses(sessions)

    assert statuses[jury_closed.pk]["bundle"] == documents_jury.latest_cpne_bundle(jury_closed)
    assert statuses[jury_closed.pk]["deadline"] == juries.cpne_deadline(jury_closed)


@pytest.mark.slow
def test_pv_records_abstentions_and_the_motive_of_a_departure(
        jury_open, jury_members, second_registration, settings):
    """A member linked to the candidate abstains (parity then checked on who deliberates —
    relaxed here); a decision against the proposal carries its written motive."""
    settings.JURIES = {**settings.JURIES, "STRICT_PARITY": False}
    employer = jury_members["employer"]
    employer.employer_siret = second_registration.company.siret
    employer.save()
    candidate = jury_open.candidates.get(registration=second_registration)
    deliberation.record_decision(
        session_candidate=candidate, actor=jury_members["president"].user,
        outcome="non_admis", acquired_blocs=["B1"], evaluation_conform=True,
        admission_conditions_met=False, motive="Dossier de preuves incomplet pour le bloc B2.")

    sign_jury_minutes(jury_open, jury_members)

    text = pdf_text(documents_jury.document_pdf(document_of(jury_open, Kind.PV)))
    assert "Abstention : Paul Renaud (même entreprise que le candidat)" in text
    assert "Dossier de preuves incomplet pour le bloc B2." in text
    assert "Non admis" in text
