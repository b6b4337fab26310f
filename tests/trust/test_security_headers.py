"""Production settings (DEBUG off) protect cookies and send the security headers: HTTPS only
(redirect + HSTS), no framing, no MIME sniffing, a same-origin referrer and opener, and a
Content-Security-Policy that allows no inline script or style."""

import json
import os
import re
import subprocess
import sys

import pytest
from django.conf import settings
from django.test import override_settings
from django.urls import reverse

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PRODUCTION_KEYS = [
    "DEBUG", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SESSION_COOKIE_HTTPONLY",
    "SESSION_COOKIE_SAMESITE", "CSRF_COOKIE_SAMESITE", "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS", "SECURE_SSL_REDIRECT", "SECURE_PROXY_SSL_HEADER",
    "SECURE_CONTENT_TYPE_NOSNIFF", "SECURE_REFERRER_POLICY", "SECURE_CROSS_ORIGIN_OPENER_POLICY",
    "X_FRAME_OPTIONS", "CONTENT_SECURITY_POLICY", "MIDDLEWARE",
]
EXPECTED_CSP = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}
HTTPS = {"HTTP_X_FORWARDED_PROTO": "https"}  # as the reverse proxy announces it


def load_settings(**env) -> dict:
    """The settings a fresh interpreter reads from this environment (read once, at import)."""
    code = ("import json, django; from django.conf import settings; django.setup(); "
            f"print(json.dumps({{k: getattr(settings, k) for k in {PRODUCTION_KEYS!r}}}))")
    inherited = {key: os.environ[key] for key in ("PATH", "HOME") if key in os.environ}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=settings.BASE_DIR, capture_output=True, text=True,
        env={**inherited, "DJANGO_SETTINGS_MODULE": "config.settings", **env},
        timeout=120, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def production() -> dict:
    values = load_settings(DEBUG="0", SECRET_KEY="x" * 60, ALLOWED_HOSTS="certif.example.org")
    values["SECURE_PROXY_SSL_HEADER"] = tuple(values["SECURE_PROXY_SSL_HEADER"])
    return values


def test_production_cookies_are_secure_http_only_and_same_site(production):
    assert production["DEBUG"] is False
    assert production["SESSION_COOKIE_SECURE"] is True
    assert production["CSRF_COOKIE_SECURE"] is True
    assert production["SESSION_COOKIE_HTTPONLY"] is True
    assert production["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert production["CSRF_COOKIE_SAMESITE"] == "Lax"


def test_production_forces_https_and_forbids_framing(production):
    assert production["SECURE_SSL_REDIRECT"] is True
    assert production["SECURE_HSTS_SECONDS"] >= 365 * 24 * 3600
    assert production["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert production["SECURE_PROXY_SSL_HEADER"] == ("HTTP_X_FORWARDED_PROTO", "https")
    assert production["X_FRAME_OPTIONS"] == "DENY"
    assert production["SECURE_CONTENT_TYPE_NOSNIFF"] is True


def test_a_laptop_serves_plain_http():
    laptop = load_settings(DEBUG="1")

    assert laptop["SECURE_SSL_REDIRECT"] is False
    assert laptop["SESSION_COOKIE_SECURE"] is False
    assert laptop["SECURE_HSTS_SECONDS"] == 0


@pytest.fixture
def as_in_production(production):
    """This test process, switched to the production values of the security settings."""
    keys = [k for k in PRODUCTION_KEYS if k not in ("MIDDLEWARE", "DEBUG")]
    with override_settings(**{k: production[k] for k in keys}):
        yield


def csp_directives(response) -> dict:
    header = response["Content-Security-Policy"]
    return dict(part.strip().split(" ", 1) for part in header.split(";") if part.strip())


def test_plain_http_is_redirected_to_https(client, as_in_production):
    response = client.get(reverse("login"))

    assert response.status_code == 301
    assert response["Location"] == "https://testserver/accounts/login/"


def test_https_responses_carry_the_security_headers(client, as_in_production):
    response = client.get(reverse("login"), **HTTPS)

    assert response.status_code == 200
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert csp_directives(response) == EXPECTED_CSP


def test_cookies_are_sent_secure_http_only_and_same_site(client, as_in_production):
    UserFactory(username="marc")
    page = client.get(reverse("login"), **HTTPS)
    csrf = page.cookies["csrftoken"]
    signed_in = client.post(reverse("login"), {
        "username": "marc", "password": "motdepasse-solide-42",
        "csrfmiddlewaretoken": csrf.value}, **HTTPS)
    session = signed_in.cookies["sessionid"]

    assert signed_in.status_code == 302
    assert csrf["secure"] and csrf["samesite"] == "Lax"
    assert session["secure"] and session["httponly"] and session["samesite"] == "Lax"


def test_the_production_policy_is_the_one_tested(production):
    assert "csp.middleware.CSPMiddleware" in production["MIDDLEWARE"]
    directives = production["CONTENT_SECURITY_POLICY"]["DIRECTIVES"]
    assert {name: " ".join(values) for name, values in directives.items()} == EXPECTED_CSP


@pytest.mark.parametrize("url", ["/admin/login/", "/verify/", "/lien/candidat/jeton-inconnu/",
                                 "/page-absente/"])
def test_every_kind_of_page_carries_the_policy(client, url):
    response = client.get(url)

    assert csp_directives(response) == EXPECTED_CSP


# What a CSP without 'unsafe-inline' would refuse to run or apply. JSON data blocks
# (json_script: <script type="application/json">) are not executed, hence allowed.
INLINE = [
    (re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>"),
     "inline <script>"),
    (re.compile(r"<[a-zA-Z][^>]*\son[a-z]+\s*=", re.DOTALL), "on…= handler"),
    (re.compile(r"<[a-zA-Z][^>]*\sstyle\s*=", re.DOTALL), "style= attribute"),
    (re.compile(r"<style[\s>]"), "<style> block"),
    (re.compile(r"javascript:", re.IGNORECASE), "javascript: URL"),
]


def test_templates_hold_no_inline_script_style_or_handler():
    found = []
    for path in sorted((settings.BASE_DIR / "templates").rglob("*.html")):
        text = path.read_text()
        found += [f"{path.relative_to(settings.BASE_DIR)}: {what}"
                  for pattern, what in INLINE if pattern.search(text)]

    assert found == []
