"""Journey: the gestionnaire creates a commission, composes it (members, a candidate ready for
evaluation), confirms it; the evaluator then finds it in « Mes commissions »."""

import datetime
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from candidates.models import Registration, RegistrationState
from commissions.models import Commission, CommissionStatus, Evaluator, MemberRole
from tests.browser.conftest import login

CQPM = "MQ 2018 05 69 0312"
PLACE = "Pôle Formation UIMM, atelier usinage, Saint-Nazaire"


@pytest.mark.django_db(transaction=True)
def test_staff_compose_a_commission_and_the_evaluator_sees_it(
    page, live_server, demo, screenshots_dir
):
    karim = Evaluator.objects.get(user__username="evaluateur3")
    marc = Evaluator.objects.get(user__username="evaluateur1")
    # The demo's one candidate ready for evaluation not yet convoked anywhere.
    [ready] = Registration.objects.filter(
        state=RegistrationState.PRET_EVALUATION, version__certification__code=CQPM,
        version__certification__kind="CQPM",
    ).exclude(schedulings__commission__status__in=["draft", "confirmed"])
    date = timezone.localdate() + datetime.timedelta(days=21)

    # The gestionnaire creates the commission…
    login(page, live_server, "gestionnaire")
    page.goto(f"{live_server.url}/commissions/")
    page.get_by_role("link", name="Nouvelle commission").click()
    page.get_by_label(re.compile(r"^\s*Date\b")).fill(date.isoformat())
    page.get_by_label("Heure de début").fill("08:30")
    page.get_by_label("Heure de fin").fill("16:30")
    page.get_by_label("Lieu", exact=True).fill(PLACE)
    page.get_by_label(re.compile(rf"^\s*CQPM {CQPM} — ")).check()
    page.get_by_role("button", name="Créer la commission").click()
    expect(page.get_by_role("heading", name=re.compile("Composer la commission"))).to_be_visible()
    commission = Commission.objects.get(date=date)

    # … adds Karim Benali as president and Marc Durand as member…
    suggestion = page.get_by_test_id(f"suggestion-{karim.pk}")
    expect(suggestion).to_have_attribute("data-eligible", "true")
    suggestion.get_by_label("Rôle").select_option(MemberRole.PRESIDENT)
    suggestion.get_by_role("button", name="Ajouter").click()
    expect(page.get_by_test_id("members")).to_contain_text("Karim Benali")
    page.get_by_test_id(f"suggestion-{marc.pk}").get_by_role("button", name="Ajouter").click()
    expect(page.get_by_test_id("members")).to_contain_text("Marc Durand")

    # … convokes the candidate at 9:00…
    candidate = page.get_by_test_id(f"ready-{ready.pk}")
    candidate.get_by_label("Heure de passage").fill("09:00")
    candidate.get_by_role("button", name="Convoquer").click()
    expect(page.get_by_test_id("scheduled")).to_contain_text(ready.candidate.full_name)
    page.screenshot(path=screenshots_dir / "commission-compose.png", full_page=True)

    # … and confirms: the convocations leave.
    page.get_by_role("link", name="Vérifier et confirmer").click()
    page.get_by_role("button", name="Confirmer et convoquer").click()
    expect(page.get_by_role("alert").filter(has_text="Commission confirmée")).to_be_visible()
    commission.refresh_from_db()
    assert commission.status == CommissionStatus.CONFIRMED
    assert {m.evaluator: m.role for m in commission.members.all()} == {
        karim: MemberRole.PRESIDENT, marc: MemberRole.MEMBER}
    page.screenshot(path=screenshots_dir / "commission-confirmed.png", full_page=True)
    page.get_by_test_id("current-user").click()  # the user menu
    page.get_by_role("button", name="Se déconnecter").click()
    page.wait_for_load_state("load")

    # The evaluator signs in and finds the commission in « Mes commissions ».
    login(page, live_server, "evaluateur3")
    page.get_by_role("link", name="Mes commissions").first.click()
    row = page.get_by_test_id(f"my-commission-{commission.pk}")
    expect(row).to_be_visible()
    expect(row).to_contain_text(PLACE)
    expect(row).to_contain_text("Président")
    expect(row).to_contain_text("1 candidat")
    page.screenshot(path=screenshots_dir / "mes-commissions-evaluateur3.png", full_page=True)

    row.get_by_role("link", name="Candidats et dossiers").click()
    expect(page.get_by_test_id(f"scheduled-{ready.pk}")).to_contain_text(
        ready.candidate.full_name)
