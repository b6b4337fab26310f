"""The public verify page resists abuse (issue 8): lookups are counted per address and the
one past the limit gets a French 429 page that tells nothing about any code; an unknown code
and a malformed one get the same 404 page after the same lookup, so that trying codes teaches
nothing (codes are ~100 bits, evaluations.models.new_verification_code)."""

import random
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.html import escape

from evaluations.models import GeneratedDocument, new_verification_code

pytestmark = pytest.mark.django_db

LIMIT = 4


@pytest.fixture
def address(settings) -> str:
    """A limit of LIMIT lookups a day for this test's own address: a fresh count whatever
    the earlier tests (or an earlier run on a shared cache) did, and no window boundary to
    cross while the test runs."""
    settings.RATELIMIT_RATES = {**settings.RATELIMIT_RATES, "VERIFY": f"{LIMIT}/d"}
    settings.TRUSTED_PROXY_COUNT = 0
    return f"10.{random.randrange(256)}.{random.randrange(256)}.{random.randrange(1, 255)}"


def verify(client, code: str, address: str):
    return client.get(reverse("verify", args=[code]), REMOTE_ADDR=address)


@pytest.fixture
def document(signed) -> GeneratedDocument:
    return GeneratedDocument.objects.get(grid=signed)


def test_lookups_past_the_limit_get_a_french_429(client, document, address):
    codes = [document.verification_code, new_verification_code(), "pas-un-code",
             document.verification_code]
    assert [verify(client, code, address).status_code for code in codes] == [200, 404, 404, 200]

    response = verify(client, document.verification_code, address)

    page = response.content.decode()
    assert response.status_code == 429
    assert 'data-testid="verify-limited"' in page
    assert "Trop de vérifications" in page
    assert "Patientez une minute avant de vérifier un autre code." in page
    assert response["Retry-After"] == "60"
    assert "no-store" in response["Cache-Control"]
    # Nothing of the document, not even whether the code exists.
    for secret in (document.content_sha256, document.grid.snapshot["candidate"]["name"],
                   "Document authentique", "Code inconnu"):
        assert secret not in page
    assert verify(client, new_verification_code(), address).status_code == 429


def test_the_limit_is_per_address(client, document, address):
    for _ in range(LIMIT + 1):
        verify(client, document.verification_code, address)
    assert verify(client, document.verification_code, address).status_code == 429

    other = "192.0.2.77" if address != "192.0.2.77" else "192.0.2.78"
    assert verify(client, document.verification_code, other).status_code == 200


def test_the_rate_is_a_setting(client, document, address, settings):
    settings.RATELIMIT_RATES = {**settings.RATELIMIT_RATES, "VERIFY": "1/d"}

    assert verify(client, document.verification_code, address).status_code == 200
    assert verify(client, document.verification_code, address).status_code == 429


def shape(response, code: str) -> str:
    """The page with the typed code (echoed back) and per-request tokens taken out."""
    body = response.content.decode().replace(str(escape(code)), "CODE").replace(code, "CODE")
    body = re.sub(r'"X-CSRFToken": "\w+"', "", body)
    return re.sub(r'nonce="[^"]*"', "", body)


MALFORMED = ["pas-un-code", "ABC", "AAAAA-BBBBB-CCCCC-DDDD1", "A" * 300, "<script>alert(1)",
             "AAAAA_BBBBB_CCCCC_DDDDD"]


@pytest.mark.parametrize("malformed", MALFORMED)
def test_unknown_and_malformed_codes_get_the_same_answer(client, document, malformed):
    unknown = new_verification_code()

    unknown_response = client.get(reverse("verify", args=[unknown]))
    malformed_response = client.get(reverse("verify", args=[malformed]))

    assert unknown_response.status_code == malformed_response.status_code == 404
    assert shape(unknown_response, unknown) == shape(malformed_response, malformed)
    assert dict(unknown_response.headers).keys() == dict(malformed_response.headers).keys()


@pytest.mark.parametrize("malformed", MALFORMED)
def test_unknown_and_malformed_codes_run_the_same_lookup(client, document, malformed):
    unknown = new_verification_code()

    with CaptureQueriesContext(connection) as for_unknown:
        client.get(reverse("verify", args=[unknown]))
    with CaptureQueriesContext(connection) as for_malformed:
        client.get(reverse("verify", args=[malformed]))

    def statements(context, code):
        return [re.sub(r"'[^']*'", "?", q["sql"].replace(code, "")) for q in context]

    assert len(for_unknown) == len(for_malformed) == 1
    assert statements(for_unknown, unknown) == statements(for_malformed, malformed)


def test_a_malformed_code_is_not_redirected(client, db):
    response = client.get(reverse("verify", args=["abc"]))

    assert response.status_code == 404
    assert 'data-testid="verify-unknown"' in response.content.decode()
