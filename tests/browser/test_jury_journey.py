"""Journey: the jury paritaire deliberates on the demo session (issue 6).
jury1, the president, opens « Mes jurys », records the presence of the four members, opens
the deliberation, reads a candidate's synthesis, records each decision as the grids propose
and signs the procès-verbal with the password; the gestionnaire then finds each registration
« Délibéré » with its outcome."""

import pytest
from playwright.sync_api import expect

from candidates.models import Outcome, RegistrationState
from certifications.demo import DEMO_PASSWORD
from commissions.models import JurySession, SessionStatus
from evaluations import deliberation
from evaluations.models import Decision, Minutes
from tests.browser.conftest import login

pytestmark = pytest.mark.django_db(transaction=True)


def logout(page):
    page.get_by_test_id("current-user").click()  # the user menu
    page.get_by_role("button", name="Se déconnecter").click()
    page.wait_for_load_state("load")


def test_the_president_deliberates_and_signs_the_minutes(page, live_server, demo, media_root,
                                                         screenshots_dir):
    session = JurySession.objects.get(seats__member__user__username="jury1")
    candidates = list(session.candidates.select_related("registration__candidate")
                      .order_by("registration__candidate__birth_name"))
    assert len(candidates) == 2
    proposals = {c.pk: deliberation.propose(c.registration) for c in candidates}
    assert sorted(p.outcome for p in proposals.values()) == ["admis", "admis_partiel"]

    # jury1: « Mes jurys » → the session
    login(page, live_server, "jury1")
    expect(page.get_by_test_id("dashboard-jury-sessions")).to_contain_text(
        f"{session.candidates.count()} candidats")
    page.get_by_role("navigation").get_by_role("link", name="Mes jurys").click()
    page.get_by_test_id(f"my-session-{session.pk}").get_by_role(
        "link", name="Candidats et synthèses").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Jury paritaire")
    expect(page.get_by_test_id("quorum-status")).to_contain_text("Présence à indiquer")
    page.screenshot(path=screenshots_dir / "jury-session-planned.png", full_page=True)

    # Presence of the four members, then the deliberation opens.
    seats = list(session.seats.select_related("member__user"))
    assert len(seats) == 4
    form = page.locator("#presence-form")
    for seat in seats:
        form.locator(f"input[name='seat_{seat.pk}'][value='present']").check()
    form.get_by_role("button", name="Enregistrer la présence").click()
    page.wait_for_load_state("load")
    expect(page.get_by_role("alert").filter(has_text="Présence enregistrée")).to_be_visible()
    expect(page.get_by_test_id("quorum-status")).to_contain_text(
        "Quorum et parité respectés")
    page.get_by_test_id("open-session").click()
    page.wait_for_load_state("load")
    expect(page.get_by_role("alert").filter(has_text="La délibération est ouverte")).to_be_visible()
    page.screenshot(path=screenshots_dir / "jury-session-open.png", full_page=True)

    # Each candidate: read the synthesis, record the decision the grids propose.
    for index, candidate in enumerate(candidates):
        registration = candidate.registration
        row = page.get_by_test_id(f"row-{registration.reference}")
        expect(row.get_by_test_id("decision")).to_contain_text("à décider")
        row.get_by_role("link", name=registration.candidate.full_name).click()
        page.wait_for_load_state("load")
        expect(page.get_by_test_id("identity")).to_contain_text(registration.reference)
        expect(page.get_by_test_id("conformity").locator("[data-ok='false']")).to_have_count(0)
        expect(page.get_by_test_id("proposal")).to_contain_text(
            "Validation partielle" if proposals[candidate.pk].outcome == "admis_partiel"
            else "Admis")
        if index == 0:
            page.screenshot(path=screenshots_dir / "jury-synthesis.png", full_page=True)
        # The form starts from the proposal: the president confirms it.
        page.get_by_role("button", name="Enregistrer la décision").click()
        page.wait_for_load_state("load")
        expect(page.get_by_role("alert").filter(has_text="Décision enregistrée")).to_be_visible()
        expect(page.get_by_test_id(f"row-{registration.reference}").get_by_test_id(
            "decision")).not_to_contain_text("à décider")

    # The procès-verbal, signed with the password.
    page.get_by_test_id("sign-minutes-link").click()
    page.wait_for_load_state("load")
    expect(page.get_by_test_id("minutes-decisions")).not_to_contain_text("décision manquante")
    page.get_by_label("Je certifie, en qualité de président du jury").check()
    page.get_by_label("Mot de passe").fill(DEMO_PASSWORD)
    page.screenshot(path=screenshots_dir / "jury-minutes-sign.png", full_page=True)
    page.get_by_role("button", name="Signer le procès-verbal").click()
    page.wait_for_load_state("load")
    expect(page.get_by_test_id("session-closed")).to_be_visible()
    page.screenshot(path=screenshots_dir / "jury-session-closed.png", full_page=True)

    session.refresh_from_db()
    assert session.status == SessionStatus.CLOSED
    assert Minutes.objects.filter(session=session, signed_by__username="jury1").exists()
    decisions = {d.session_candidate_id: d for d in Decision.objects.filter(
        session_candidate__session=session)}
    for candidate in candidates:
        decision = decisions[candidate.pk]
        assert decision.is_final
        assert decision.outcome == proposals[candidate.pk].outcome
        assert decision.motive == ""
    logout(page)

    # The gestionnaire: each registration is « Délibéré » with its outcome.
    login(page, live_server, "gestionnaire")
    for candidate in candidates:
        registration = candidate.registration
        registration.refresh_from_db()
        assert registration.state == RegistrationState.DELIBERE
        page.goto(f"{live_server.url}/candidats/inscriptions/{registration.pk}/")
        expect(page.locator("main")).to_contain_text("Délibéré")
        expect(page.locator("main")).to_contain_text(str(Outcome(registration.outcome).label))
    page.screenshot(path=screenshots_dir / "jury-registration-outcome.png", full_page=True)

    # The staff overview: the session held, its CPNE bundle due, the outcomes counted.
    page.get_by_role("navigation").get_by_role("link", name="Jurys").click()
    expect(page.get_by_test_id("sessions-held")).to_contain_text(session.place[:40])
    expect(page.get_by_test_id(f"cpne-{session.pk}")).to_contain_text("échéance le")
    expect(page.get_by_test_id("outcomes")).to_contain_text("CQPM MQ 2018 05 69 0312")
    page.screenshot(path=screenshots_dir / "jury-staff-overview.png", full_page=True)
