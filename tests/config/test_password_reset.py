"""Password reset pages use the site layout (evaluators choose their first password there)."""

import re

import pytest
from django.core import mail
from django.test import RequestFactory
from django.urls import reverse

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_password_reset_journey_in_the_site_layout(client):
    UserFactory(username="marc", email="marc@example.org")
    page = client.get(reverse("password_reset"))
    assert "Mot de passe oublié" in page.content.decode()
    assert "vendor/bootstrap" in page.content.decode()
    done = client.post(reverse("password_reset"), {"email": "marc@example.org"}, follow=True)
    assert "Vérifiez votre messagerie" in done.content.decode()
    link = re.search(r"https?://[^\s]+/reset/[^\s]+/", mail.outbox[0].body).group(0)
    form = client.get(link.split("testserver")[-1], follow=True)
    assert "Choisir un mot de passe" in form.content.decode()
    saved = client.post(form.redirect_chain[-1][0], {
        "new_password1": "un-nouveau-mot-de-passe-solide", "new_password2":
        "un-nouveau-mot-de-passe-solide"}, follow=True)
    assert "Mot de passe enregistré" in saved.content.decode()
    # django-axes checks every sign-in against its request: give it one.
    assert client.login(request=RequestFactory().post("/accounts/login/"), username="marc",
                        password="un-nouveau-mot-de-passe-solide")
