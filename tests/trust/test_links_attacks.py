"""Attacks on personal links (config/links.py and the rows that own them): a guessed, altered
or forged token, a token moved to another page, a link expired, revoked by staff, or whose
purpose is done. Each is refused with a French page — 404 when the token is not a link for
this page, 410 when it was one and no longer serves — that shows nothing of the person, and
a form posted through it records nothing.

What tests/candidates/test_links.py and tests/commissions/test_convocations.py already prove
(guessed token, cross-purpose tokens, changed nonce, expiry on GET, avis given twice,
convocation of a past commission) is not repeated here."""

import datetime
import html
import secrets

import pytest
from django.core import signing
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from candidates import services
from candidates.models import (
    AccessLink,
    Candidate,
    CompanyOpinion,
    Document,
    LinkPurpose,
    OpinionLevel,
    OverallOpinion,
    Registration,
    RegistrationState,
)
from candidates.tasks import URL_NAMES
from certifications.models import Role
from commissions.tasks import CONVOCATION_PURPOSE
from config.links import make_token, read_token
from tests.factories import (
    make_commission,
    make_evaluator,
    make_ready,
    make_registration,
    member,
)

pytestmark = pytest.mark.django_db

CANDIDATE = LinkPurpose.CANDIDATE_UPLOAD
OPINION = LinkPurpose.COMPANY_OPINION
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def registration(media_root):
    registration = make_registration()
    Candidate.objects.filter(pk=registration.candidate_id).update(
        birth_name="Lemarchand", first_names="Zoé", email="zoe.lemarchand@example.org")
    registration.candidate.refresh_from_db()
    return registration


def issue(registration, purpose) -> AccessLink:
    return services.issue_link(registration=registration, purpose=purpose, actor=None)


def token_of(link) -> str:
    return make_token(link_id=link.pk, nonce=link.nonce, purpose=link.purpose)


def page(purpose, token) -> str:
    return reverse(URL_NAMES[purpose], args=[token])


def text(response) -> str:
    return html.unescape(response.content.decode())


def personal_data(registration) -> list[str]:
    candidate, tutor = registration.candidate, registration.tutor
    return ["Lemarchand", "LEMARCHAND", "Zoé", candidate.email, registration.reference,
            tutor.last_name, tutor.email, registration.company.name]


def assert_refused(response, registration, status, sentence):
    assert response.status_code == status
    content = text(response)
    assert sentence in content
    for private in personal_data(registration):
        assert private not in content
    assert "no-store" in response["Cache-Control"]


def form_data(registration, purpose) -> dict:
    if purpose == CANDIDATE:
        return {"file": SimpleUploadedFile("rapport.pdf", PDF)}
    data = {"overall": OverallOpinion.FAVOURABLE, "given_by_name": "Intrus",
            "given_by_function": "Aucune"}
    for competence in registration.version.competences.all():
        data[f"level_{competence.pk}"] = OpinionLevel.MASTERED
    return data


def nothing_recorded() -> bool:
    return not Document.objects.exists() and not CompanyOpinion.objects.exists()


# ---------------------------------------------------------------------------
# Forged tokens: 404, whatever the way
# ---------------------------------------------------------------------------
def _other_signature(token, link, other):
    """The payload of another link glued to this link's valid signature."""
    return token_of(other).rsplit(":", 1)[0] + ":" + token.rsplit(":", 1)[1]


def _changed_id(token, link, other):
    """The id inside the payload changed (re-encoded as we would), signature kept."""
    payload = signing.Signer(key="x" * 50).sign_object(
        {"i": other.pk, "n": link.nonce}, compress=True).rsplit(":", 1)[0]
    return payload + ":" + token.rsplit(":", 1)[1]


FORGERIES = {
    "random": lambda token, link, other: secrets.token_urlsafe(40),
    "last character changed": lambda token, link, other:
        token[:-1] + ("A" if token[-1] != "A" else "B"),
    "signature dropped": lambda token, link, other: token.rsplit(":", 1)[0],
    "signature of another link": _other_signature,
    "id changed": _changed_id,
    "signed with another key": lambda token, link, other: signing.Signer(
        key="pas-notre-secret-" * 3, salt=f"link:{link.purpose}",
    ).sign_object({"i": link.pk, "n": link.nonce}, compress=True),
    "very long": lambda token, link, other: token + "A" * 5000,
}


@pytest.mark.parametrize("purpose", [CANDIDATE, OPINION])
@pytest.mark.parametrize("forgery", FORGERIES)
def test_a_forged_token_is_not_found_and_records_nothing(registration, client, purpose,
                                                         forgery):
    link = issue(registration, purpose)
    other = issue(make_registration(), purpose)
    token = FORGERIES[forgery](token_of(link), link, other)

    shown = client.get(page(purpose, token))
    posted = client.post(page(purpose, token), form_data(registration, purpose))

    for response in (shown, posted):
        assert_refused(response, registration, 404, "Ce lien n'est pas valide")
    assert nothing_recorded()


def test_the_token_reader_refuses_what_it_did_not_sign_for_that_purpose(registration):
    link = issue(registration, CANDIDATE)
    token = token_of(link)

    assert read_token(token, purpose=CANDIDATE) == {"i": link.pk, "n": link.nonce}
    assert read_token(token, purpose=OPINION) is None
    assert read_token(token, purpose=CONVOCATION_PURPOSE) is None
    assert read_token(token + "x", purpose=CANDIDATE) is None
    assert read_token("A" * 5000, purpose=CANDIDATE) is None
    # Signed by us, but not a link payload (a token of another signer with the same salt).
    assert read_token(signing.Signer(salt="link:candidate").sign_object(
        {"i": True, "n": link.nonce}), purpose=CANDIDATE) is None


def test_the_same_link_always_has_the_same_address(registration):
    """No date in the token: the row says until when it serves."""
    link = issue(registration, CANDIDATE)
    assert token_of(link) == token_of(AccessLink.objects.get(pk=link.pk))


# ---------------------------------------------------------------------------
# Re-targeting: a valid token on another page
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("purpose", [CANDIDATE, OPINION])
def test_a_convocation_token_with_the_same_id_is_unknown_to_the_link_pages(registration,
                                                                            client, purpose):
    link = issue(registration, purpose)
    token = make_token(link_id=link.pk, nonce=link.nonce, purpose=CONVOCATION_PURPOSE)

    response = client.post(page(purpose, token), form_data(registration, purpose))

    assert_refused(response, registration, 404, "Ce lien n'est pas valide")
    assert nothing_recorded()


def test_an_avis_token_posted_to_the_candidate_page_uploads_nothing(registration, client):
    link = issue(registration, OPINION)

    response = client.post(page(CANDIDATE, token_of(link)), form_data(registration, CANDIDATE))

    assert_refused(response, registration, 404, "Ce lien n'est pas valide")
    assert nothing_recorded()


@pytest.fixture
def convocation(media_root):
    """A confirmed commission with two evaluators, and the first one's member row."""
    registration = make_ready(make_registration())
    certification = registration.version.certification
    president, assessor = (make_evaluator(centre=registration.centre,
                                          certifications=[certification]) for _ in range(2))
    commission = make_commission(centre=registration.centre, certifications=[certification],
                                 members=[president, assessor], registrations=[registration],
                                 confirm=True)
    return commission.members.get(evaluator=president), registration


def test_a_candidate_link_token_is_unknown_to_the_convocation_page(convocation, client):
    member_row, registration = convocation
    link = issue(registration, CANDIDATE)
    client.force_login(member_row.evaluator.user)

    for token in (token_of(link),
                  make_token(link_id=member_row.pk, nonce=member_row.link_nonce,
                             purpose=CANDIDATE)):
        response = client.get(reverse("commissions:convocation_answer", args=[token]))
        assert response.status_code == 404
        assert registration.candidate.birth_name not in text(response)


@pytest.mark.parametrize("forgery", ["random", "last character changed", "id changed",
                                     "signed with another key"])
def test_a_forged_convocation_token_is_not_found(convocation, client, forgery):
    member_row, registration = convocation
    other = convocation[0].commission.members.exclude(pk=member_row.pk).get()
    token = make_token(link_id=member_row.pk, nonce=member_row.link_nonce,
                       purpose=CONVOCATION_PURPOSE)
    member_row.purpose = CONVOCATION_PURPOSE  # what the forgeries read from a link
    member_row.nonce = member_row.link_nonce
    client.force_login(member_row.evaluator.user)

    forged = FORGERIES[forgery](token, member_row, other)
    response = client.post(reverse("commissions:convocation_answer", args=[forged]),
                           {"answer": "declined"})

    assert response.status_code == 404
    assert "Page introuvable" in text(response)
    assert registration.candidate.birth_name not in text(response)
    member_row.refresh_from_db()
    assert member_row.answered_at is None


# ---------------------------------------------------------------------------
# Expired, revoked, purpose done: 410, and the form records nothing
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("purpose", [CANDIDATE, OPINION])
def test_a_form_posted_through_an_expired_link_records_nothing(registration, client, purpose):
    link = issue(registration, purpose)
    AccessLink.objects.filter(pk=link.pk).update(
        expires_at=timezone.now() - datetime.timedelta(seconds=1))

    response = client.post(page(purpose, token_of(link)), form_data(registration, purpose))

    assert_refused(response, registration, 410, "Ce lien a expiré le")
    assert nothing_recorded()


@pytest.mark.parametrize("purpose", [CANDIDATE, OPINION])
def test_a_link_revoked_by_staff_is_refused_at_once(registration, client, purpose):
    link = issue(registration, purpose)
    token = token_of(link)
    assert client.get(page(purpose, token)).status_code == 200
    staff = client.__class__()
    staff.force_login(member(Role.STAFF, centre=registration.centre))

    staff.post(reverse("candidates:link_revoke", args=[link.pk]))

    assert AccessLink.objects.get(pk=link.pk).revoked_at is not None
    for response in (client.get(page(purpose, token)),
                     client.post(page(purpose, token), form_data(registration, purpose))):
        assert_refused(response, registration, 410, "remplacé ou révoqué")
    assert nothing_recorded()


def test_staff_of_another_centre_cannot_revoke_a_link(registration, client):
    link = issue(registration, CANDIDATE)
    client.force_login(member(Role.STAFF))

    response = client.post(reverse("candidates:link_revoke", args=[link.pk]))

    assert response.status_code == 404
    assert AccessLink.objects.get(pk=link.pk).revoked_at is None


def test_the_candidate_link_takes_no_report_once_the_evaluation_took_place(registration,
                                                                           client):
    link = issue(registration, CANDIDATE)
    Registration.objects.filter(pk=registration.pk).update(state=RegistrationState.EVALUE)

    shown = client.get(page(CANDIDATE, token_of(link)))
    posted = client.post(page(CANDIDATE, token_of(link)), form_data(registration, CANDIDATE))

    assert shown.status_code == 200
    assert "le dépôt du rapport d'activités est clos" in text(shown)
    assert 'type="file"' not in text(shown)
    assert_refused(posted, registration, 410, "Le dépôt du rapport d'activités est clos")
    assert not Document.objects.exists()


def test_the_avis_link_is_spent_even_when_the_avis_arrived_another_way(registration, client):
    """The purpose is done once the registration has its avis, whichever link brought it."""
    first = issue(registration, OPINION)
    client.post(page(OPINION, token_of(first)), form_data(registration, OPINION))
    second = AccessLink.objects.create(
        registration=registration, purpose=OPINION, email=registration.tutor.email,
        expires_at=timezone.now() + datetime.timedelta(days=3))

    shown = client.get(page(OPINION, token_of(second)))
    posted = client.post(page(OPINION, token_of(second)), {
        **form_data(registration, OPINION), "overall": OverallOpinion.UNFAVOURABLE})

    for response in (shown, posted):
        assert_refused(response, registration, 410, "déjà été reçu")
        assert "Transmettre l'avis" not in text(response)
    assert CompanyOpinion.objects.get().overall == OverallOpinion.FAVOURABLE
