"""EMAIL_URL and the other environment readers of config/env.py."""

import pytest

from config.env import env_bool, env_list, parse_email_url

SMTP = "django.core.mail.backends.smtp.EmailBackend"


@pytest.mark.parametrize(
    ("url", "backend"),
    [
        ("console:", "django.core.mail.backends.console.EmailBackend"),
        ("locmem:", "django.core.mail.backends.locmem.EmailBackend"),
        ("dummy:", "django.core.mail.backends.dummy.EmailBackend"),
    ],
)
def test_development_email_urls_only_choose_a_backend(url, backend):
    assert parse_email_url(url) == {"EMAIL_BACKEND": backend}


def test_smtp_url_with_credentials_and_starttls():
    assert parse_email_url("smtp://certif%40uimm.fr:s3cr%2Ft@mail.example.org:587?tls=1") == {
        "EMAIL_BACKEND": SMTP,
        "EMAIL_HOST": "mail.example.org",
        "EMAIL_PORT": 587,
        "EMAIL_HOST_USER": "certif@uimm.fr",
        "EMAIL_HOST_PASSWORD": "s3cr/t",
        "EMAIL_USE_SSL": False,
        "EMAIL_USE_TLS": True,
    }


def test_smtp_url_without_port_or_credentials_is_a_plain_relay():
    assert parse_email_url("smtp://localhost") == {
        "EMAIL_BACKEND": SMTP,
        "EMAIL_HOST": "localhost",
        "EMAIL_PORT": 25,
        "EMAIL_HOST_USER": "",
        "EMAIL_HOST_PASSWORD": "",
        "EMAIL_USE_SSL": False,
        "EMAIL_USE_TLS": False,
    }


@pytest.mark.parametrize(
    ("url", "port", "ssl", "tls"),
    [
        ("smtps://relay.example.org", 465, True, False),
        ("submission://relay.example.org", 587, False, True),
        ("smtp://relay.example.org:2525?ssl=oui", 2525, True, False),
    ],
)
def test_secure_smtp_schemes_pick_their_port_and_encryption(url, port, ssl, tls):
    result = parse_email_url(url)

    assert (result["EMAIL_PORT"], result["EMAIL_USE_SSL"], result["EMAIL_USE_TLS"]) == (
        port,
        ssl,
        tls,
    )


def test_file_url_writes_messages_to_a_directory():
    assert parse_email_url("file:///var/tmp/mails") == {
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": "/var/tmp/mails",
    }


def test_unknown_email_scheme_is_refused():
    with pytest.raises(ValueError, match="unsupported scheme"):
        parse_email_url("sendmail://localhost")


@pytest.mark.parametrize(
    ("value", "expected"),
    [("1", True), ("oui", True), ("True", True), ("0", False), ("non", False), ("", True)],
)
def test_env_bool_reads_french_and_english_and_keeps_default_when_empty(
    monkeypatch, value, expected
):
    monkeypatch.setenv("SOME_FLAG", value)

    assert env_bool("SOME_FLAG", default=True) is expected


def test_env_list_splits_on_commas_and_drops_blanks(monkeypatch):
    monkeypatch.setenv("SOME_HOSTS", " certif.example.org, ,www.example.org ")

    assert env_list("SOME_HOSTS") == ["certif.example.org", "www.example.org"]
