"""Journey: each demo role signs in through the login form and lands on its own dashboard."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import login

DASHBOARD_SECTIONS = {
    "dashboard-staff",
    "dashboard-evaluator",
    "dashboard-jury",
    "dashboard-national",
}

# The live server runs in another thread: the test's rows must be committed.
pytestmark = pytest.mark.django_db(transaction=True)

# Bootstrap's --bs-primary: proves the vendored stylesheet was served and applied.
BOOTSTRAP_PRIMARY = "rgb(13, 110, 253)"


@pytest.mark.parametrize(
    ("username", "section"),
    [
        ("gestionnaire", "dashboard-staff"),
        ("evaluateur1", "dashboard-evaluator"),
        ("jury1", "dashboard-jury"),
    ],
)
def test_each_role_lands_on_its_own_dashboard(
    page, live_server, demo, screenshots_dir, username, section
):
    login(page, live_server, username)

    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.get_by_test_id(section)).to_be_visible()
    for other in DASHBOARD_SECTIONS - {section}:
        expect(page.get_by_test_id(other)).to_have_count(0)
    expect(page.get_by_test_id("current-user")).to_be_visible()
    expect(page.locator("nav.navbar")).to_have_css("background-color", BOOTSTRAP_PRIMARY)
    page.screenshot(path=screenshots_dir / f"dashboard-{username}.png", full_page=True)


def test_login_page_is_french_and_styled(page, live_server, demo, screenshots_dir):
    page.goto(f"{live_server.url}/")

    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/$"))
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.get_by_role("heading", name="Connexion")).to_be_visible()
    # Django's own label, with its typographic apostrophe.
    expect(page.get_by_label("Nom d’utilisateur")).to_be_visible()
    expect(page.get_by_label("Mot de passe")).to_be_visible()
    expect(page.get_by_role("button", name="Se connecter")).to_have_css(
        "background-color", BOOTSTRAP_PRIMARY
    )
    page.screenshot(path=screenshots_dir / "login.png", full_page=True)


def test_wrong_password_is_refused_with_a_french_message(page, live_server, demo):
    login(page, live_server, "gestionnaire", password="pas-le-bon")

    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    expect(
        page.get_by_text("Saisissez un nom d’utilisateur et un mot de passe valides")
    ).to_be_visible()
    expect(page.get_by_test_id("current-user")).to_have_count(0)


def test_logout_returns_to_the_login_page_and_closes_the_session(page, live_server, demo):
    login(page, live_server, "evaluateur1")
    expect(page.get_by_test_id("dashboard-evaluator")).to_be_visible()

    page.get_by_test_id("current-user").click()  # the user menu
    page.get_by_role("button", name="Se déconnecter").click()

    expect(page).to_have_url(re.compile(r"/accounts/login/$"))
    page.goto(f"{live_server.url}/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/$"))
    expect(page.get_by_test_id("current-user")).to_have_count(0)


@pytest.mark.parametrize("width", [1280, 1100])
def test_the_staff_navigation_fits_a_laptop_screen(page, live_server, demo, width):
    """Every entry of the longest navigation bar (staff) on one line, nothing past the right
    edge: a 1280 px laptop sees it whole, a narrower window folds it into the menu button."""
    page.set_viewport_size({"width": width, "height": 700})
    login(page, live_server, "gestionnaire")

    assert page.evaluate("document.documentElement.scrollWidth") <= width
    if width < 1200:
        page.get_by_role("button", name="Menu").click()
        # Opened once its transition has ended (Bootstrap swaps "collapsing" for "show"): a
        # click on the user menu while the panel still grows could be lost on a busy machine.
        expect(page.locator("#main-nav")).to_have_class(re.compile(r"(^|\s)show(\s|$)"))
    page.get_by_test_id("current-user").click()
    expect(page.get_by_role("link", name="Sécurité du compte")).to_be_visible()
    if width >= 1200:
        page.get_by_role("button", name="Rapports").click()
        expect(page.get_by_role("link", name="Statistiques")).to_be_visible()
