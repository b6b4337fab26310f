"""Journey: with two-factor sign-in required, the demo gestionnaire signs in, is sent to
enrolment, sets up the app from the secret shown (codes computed by pyotp, as a phone
would), keeps the recovery codes, signs out, and signs in again with a fresh code."""

import re
import time

import pyotp
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import login

# The live server runs in another thread: the test's rows must be committed.
pytestmark = pytest.mark.django_db(transaction=True)

STEP = 30  # seconds of a TOTP code (django-otp's default, the apps' too)


def test_staff_enrols_then_signs_in_with_a_code(page, live_server, demo, settings,
                                                 screenshots_dir):
    settings.TWO_FACTOR = {**settings.TWO_FACTOR, "REQUIRED": True}

    login(page, live_server, "gestionnaire")
    expect(page).to_have_url(re.compile(r"/accounts/2fa/activation/\?next=%2F$"))
    expect(page.get_by_test_id("totp-qr")).to_be_visible()
    expect(page.get_by_test_id("dashboard-staff")).to_have_count(0)
    totp = pyotp.TOTP(page.get_by_test_id("totp-secret").inner_text().replace(" ", ""))
    page.screenshot(path=screenshots_dir / "two-factor-enrol.png", full_page=True)

    enrolled_at = time.time()
    page.get_by_role("textbox", name="Code").fill(totp.at(enrolled_at))
    page.get_by_role("button", name="Activer").click()

    expect(page).to_have_url(re.compile(r"/accounts/2fa/codes-de-secours/"))
    expect(page.get_by_test_id("recovery-codes").locator("li")).to_have_count(10)
    expect(page.get_by_text("ils ne seront plus jamais affichés")).to_be_visible()
    page.get_by_role("link", name="J'ai noté mes codes, continuer").click()
    expect(page.get_by_test_id("dashboard-staff")).to_be_visible()

    page.get_by_test_id("current-user").click()  # the user menu
    page.get_by_role("button", name="Se déconnecter").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/$"))

    login(page, live_server, "gestionnaire")
    expect(page).to_have_url(re.compile(r"/accounts/2fa/verification/\?next=%2F$"))
    expect(page.get_by_test_id("dashboard-staff")).to_have_count(0)
    # A code is used once (django-otp): the enrolment's is spent. The next step's code, as
    # the phone shows it now or within 30 s; the device accepts one step of clock skew.
    page.get_by_role("textbox", name="Code").fill(totp.at(enrolled_at + STEP))
    page.get_by_role("button", name="Valider").click()

    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.get_by_test_id("dashboard-staff")).to_be_visible()

    # The status page and the staff's list of accounts, under the same watch (CSP, errors).
    page.goto(f"{live_server.url}/accounts/2fa/")
    expect(page.get_by_test_id("two-factor-status")).to_contain_text("Il vous reste 10 codes")
    page.goto(f"{live_server.url}/accounts/2fa/comptes/")
    expect(page.get_by_test_id("two-factor-accounts")).to_contain_text("evaluateur1")
