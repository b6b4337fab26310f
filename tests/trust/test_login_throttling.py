"""Sign-in throttling (django-axes, config/login_throttling.py): five failures for one username
from one address lock that pair for a quarter of an hour, on the login page and the admin's
alike; the lock page is French (HTTP 429); a success clears the count; behind the proxy the
address is the one the proxy saw, not one the client wrote."""

import os
import subprocess
import sys
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.test import RequestFactory
from django.urls import reverse

from config.login_throttling import client_ip
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "motdepasse-solide-42"  # UserFactory's
HOME = "10.0.0.1"
ELSEWHERE = "10.0.0.2"


@pytest.fixture
def marc():
    return UserFactory(username="marc")


def sign_in(client, username, password, url=None, **extra):
    url = url or reverse("login")
    return client.post(url, {"username": username, "password": password}, **extra)


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def fail(client, times, username="marc", url=None, **extra):
    for _ in range(times):
        response = sign_in(client, username, "pas-le-bon", url=url, **extra)
    return response


def test_five_failures_lock_the_account_even_for_the_right_password(client, marc):
    assert fail(client, 4, REMOTE_ADDR=HOME).status_code == 200  # still the form

    fifth = fail(client, 1, REMOTE_ADDR=HOME)
    right = sign_in(client, "marc", PASSWORD, REMOTE_ADDR=HOME)

    assert fifth.status_code == 429
    assert right.status_code == 429
    assert not signed_in(client)
    page = right.content.decode()
    assert "Connexion suspendue" in page
    assert "la connexion est suspendue pendant 15 minutes" in page
    assert reverse("password_reset") in page


def test_the_lock_holds_for_that_username_from_that_address_only(client, marc):
    UserFactory(username="julie")
    fail(client, 5, REMOTE_ADDR=HOME)

    assert sign_in(client, "julie", PASSWORD, REMOTE_ADDR=HOME).status_code == 302
    client.logout()
    assert sign_in(client, "marc", PASSWORD, REMOTE_ADDR=ELSEWHERE).status_code == 302
    assert signed_in(client)


def test_the_admin_login_is_throttled_too(client):
    UserFactory(username="admin", is_staff=True, is_superuser=True)
    url = reverse("admin:login")
    fail(client, 5, username="admin", url=url, REMOTE_ADDR=HOME)

    response = sign_in(client, "admin", PASSWORD, url=url, REMOTE_ADDR=HOME)

    assert response.status_code == 429
    assert "Connexion suspendue" in response.content.decode()
    assert not signed_in(client)


def test_a_success_clears_the_failures(client, marc):
    fail(client, 4, REMOTE_ADDR=HOME)
    assert sign_in(client, "marc", PASSWORD, REMOTE_ADDR=HOME).status_code == 302
    client.logout()

    assert fail(client, 4, REMOTE_ADDR=HOME).status_code == 200
    assert sign_in(client, "marc", PASSWORD, REMOTE_ADDR=HOME).status_code == 302


@pytest.mark.parametrize(("minutes_ago", "status"), [(14, 429), (16, 302)])
def test_the_lock_ends_after_fifteen_minutes(client, marc, minutes_ago, status):
    fail(client, 5, REMOTE_ADDR=HOME)
    AccessAttempt.objects.update(
        attempt_time=AccessAttempt.objects.get().attempt_time - timedelta(minutes=minutes_ago))

    assert sign_in(client, "marc", PASSWORD, REMOTE_ADDR=HOME).status_code == status


def test_behind_the_proxy_each_client_has_its_own_address(client, marc, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    proxy = {"REMOTE_ADDR": "127.0.0.1"}  # every request arrives from nginx
    fail(client, 5, HTTP_X_FORWARDED_FOR="203.0.113.5", **proxy)

    # What the client itself writes in the header (left of the proxy's entry) changes nothing.
    spoofed = sign_in(client, "marc", PASSWORD,
                      HTTP_X_FORWARDED_FOR="198.51.100.99, 203.0.113.5", **proxy)
    assert spoofed.status_code == 429
    # Another person behind the same proxy is not locked out by the attacker.
    colleague = sign_in(client, "marc", PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.7", **proxy)
    assert colleague.status_code == 302


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (0, "198.51.100.7", "10.0.0.1"),  # no proxy: the header is the client's own word
        (1, "203.0.113.9, 198.51.100.7", "198.51.100.7"),
        (2, "203.0.113.9, 198.51.100.7, 10.1.1.1", "198.51.100.7"),
        (1, "", "10.0.0.1"),  # reached without the proxy
        (1, "pas-une-adresse", "10.0.0.1"),
    ],
)
def test_client_address_is_the_one_the_trusted_proxy_saw(settings, proxies, forwarded,
                                                         expected):
    settings.TRUSTED_PROXY_COUNT = proxies
    request = RequestFactory().post("/", REMOTE_ADDR="10.0.0.1",
                                    HTTP_X_FORWARDED_FOR=forwarded)

    assert client_ip(request) == expected


def _settings_in_production(**env) -> list[str]:
    code = ("import django; from django.conf import settings; django.setup(); "
            "print(settings.AXES_FAILURE_LIMIT, settings.TRUSTED_PROXY_COUNT)")
    inherited = {key: os.environ[key] for key in ("PATH", "HOME") if key in os.environ}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=settings.BASE_DIR, capture_output=True, text=True,
        env={**inherited, "DJANGO_SETTINGS_MODULE": "config.settings", "DEBUG": "0",
             "SECRET_KEY": "x" * 60, **env},
        timeout=120, check=True)
    return result.stdout.split()


def test_failure_limit_and_proxy_count_come_from_the_environment():
    assert _settings_in_production() == ["5", "1"]
    assert _settings_in_production(AXES_FAILURE_LIMIT="3", TRUSTED_PROXY_COUNT="2") == ["3", "2"]
