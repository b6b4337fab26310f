"""Strong passwords (AUTH_PASSWORD_VALIDATORS): at least 12 characters, not a common one, not
only digits, not close to the person's name — refused with French messages where a password
is chosen (the link of the reset e-mail, which evaluators use for their first password) or
changed."""

import re

import pytest
from django.contrib.auth.password_validation import get_default_password_validators
from django.core import mail
from django.urls import reverse

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

OLD = "motdepasse-solide-42"  # UserFactory's
WEAK = [
    ("court", "Ce mot de passe est trop court. Il doit contenir au minimum 12 caractères."),
    ("password1234", "Ce mot de passe est trop courant."),
    ("123456789012", "Ce mot de passe est entièrement numérique."),
    ("marc.dupont2024", "Le mot de passe est trop semblable au champ «\xa0nom d’utilisateur\xa0»."),
]


@pytest.fixture
def marc():
    return UserFactory(username="marc.dupont", first_name="Marc", last_name="Dupont",
                       email="marc@example.org")


def test_the_four_validators_are_active():
    validators = {type(v).__name__: v for v in get_default_password_validators()}

    assert set(validators) == {"UserAttributeSimilarityValidator", "MinimumLengthValidator",
                               "CommonPasswordValidator", "NumericPasswordValidator"}
    assert validators["MinimumLengthValidator"].min_length == 12


def reset_form_url(client) -> str:
    client.post(reverse("password_reset"), {"email": "marc@example.org"})
    link = re.search(r"https?://[^\s]+/reset/[^\s]+/", mail.outbox[-1].body).group(0)
    return client.get(link.split("testserver")[-1], follow=True).redirect_chain[-1][0]


@pytest.mark.parametrize(("password", "message"), WEAK)
def test_a_weak_password_is_refused_when_chosen_from_the_reset_link(client, marc, password,
                                                                    message):
    response = client.post(reset_form_url(client), {"new_password1": password,
                                                    "new_password2": password})

    assert response.status_code == 200
    assert message in response.content.decode()
    marc.refresh_from_db()
    assert marc.check_password(OLD)


@pytest.mark.parametrize(("password", "message"), WEAK)
def test_a_weak_password_is_refused_when_changed(client, marc, password, message):
    client.force_login(marc)

    response = client.post(reverse("password_change"), {
        "old_password": OLD, "new_password1": password, "new_password2": password})

    assert response.status_code == 200
    assert message in response.content.decode()
    marc.refresh_from_db()
    assert marc.check_password(OLD)


def test_a_strong_password_is_accepted(client, marc):
    response = client.post(reset_form_url(client), {
        "new_password1": "un-nouveau-mot-de-passe-solide",
        "new_password2": "un-nouveau-mot-de-passe-solide"})

    assert response.status_code == 302
    marc.refresh_from_db()
    assert marc.check_password("un-nouveau-mot-de-passe-solide")
