"""Demo accounts and their password « demo » exist only where DEBUG is on."""

import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command
from django.test import RequestFactory

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def signs_in(username: str, password: str) -> bool:
    # django-axes checks every sign-in against its request: give it one.
    request = RequestFactory().post("/accounts/login/")
    return authenticate(request, username=username, password=password) is not None


def test_demo_password_is_refused_when_debug_is_off(settings):
    UserFactory(username="gestionnaire", password="demo")
    settings.DEMO_PASSWORD_ALLOWED = True
    assert signs_in("gestionnaire", "demo")
    settings.DEMO_PASSWORD_ALLOWED = False
    assert not signs_in("gestionnaire", "demo")


def test_demo_password_follows_debug_from_the_environment():
    import subprocess
    import sys

    code = ("import os; os.environ.update(DEBUG='0', SECRET_KEY='x' * 60); "
            "import django; from django.conf import settings; "
            "os.environ['DJANGO_SETTINGS_MODULE'] = 'config.settings'; django.setup(); "
            "print(settings.DEMO_PASSWORD_ALLOWED)")
    env = {"PATH": "/usr/bin:/bin", "HOME": "/tmp"}
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env=env, check=True).stdout
    assert output.strip() == "False"


def test_other_passwords_still_work_when_debug_is_off(settings):
    UserFactory(username="claire", password="un-vrai-mot-de-passe-long")
    settings.DEMO_PASSWORD_ALLOWED = False
    assert signs_in("claire", "un-vrai-mot-de-passe-long")


def test_seed_demo_refuses_to_run_when_debug_is_off(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="refusés quand DEBUG est désactivé"):
        call_command("seed_demo")
