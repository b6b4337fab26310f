"""Site-wide pages: friendly error pages, the login entry point, French by default with an
English translation available."""

import pytest
from django.conf import settings
from django.urls import path
from django.utils import translation

import config.urls


def _boom(request):
    raise RuntimeError("panne simulée")


# A root URLconf for the 500 test: the project's, plus one view that fails.
urlpatterns = [path("boom/", _boom), *config.urls.urlpatterns]
handler500 = config.urls.handler500


@pytest.fixture(autouse=True)
def _restore_language():
    # LocaleMiddleware leaves the language of the last request active in this thread;
    # without this, tests running after an English request would read English messages.
    with translation.override(settings.LANGUAGE_CODE):
        yield


@pytest.mark.django_db
def test_unknown_page_shows_the_friendly_french_404(client):
    response = client.get("/cette-page-n-existe-pas/")

    assert response.status_code == 404
    assert "404.html" in [template.name for template in response.templates]
    assert "Page introuvable" in response.content.decode()


@pytest.mark.urls(__name__)
def test_server_error_shows_the_friendly_500_page(client):
    client.raise_request_exception = False

    response = client.get("/boom/")

    assert response.status_code == 500
    content = response.content.decode()
    assert "Une erreur est survenue" in content
    assert "panne simulée" not in content


@pytest.mark.django_db
def test_anonymous_visitor_of_the_dashboard_is_sent_to_the_login_page(client):
    response = client.get("/")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/"


@pytest.mark.django_db
def test_login_page_speaks_french_by_default(client):
    response = client.get("/accounts/login/")

    content = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="fr">' in content
    assert "Connexion" in content
    assert "Nom d’utilisateur" in content
    assert "Mot de passe" in content
    assert "Se connecter" in content


def _require_compiled_catalog():
    catalog = settings.BASE_DIR / "locale" / "en" / "LC_MESSAGES" / "django.mo"
    if not catalog.exists():
        pytest.fail("locale/en/LC_MESSAGES/django.mo absent : lancez `make messages`.")


@pytest.mark.django_db
def test_browser_asking_for_english_gets_the_login_page_in_english(client):
    _require_compiled_catalog()

    response = client.get("/accounts/login/", headers={"accept-language": "en"})

    content = response.content.decode()
    assert '<html lang="en">' in content
    assert "Sign in" in content
    assert "Username" in content
    assert "Connexion" not in content


@pytest.mark.django_db
def test_language_cookie_switches_the_interface_to_english(client):
    _require_compiled_catalog()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"

    response = client.get("/cette-page-n-existe-pas/")

    content = response.content.decode()
    assert '<html lang="en">' in content
    assert "Page not found" in content


@pytest.mark.django_db
def test_language_can_be_chosen_through_set_language(client):
    _require_compiled_catalog()

    response = client.post("/i18n/setlang/", {"language": "en", "next": "/accounts/login/"})
    page = client.get(response["Location"])

    assert response.status_code == 302
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    assert "Sign in" in page.content.decode()
