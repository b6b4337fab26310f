"""Journey: the commission fills and signs a grille d'évaluation in the browser (issue 5).
evaluateur1 opens a candidate's grid from « Mes commissions », fills it with real clicks —
one competence « Non maîtrisée en toute autonomie » with its comment and the criterion it
concerns — sees each change saved, submits it for signature and signs (password + consent);
evaluateur2 signs in turn; the grid is locked and its signed PDF downloads."""

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from certifications.demo import DEMO_PASSWORD
from commissions.models import Commission
from evaluations.models import CompetenceResult, GeneratedDocument, Grid, GridState, Signature
from tests.browser.conftest import login

pytestmark = pytest.mark.django_db(transaction=True)

NM_COMMENT = ("Le candidat n'a pas su interpréter seul le schéma hydraulique ; il a eu besoin "
              "de l'aide du tuteur pour localiser la fuite.")


def upcoming_commission() -> Commission:
    return Commission.objects.get(members__evaluator__user__username="evaluateur1",
                                  date__gte=timezone.localdate())


def saved(page, field_id: str):
    """The field's own status says the change is stored. Within 15 s rather than the default
    5: one CI run, on a machine also busy with a second browser and a demo being seeded,
    missed the first save of the grid by that margin."""
    state = page.locator(f"#{field_id}").locator(
        "xpath=ancestor::*[contains(@class, 'grid-field')][1]").locator(".field-state")
    expect(state).to_contain_text("enregistré", timeout=15_000)


def click_label(page, for_id: str):
    page.locator(f"label[for='{for_id}']").click()
    saved(page, for_id)


def sign_as(page, username: str):
    page.get_by_test_id("sign-link").click()
    expect(page.get_by_test_id("consent-text")).to_contain_text("aucun conflit d'intérêts")
    page.get_by_label("J'atteste avoir lu la déclaration").check()
    page.get_by_label("Mot de passe").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Signer la grille").click()
    page.wait_for_load_state("load")


def logout(page):
    page.get_by_test_id("current-user").click()  # the user menu
    page.get_by_role("button", name="Se déconnecter").click()
    page.wait_for_load_state("load")


def test_the_commission_fills_and_signs_a_grid(page, live_server, demo, media_root,
                                               screenshots_dir):
    commission = upcoming_commission()
    scheduled = commission.scheduled.order_by("start_time").first()
    registration = scheduled.registration
    levels = {lv.mastered: lv for lv in registration.version.rating_levels.all()}

    # evaluateur1: « Mes commissions » → the commission → the candidate's grid
    login(page, live_server, "evaluateur1")
    page.get_by_role("navigation").get_by_role("link", name="Mes commissions").click()
    page.get_by_test_id(f"my-commission-{commission.pk}").get_by_role(
        "link", name="Candidats et dossiers").click()
    page.get_by_test_id(f"grid-link-{registration.pk}").click()
    expect(page.get_by_test_id("grid-header")).to_contain_text(registration.candidate.full_name)
    expect(page.get_by_test_id("grid-header").get_by_test_id("grid-state")).to_have_text(
        "Brouillon")
    grid = Grid.objects.get(scheduled=scheduled)

    results = list(CompetenceResult.objects.filter(grid=grid)
                   .select_related("competence")
                   .order_by("competence__bloc__order", "competence__order"))
    failing = results[0]
    for result in results:
        criteria = list(result.criterion_results.order_by("criterion__order"))
        for index, criterion in enumerate(criteria):
            verdict = "non" if result == failing and index == 0 else "oui"
            click_label(page, f"satisfied-{criterion.pk}-{verdict}")
        level = levels[result != failing]
        click_label(page, f"level-{result.pk}-{level.pk}")
    # The non-mastered competence: its comment and the criterion it concerns.
    concerned = failing.criterion_results.order_by("criterion__order").first()
    page.locator(f"#concerned-{concerned.pk}").check()
    saved(page, f"concerned-{concerned.pk}")
    page.locator(f"#notes-{concerned.pk}").fill("Localisation de la fuite guidée par le tuteur.")
    page.locator(f"#comment-{failing.pk}").fill(NM_COMMENT)
    page.locator(f"#comment-{failing.pk}").press("Tab")
    saved(page, f"comment-{failing.pk}")
    saved(page, f"notes-{concerned.pk}")
    expect(page.get_by_test_id("save-status")).to_contain_text(
        "Toutes les modifications sont enregistrées")
    page.screenshot(path=screenshots_dir / "grid-filled.png", full_page=True)

    page.get_by_test_id("submit-grid").click()
    page.wait_for_load_state("load")
    expect(page.get_by_test_id("grid-header").get_by_test_id("grid-state")).to_have_text(
        "À signer")
    sign_as(page, "evaluateur1")
    expect(page.get_by_role("alert").filter(has_text="Signature enregistrée")).to_be_visible()
    expect(page.get_by_test_id("grid-locked")).to_have_count(0)
    logout(page)

    # evaluateur2 signs: the grid is locked.
    login(page, live_server, "evaluateur2")
    page.goto(f"{live_server.url}/grilles/{grid.pk}/")
    sign_as(page, "evaluateur2")
    expect(page.get_by_test_id("grid-locked")).to_be_visible()
    expect(page.get_by_test_id("grid-header").get_by_test_id("grid-state")).to_have_text(
        "Signée")
    expect(page.locator("#grid [data-field]")).to_have_count(0)  # nothing left to edit
    page.screenshot(path=screenshots_dir / "grid-signed.png", full_page=True)

    grid.refresh_from_db()
    assert grid.state == GridState.SIGNED
    assert Signature.objects.filter(grid=grid, voided_at__isnull=True).count() == 2
    failing.refresh_from_db()
    assert failing.comment == NM_COMMENT and not failing.level.mastered
    concerned.refresh_from_db()
    assert concerned.concerned and concerned.satisfied is False
    document = GeneratedDocument.objects.get(grid=grid)
    expect(page.get_by_test_id("grid-locked")).to_contain_text(document.verification_code)

    # A plain link to an attachment makes Chromium abort the navigation it started (reported
    # as a failed request by the page fixture); a link marked ``download`` does not.
    page.get_by_test_id("pdf-link").evaluate(
        "a => a.hasAttribute('download') || a.setAttribute('download', '')")
    with page.expect_download() as download_info:
        page.get_by_test_id("pdf-link").click()
    download = download_info.value
    assert download.suggested_filename == f"grille-{registration.reference}.pdf"
    with open(download.path(), "rb") as pdf:
        assert pdf.read(5) == b"%PDF-"
