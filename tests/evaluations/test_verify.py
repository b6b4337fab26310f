"""The public verification page (issue 5): anyone holding a signed grid checks that it is
authentic and still valid, and learns the minimum — certification, date, candidate's name,
signatories — never a grade nor other personal data; an unknown code tells nothing."""

import re

import pytest
from django.urls import reverse
from django.utils import dateformat, timezone

from evaluations import services
from evaluations.models import GeneratedDocument
from evaluations.views_documents import normalise_code
from tests.evaluations.conftest import NM_COMMENT, competence_row, save, sign


def verify_url(code: str) -> str:
    return reverse("verify", args=[code])


def body(response) -> str:
    return response.content.decode()


@pytest.fixture
def document(signed) -> GeneratedDocument:
    return GeneratedDocument.objects.get(grid=signed)


def test_valid_code_shows_authentic_document_to_anyone(client, signed, document, version):
    response = client.get(verify_url(document.verification_code))

    page = body(response)
    assert response.status_code == 200
    assert 'data-testid="verify-valid"' in page
    assert "Document authentique et valide" in page
    assert "Grille d&#x27;évaluation signée" in page
    certification = version.certification
    assert f"{certification.kind} {certification.code}" in page
    assert certification.title.replace("'", "&#x27;") in page
    assert dateformat.format(signed.scheduled.commission.date, "j F Y") in page
    assert signed.snapshot["candidate"]["name"] in page
    for signature in signed.signatures.all():
        assert signature.signer_name in page
        assert dateformat.format(timezone.localtime(signature.signed_at), "j F Y à H:i") in page
    assert document.content_sha256 in page
    assert '<meta name="robots" content="noindex">' in page
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    assert "no-store" in response["Cache-Control"]


def test_valid_code_shows_no_grade_nor_other_personal_data(client, signed, document):
    # The code itself is printed on the page and may contain any letters (« NM », « OUI »…),
    # and so may the page's random tokens (CSRF, in the htmx headers): both are taken out.
    page = body(client.get(verify_url(document.verification_code))).replace(
        document.verification_code, "")
    page = re.sub(r"[A-Za-z0-9_-]{32,}", "", page)

    snapshot = signed.snapshot
    for secret in ["Non maîtrisée", "Maîtrisée", "NM", NM_COMMENT[:30], "Diagnostic guidé",
                   "1995", "17 mai", snapshot["candidate"]["reference"], snapshot["company"],
                   "Oui", "Non", "192.0.2.10", "tablette"]:
        assert secret not in page, secret


def test_code_is_normalised(client, document):
    code = document.verification_code

    typed = " " + code.lower().replace("-", " ") + " "
    response = client.get(reverse("verify_form"), {"code": typed})
    assert response.status_code == 302
    assert response["Location"] == verify_url(code)

    response = client.get(verify_url(code.replace("-", "").lower()))
    assert response.status_code == 302
    assert response["Location"] == verify_url(code)
    assert normalise_code(f"  {code.lower()} ") == code


def test_unknown_code_is_404_and_tells_nothing(client, signed, document):
    response = client.get(verify_url("AAAAA-BBBBB-CCCCC-DDDDD"))

    page = body(response)
    assert response.status_code == 404
    assert "Code inconnu" in page
    assert 'data-testid="verify-unknown"' in page
    assert '<meta name="robots" content="noindex">' in page
    for secret in [signed.snapshot["candidate"]["name"], signed.snapshot["certification"]["code"],
                   document.content_sha256, *[s.signer_name for s in signed.signatures.all()]]:
        assert secret not in page


def test_a_code_one_character_off_looks_like_any_unknown_code(client, document):
    real = document.verification_code
    near = real[:-1] + ("A" if real[-1] != "A" else "B")
    far = "ZZZZZ-ZZZZZ-ZZZZZ-ZZZZZ"

    near_response = client.get(verify_url(near))
    far_response = client.get(verify_url(far))

    def shape(response, code):
        return re.sub(r'"X-CSRFToken": "\w+"', "", body(response).replace(code, "CODE"))

    assert near_response.status_code == far_response.status_code == 404
    assert shape(near_response, near) == shape(far_response, far)


def test_reopened_grid_makes_the_old_code_no_longer_valid(client, signed, document, staff):
    services.reopen_grid(grid=signed, actor=staff, reason="Erreur de saisie sur C3.")
    signed.refresh_from_db()

    response = client.get(verify_url(document.verification_code))

    page = body(response)
    assert response.status_code == 200
    assert 'data-testid="verify-replaced"' in page
    reopened = dateformat.format(timezone.localtime(signed.reopened_at), "j F Y")
    assert (f"Ce document n'est plus valide : la grille a été rouverte le {reopened} ; "
            "un nouveau document le remplace.") in page
    for secret in [signed.scheduled.registration.candidate.full_name, "Erreur de saisie",
                   document.content_sha256, "Marc Durand", "Sophie Martin"]:
        assert secret not in page
    assert 'data-testid="verify-valid"' not in page


def test_grid_signed_again_with_new_content_replaces_the_old_document(
        client, signed, document, staff, president, president_member, assessor_member):
    grid = services.reopen_grid(grid=signed, actor=staff, reason="Commentaire à préciser.")
    row = competence_row(grid, "C2")
    save(grid, row, "comment", NM_COMMENT + " Reprise du diagnostic conseillée.", president.user)
    services.submit_for_signature(grid=grid, actor=president.user)
    sign(grid, president_member)
    new_document = sign(grid, assessor_member).document

    assert new_document.pk != document.pk
    old = body(client.get(verify_url(document.verification_code)))
    new = body(client.get(verify_url(new_document.verification_code)))
    assert 'data-testid="verify-replaced"' in old
    assert 'data-testid="verify-valid"' in new
    assert new_document.content_sha256 in new


def test_verify_form_is_public(client, db):
    response = client.get(reverse("verify_form"))

    page = body(response)
    assert response.status_code == 200
    assert 'name="code"' in page
    assert '<meta name="robots" content="noindex">' in page


def test_verify_form_asks_for_a_code_when_empty(client, db):
    response = client.get(reverse("verify_form"), {"code": "   "})

    assert response.status_code == 200
    assert "Saisissez le code imprimé sur le document." in body(response)


def test_verify_page_queries_stay_few(client, document, django_assert_max_num_queries):
    # The document with its grid and whether it is still the current one; its signatures;
    # the grid's live content, to check that the document still matches it.
    with django_assert_max_num_queries(3):
        response = client.get(verify_url(document.verification_code))

    assert response.status_code == 200
