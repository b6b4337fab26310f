"""Personal links (DESIGN.md §2): the tutor gives the company's avis and the candidate sends
the rapport d'activités through an e-mailed, expiring, single-purpose link, with no account.
A link that cannot be used says why and shows nothing of the registration: 404 when the
token is not a link for this page, 410 when it was one but no longer is."""

import datetime
import html
import io
import re
import secrets
import time
import zipfile
from urllib.parse import urlsplit

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from candidates import services
from candidates.models import (
    AccessLink,
    Candidate,
    CompanyOpinion,
    Document,
    DocumentKind,
    LinkPurpose,
    OpinionLevel,
    OverallOpinion,
    RegistrationEvent,
    RegistrationState,
)
from candidates.tasks import link_url, send_link_email
from certifications.models import Bloc, Competence
from certifications.services import publish_version
from tests.factories import build_version, make_ready, make_registration, member, real_pdf

pytestmark = pytest.mark.django_db

OPINION = LinkPurpose.COMPANY_OPINION
CANDIDATE = LinkPurpose.CANDIDATE_UPLOAD
NOTES = "Observation interne : entretien tendu avec le manager"


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------
@pytest.fixture
def registration(media_root):
    registration = make_registration(dossier_notes=NOTES)
    Candidate.objects.filter(pk=registration.candidate_id).update(
        birth_name="Lemarchand", first_names="Zoé")
    registration.candidate.refresh_from_db()
    return registration


@pytest.fixture
def issue(django_capture_on_commit_callbacks):
    """Issue a link as staff would, running the after-commit e-mail task (eager)."""

    def _issue(registration, purpose):
        with django_capture_on_commit_callbacks(execute=True):
            return services.issue_link(registration=registration, purpose=purpose, actor=None)

    return _issue


def path_of(link) -> str:
    return urlsplit(link_url(link)).path


def url_in(message) -> str:
    urls = re.findall(r"https?://\S+", message.body)
    assert len(urls) == 1, message.body
    return urls[0]


def docx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


def private_data(registration) -> list[str]:
    """What a refused page must never show."""
    return ["Lemarchand", "LEMARCHAND", "Zoé", registration.reference,
            registration.version.certification.title, registration.tutor.last_name,
            registration.company.name]


def text(response) -> str:
    """The page as a reader sees it (entities decoded), so that checks do not depend on
    which strings the template escapes."""
    return html.unescape(response.content.decode())


def assert_shows_nothing_of(response, registration):
    content = text(response)
    for private in private_data(registration):
        assert private not in content


def opinion_post(registration, *, skip=(), **overrides) -> dict:
    data = {
        "overall": OverallOpinion.FAVOURABLE,
        "comment": "Très bon investissement dans l'atelier.",
        "given_by_name": "Paul Tuteur",
        "given_by_function": "Chef d'atelier",
    }
    for competence in registration.version.competences.all():
        if competence.code not in skip:
            data[f"level_{competence.pk}"] = OpinionLevel.MASTERED
        data[f"comment_{competence.pk}"] = f"Remarque sur {competence.code}"
    data.update(overrides)
    return data


# ---------------------------------------------------------------------------
# issuing and e-mail
# ---------------------------------------------------------------------------
def test_issuing_the_avis_link_emails_the_tutor_once_with_a_working_url(
        registration, issue, mailoutbox, client):
    link = issue(registration, OPINION)

    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == [registration.tutor.email]
    url = url_in(message)
    assert url == link_url(link)
    link.refresh_from_db()
    assert link.sent_at is not None

    response = client.get(urlsplit(url).path)

    assert response.status_code == 200
    assert "Avis de l'entreprise" in text(response)
    assert "LEMARCHAND Zoé" in text(response)


def test_issuing_the_candidate_link_emails_the_candidate_with_a_working_url(
        registration, issue, mailoutbox, client):
    issue(registration, CANDIDATE)

    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == [registration.candidate.email]
    response = client.get(urlsplit(url_in(mailoutbox[0])).path)

    assert response.status_code == 200
    assert "Bonjour Zoé" in text(response)


def test_running_the_email_task_again_sends_nothing_more(registration, issue, mailoutbox):
    link = issue(registration, OPINION)
    sent_at = AccessLink.objects.get(pk=link.pk).sent_at

    assert send_link_email.delay(link_id=link.pk).get() is False
    assert send_link_email(link_id=link.pk) is False

    assert len(mailoutbox) == 1
    assert AccessLink.objects.get(pk=link.pk).sent_at == sent_at


def test_a_revoked_link_is_not_emailed(registration, mailoutbox):
    link = services.issue_link(registration=registration, purpose=OPINION, actor=None)
    services.revoke_link(link=link, actor=None)

    assert send_link_email(link_id=link.pk) is False
    assert mailoutbox == []


# ---------------------------------------------------------------------------
# refused links: 404 (not a link for this page) or 410 (no longer usable)
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("url_name", ["links:candidate_space", "links:company_opinion"])
def test_a_guessed_token_gets_the_404_page_without_data(registration, issue, client, url_name):
    issue(registration, OPINION)
    issue(registration, CANDIDATE)

    response = client.get(reverse(url_name, args=[secrets.token_urlsafe(40)]))

    assert response.status_code == 404
    assert "Ce lien n'est pas valide" in text(response)
    assert_shows_nothing_of(response, registration)


def test_a_candidate_token_on_the_avis_url_is_invalid(registration, issue, client):
    link = issue(registration, CANDIDATE)
    token = urlsplit(link_url(link)).path.rstrip("/").rsplit("/", 1)[1]

    response = client.get(reverse("links:company_opinion", args=[token]))

    assert response.status_code == 404
    assert_shows_nothing_of(response, registration)
    with pytest.raises(services.LinkError):
        services.resolve_link(token, purpose=OPINION)


def test_an_avis_token_on_the_candidate_url_is_invalid(registration, issue, client):
    link = issue(registration, OPINION)
    token = urlsplit(link_url(link)).path.rstrip("/").rsplit("/", 1)[1]

    response = client.get(reverse("links:candidate_space", args=[token]))

    assert response.status_code == 404
    assert_shows_nothing_of(response, registration)


def test_a_link_whose_nonce_changed_is_invalid(registration, issue, client):
    link = issue(registration, OPINION)
    path = path_of(link)
    AccessLink.objects.filter(pk=link.pk).update(nonce="autre-nonce")

    response = client.get(path)

    assert response.status_code == 404
    assert_shows_nothing_of(response, registration)


@pytest.mark.parametrize("purpose", [OPINION, CANDIDATE])
def test_an_expired_link_shows_the_expired_page_without_data(registration, issue, client,
                                                             purpose):
    link = issue(registration, purpose)
    AccessLink.objects.filter(pk=link.pk).update(
        expires_at=timezone.now() - datetime.timedelta(minutes=1))

    response = client.get(path_of(link))

    assert response.status_code == 410
    assert "Ce lien a expiré le" in text(response)
    assert_shows_nothing_of(response, registration)


def test_issuing_a_second_link_revokes_the_first(registration, issue, client, mailoutbox):
    first = issue(registration, CANDIDATE)
    second = issue(registration, CANDIDATE)

    refused = client.get(path_of(first))
    accepted = client.get(path_of(second))

    assert refused.status_code == 410
    assert "remplacé ou révoqué" in text(refused)
    assert_shows_nothing_of(refused, registration)
    assert accepted.status_code == 200
    assert len(mailoutbox) == 2


def test_links_of_a_closed_registration_are_refused(registration, issue, client):
    opinion_link = issue(registration, OPINION)
    candidate_link = issue(registration, CANDIDATE)
    services.transition(registration=registration, to_state=RegistrationState.ABANDON,
                        reason="Départ de l'entreprise")

    for link in (opinion_link, candidate_link):
        response = client.get(path_of(link))
        assert response.status_code == 410
        assert "Ce dossier est clos." in text(response)
        assert_shows_nothing_of(response, registration)
    with pytest.raises(services.ValidationError, match="Ce dossier est clos"):
        services.issue_link(registration=registration, purpose=CANDIDATE, actor=None)


def test_link_pages_are_not_indexed_cached_or_sent_to_other_sites_as_referrer(
        registration, issue, client):
    link = issue(registration, OPINION)

    for response in (client.get(path_of(link)),
                     client.get(reverse("links:company_opinion", args=["inconnu"]))):
        assert response["Referrer-Policy"] == "same-origin"
        assert "noindex" in response["X-Robots-Tag"]
        assert "no-store" in response["Cache-Control"]
        assert '<meta name="robots" content="noindex, nofollow">' in text(response)


def test_a_logged_in_user_sees_the_same_page_without_the_app_navigation(
        registration, issue, client):
    link = issue(registration, CANDIDATE)
    client.force_login(member(centre=registration.centre))

    response = client.get(path_of(link))

    content = text(response)
    assert response.status_code == 200
    assert "Se déconnecter" not in content
    assert "Tableau de bord" not in content
    assert 'data-testid="current-user"' not in content


def test_the_avis_form_accepts_the_origin_a_browser_sends_under_our_referrer_policy(
        registration, issue):
    """Under "no-referrer" a browser sends ``Origin: null`` with the form and the CSRF check
    refuses it: the policy must let the page's own origin through."""
    link = issue(registration, OPINION)
    browser = Client(enforce_csrf_checks=True)
    browser.get(path_of(link))
    data = {**opinion_post(registration), "csrfmiddlewaretoken": browser.cookies["csrftoken"].value}

    refused = browser.post(path_of(link), data, HTTP_ORIGIN="null")
    accepted = browser.post(path_of(link), data, HTTP_ORIGIN="http://testserver")

    assert refused.status_code == 403
    assert accepted.status_code == 302
    assert CompanyOpinion.objects.count() == 1


# ---------------------------------------------------------------------------
# the company's avis
# ---------------------------------------------------------------------------
def test_the_avis_form_groups_competences_by_bloc_and_prefills_the_signer(
        registration, issue, client):
    link = issue(registration, OPINION)
    tutor = registration.tutor

    content = text(client.get(path_of(link)))

    assert content.index("B1 — Bloc 1") < content.index("C1 — Compétence 1")
    assert content.index("C2 — Compétence 2") < content.index("B2 — Bloc 2")
    assert content.index("B2 — Bloc 2") < content.index("C3 — Compétence 3")
    for level in OpinionLevel:
        assert str(level.label) in content
    assert f'value="{tutor.first_name} {tutor.last_name}"' in content
    assert f'value="{tutor.job_title}"' in content


def test_referential_text_is_shown_as_text_not_as_markup_or_template(media_root, issue,
                                                                      client):
    version = build_version(publish=False)
    Bloc.objects.filter(version=version, code="B1").update(
        title="<b>gras</b> {{ csrf_token }} {% now 'Y' %}")
    Competence.objects.filter(version=version, code="C1").update(title="<i>penché</i>")
    registration = make_registration(version=publish_version(version=version))
    link = issue(registration, OPINION)

    content = client.get(path_of(link)).content.decode()

    assert "B1 — &lt;b&gt;gras&lt;/b&gt; &#123;&#123; csrf_token &#125;&#125; &#123;% now" \
        in content
    assert "&lt;i&gt;penché&lt;/i&gt;" in content
    assert "<b>gras" not in content
    assert "<i>penché" not in content


def test_submitting_the_avis_records_it_once_and_thanks_the_tutor(registration, issue, client):
    link = issue(registration, OPINION)

    response = client.post(path_of(link), opinion_post(registration), follow=True)

    assert response.redirect_chain == [(reverse("links:company_opinion_thanks"), 302)]
    assert "Merci, l'avis de l'entreprise a été transmis" in text(response)
    opinion = CompanyOpinion.objects.get(registration=registration)
    assert opinion.overall == OverallOpinion.FAVOURABLE
    assert opinion.given_by_name == "Paul Tuteur"
    assert opinion.link_id == link.pk
    assert opinion.items.count() == registration.version.competences.count() == 4
    assert set(opinion.items.values_list("level", flat=True)) == {OpinionLevel.MASTERED}
    assert opinion.items.get(competence__code="C3").comment == "Remarque sur C3"
    assert AccessLink.objects.get(pk=link.pk).used_at is not None
    assert registration.events.filter(kind=RegistrationEvent.Kind.OPINION).count() == 1


def test_the_avis_link_cannot_be_used_twice(registration, issue, client):
    link = issue(registration, OPINION)
    client.post(path_of(link), opinion_post(registration))

    second_visit = client.get(path_of(link))
    second_post = client.post(path_of(link), opinion_post(
        registration, overall=OverallOpinion.UNFAVOURABLE, given_by_name="Quelqu'un d'autre"))

    for response in (second_visit, second_post):
        assert response.status_code == 410
        assert "Ce lien a déjà été utilisé" in text(response)
        assert_shows_nothing_of(response, registration)
    assert CompanyOpinion.objects.count() == 1
    opinion = CompanyOpinion.objects.get()
    assert (opinion.overall, opinion.given_by_name) == (OverallOpinion.FAVOURABLE, "Paul Tuteur")


def test_a_missing_appreciation_redisplays_the_form_with_everything_kept(
        registration, issue, client):
    link = issue(registration, OPINION)
    data = opinion_post(registration, skip=("C2",), given_by_name="Paul Tuteur-Modifié")
    c1 = registration.version.competences.get(code="C1")

    response = client.post(path_of(link), data)

    content = text(response)
    assert response.status_code == 200
    assert "L'avis n'a pas été transmis" in content
    assert "Choisissez une appréciation pour cette compétence." in content
    assert re.search(rf'value="{OpinionLevel.MASTERED}" id="id_level_{c1.pk}_0"[^>]*checked',
                     content)
    assert "Remarque sur C2" in content
    assert "Très bon investissement dans l'atelier." in content
    assert 'value="Paul Tuteur-Modifié"' in content
    assert f'value="{OverallOpinion.FAVOURABLE}" id="id_overall_0" autocomplete="off" checked' \
        in content
    assert CompanyOpinion.objects.count() == 0
    assert AccessLink.objects.get(pk=link.pk).used_at is None


def test_an_unknown_appreciation_is_refused(registration, issue, client):
    link = issue(registration, OPINION)
    c1 = registration.version.competences.get(code="C1")

    response = client.post(path_of(link),
                           opinion_post(registration, **{f"level_{c1.pk}": "excellent"}))

    assert response.status_code == 200
    assert CompanyOpinion.objects.count() == 0


# ---------------------------------------------------------------------------
# the candidate's space
# ---------------------------------------------------------------------------
def make_report_required(registration):
    """Plan the présentation de projets for one competence: the report becomes required."""
    modalities = {c.pk: "situation_professionnelle"
                  for c in registration.version.competences.all()}
    modalities[registration.version.competences.first().pk] = "presentation_projets"
    services.set_planned_modalities(registration=registration, modalities=modalities)


def test_the_candidate_space_shows_status_and_what_is_missing(registration, issue, client):
    make_report_required(registration)
    link = issue(registration, CANDIDATE)

    content = text(client.get(path_of(link)))

    assert "Bonjour Zoé" in content
    assert registration.version.certification.title in content
    assert registration.reference in content
    assert "Votre inscription est enregistrée" in content
    assert "Votre rapport d'activités n'a pas encore été reçu" in content
    assert "Le centre de certification complète encore votre dossier" in content
    assert "Aucun rapport d'activités reçu pour l'instant." in content


def test_a_ready_candidate_is_told_nothing_is_missing(registration, issue, client):
    make_ready(registration)
    link = issue(registration, CANDIDATE)

    content = text(client.get(path_of(link)))

    assert "vous êtes prêt(e) pour l'évaluation" in content
    assert "3 sur 4 — Évaluation" in content
    assert "Rien : aucune pièce n'est attendue de votre part pour le moment." in content


def test_the_candidate_space_shows_nothing_else_of_the_dossier(registration, issue, client):
    services.upload_document(registration=registration, kind=DocumentKind.EVIDENCE,
                             uploaded=SimpleUploadedFile("bulletin-salaire-confidentiel.pdf",
                                                         real_pdf()))
    link = issue(registration, CANDIDATE)

    response = client.get(path_of(link))

    content = text(response)
    assert response.status_code == 200
    assert NOTES not in content
    assert "bulletin-salaire-confidentiel" not in content
    assert registration.tutor.email not in content
    assert "/media/" not in content
    assert 'href="/' not in content.split("<main", 1)[1]


def test_the_candidate_uploads_a_real_pdf_through_the_link(registration, issue, client):
    make_report_required(registration)
    link = issue(registration, CANDIDATE)

    response = client.post(
        path_of(link),
        {"file": SimpleUploadedFile("mon-rapport.pdf", real_pdf(), "application/pdf")},
        follow=True,
    )

    content = text(response)
    assert response.redirect_chain == [(path_of(link), 302)]
    assert "Votre rapport d'activités a bien été reçu. Merci !" in content
    assert "mon-rapport.pdf" in content
    assert "Votre rapport d'activités n'a pas encore été reçu" not in content
    document = Document.objects.get(registration=registration)
    assert document.kind == DocumentKind.ACTIVITY_REPORT
    assert document.uploaded_via_link is True
    assert document.content_type == "application/pdf"
    event = registration.events.filter(kind=RegistrationEvent.Kind.DOCUMENT).get()
    assert event.actor_label == "candidat (lien personnel)"
    assert "mon-rapport.pdf" in event.message


def test_a_second_upload_replaces_the_report_and_keeps_the_first(registration, issue, client):
    link = issue(registration, CANDIDATE)
    client.post(path_of(link), {"file": SimpleUploadedFile("v1.pdf", real_pdf())})

    response = client.post(path_of(link), {"file": SimpleUploadedFile("v2.docx", docx())},
                           follow=True)

    assert "v2.docx" in text(response)
    assert "v1.pdf" not in text(response)
    first, second = Document.objects.order_by("version_number")
    assert (first.original_name, first.is_current) == ("v1.pdf", False)
    assert (second.original_name, second.is_current, second.version_number) == (
        "v2.docx", True, 2)


@pytest.mark.parametrize(("name", "data", "message"), [
    ("rapport.pdf", b"MZ\x90\x00\x03" + b"\x00" * 2048,
     "Ce fichier est un programme, pas un document : il est refusé."),
    ("rapport.pdf", b"", "Le fichier est vide."),
    ("rapport.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64,
     "Le rapport d'activités doit être un document PDF, DOCX ou ODT."),
    ("rapport.pdf", b"Ceci n'est qu'un texte.", "Format non reconnu"),
])
def test_a_bad_file_is_refused_with_a_french_message(registration, issue, client, name, data,
                                                     message):
    link = issue(registration, CANDIDATE)

    response = client.post(path_of(link), {"file": SimpleUploadedFile(name, data)})

    assert response.status_code == 200
    assert message in text(response)
    assert Document.objects.count() == 0


def test_a_30_mb_file_is_refused(registration, issue, client, tmp_path):
    link = issue(registration, CANDIDATE)
    big = tmp_path / "rapport.pdf"
    with big.open("wb") as handle:
        handle.write(b"%PDF-1.4\n")
        handle.truncate(30 * 1024 * 1024 - 6)
        handle.seek(0, 2)
        handle.write(b"%%EOF\n")

    with big.open("rb") as handle:
        response = client.post(path_of(link), {"file": handle})

    assert response.status_code == 200
    assert "Le fichier dépasse la taille maximale de 20 Mo." in text(response)
    assert Document.objects.count() == 0


def test_the_candidate_link_stays_usable_after_an_upload(registration, issue, client):
    link = issue(registration, CANDIDATE)
    client.post(path_of(link), {"file": SimpleUploadedFile("v1.pdf", real_pdf())})

    assert client.get(path_of(link)).status_code == 200
    assert AccessLink.objects.get(pk=link.pk).used_at is None


# ---------------------------------------------------------------------------
# reads are planned (STYLE.md §9)
# ---------------------------------------------------------------------------
@pytest.mark.parametrize(("purpose", "budget"), [(OPINION, 4), (CANDIDATE, 7)])
def test_link_pages_stay_within_a_query_budget_whatever_the_referential_size(
        media_root, issue, client, django_assert_max_num_queries, purpose, budget):
    registration = make_registration(version=build_version(blocs=4, competences=5))
    link = issue(registration, purpose)

    with django_assert_max_num_queries(budget):
        response = client.get(path_of(link))

    assert response.status_code == 200


# ---------------------------------------------------------------------------
# with the real worker (CI: PostgreSQL + Redis + celery worker started by .ci/run)
# ---------------------------------------------------------------------------
@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_the_real_worker_sends_the_link_email(media_root):
    registration = make_registration()

    link = services.issue_link(registration=registration, purpose=OPINION, actor=None)

    # Waiting on another process: poll the row the worker writes, within a deadline.
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        link.refresh_from_db()
        if link.sent_at is not None:
            break
        time.sleep(0.2)
    assert link.sent_at is not None, "le worker n'a pas envoyé l'e-mail en 20 s"
