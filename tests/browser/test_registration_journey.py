"""Journey: the gestionnaire registers a new candidate on the CCPM 0012, sees what is missing,
is refused « Prêt pour l'évaluation » with the reasons in French, completes the dossier (a
modality per competence), records « sans formation », uploads the rapport d'activités, and the
registration is then ready for evaluation, its timeline showing every transition."""

import re

import pytest
from django.utils import translation
from playwright.sync_api import expect

from candidates.forms import VersionChoiceField
from candidates.models import Candidate, Registration, RegistrationState
from certifications.models import Modality, ReferentialVersion, VersionStatus
from tests.browser.conftest import login

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
TO_READY = "Passer à « Prêt pour l'évaluation »"


def _label(text: str) -> re.Pattern:
    """A crispy label, whatever its required-field asterisk."""
    return re.compile(rf"^\s*{re.escape(text)}\s*\*?\s*$", re.IGNORECASE)


@pytest.mark.django_db(transaction=True)
def test_staff_take_a_registration_from_inscription_to_ready(
    page, live_server, demo, screenshots_dir, tmp_path
):
    version = ReferentialVersion.objects.select_related("certification").get(
        certification__code="CCPM 0012",
        status=VersionStatus.PUBLISHED)
    competences = list(version.competences.all())
    version_label = VersionChoiceField(queryset=None).label_from_instance(version)

    # « Nouvelle inscription » from the list, a new candidate typed inline.
    login(page, live_server, "gestionnaire")
    page.goto(f"{live_server.url}/candidats/")
    page.get_by_role("link", name="Nouvelle inscription").click()
    page.get_by_label("Nouveau candidat").check()
    page.get_by_label(_label("Nom de naissance")).fill("Lemaire")
    page.get_by_label(_label("Prénoms")).fill("Camille Jeanne")
    page.get_by_label(_label("Date de naissance")).fill("1995-04-17")
    page.get_by_label(_label("E-mail")).fill("camille.lemaire@example.org")
    page.get_by_label(_label("Certification et version du référentiel")).select_option(
        label=version_label)
    page.get_by_label(_label("Parcours")).select_option(label="Demandeur d'emploi")
    page.get_by_role("button", name="Enregistrer l'inscription").click()

    # The registration page: « Inscrit », and the progress line says what is missing.
    expect(page.get_by_role("heading", name="LEMAIRE Camille Jeanne", level=1)).to_be_visible()
    registration = Registration.objects.get(candidate__birth_name="Lemaire",
                                            candidate__first_names="Camille Jeanne")
    assert Candidate.objects.filter(birth_name="Lemaire").count() == 1
    assert registration.version == version
    expect(page.locator("header [data-state]")).to_have_text("Inscrit")
    progress = page.get_by_test_id("progress")
    expect(progress).to_contain_text("Manque :")
    expect(progress.locator('[data-step="1"]')).to_have_attribute("data-status", "current")

    # Too early: « Prêt pour l'évaluation » is refused, and the page says why.
    page.get_by_test_id("transitions").get_by_role("button", name=TO_READY).click()
    alerts = page.get_by_role("alert")
    expect(alerts.filter(has_text="Modalité d'évaluation non choisie pour")).to_be_visible()
    expect(alerts.filter(has_text="Étape 2 : enregistrez la formation suivie")).to_be_visible()
    registration.refresh_from_db()
    assert registration.state == RegistrationState.INSCRIT

    # The dossier: one modality per competence, only those the referential allows.
    page.goto(f"{live_server.url}/candidats/inscriptions/{registration.pk}/dossier/")
    for competence in competences:
        select = page.get_by_label(f"{competence.code} — {competence.title}")
        with translation.override("fr"):
            allowed = [str(Modality(m).label) for m in competence.modalities]
        expect(select.locator("option")).to_have_count(len(allowed) + 1)
        select.select_option(label=allowed[0])
    c3 = next(c for c in competences if c.code.endswith("C3"))
    assert c3.modalities == [Modality.PRESENTATION_PROJETS]
    page.get_by_role("button", name="Enregistrer le dossier").click()
    expect(page.get_by_role("alert").filter(has_text="Dossier enregistré.")).to_be_visible()

    # Step 2: explicitly « sans formation ».
    page.get_by_test_id("without-training").get_by_role(
        "button", name="Décider « sans formation »").click()
    expect(page.get_by_role("alert").filter(
        has_text="Décision « sans formation » enregistrée.")).to_be_visible()

    # Still missing: the rapport d'activités the « Présentation des projets » needs.
    page.get_by_test_id("transitions").get_by_role("button", name=TO_READY).click()
    expect(page.get_by_role("alert").filter(
        has_text="Le rapport d'activités n'a pas été reçu.")).to_be_visible()

    # The rapport d'activités, a real (tiny) PDF.
    report = tmp_path / "rapport-activites.pdf"
    report.write_bytes(PDF)
    page.get_by_role("link", name="Déposer un document").click()
    page.get_by_label(_label("Nature du document")).select_option(label="Rapport d'activités")
    page.get_by_label(_label("Fichier")).set_input_files(report)
    page.get_by_role("button", name="Déposer le document").click()
    expect(page.get_by_test_id("documents-table")).to_contain_text("rapport-activites.pdf")

    # Now ready for evaluation.
    page.get_by_test_id("transitions").get_by_role("button", name=TO_READY).click()
    expect(page.get_by_role("alert").filter(
        has_text="État de l'inscription : Prêt pour l'évaluation.")).to_be_visible()
    expect(page.locator("header [data-state]")).to_have_text("Prêt pour l'évaluation")
    timeline = page.get_by_test_id("timeline")
    expect(timeline).to_contain_text("Inscrit → Prêt pour l'évaluation")
    for event in ("Inscription enregistrée.", "Dossier mis à jour.", "Sans formation.",
                  "Rapport d'activités déposé : rapport-activites.pdf"):
        expect(timeline).to_contain_text(event)
    expect(progress.locator('[data-step="1"]')).to_have_attribute("data-status", "done")
    expect(progress.locator('[data-step="3"]')).to_have_attribute("data-status", "current")
    registration.refresh_from_db()
    assert registration.state == RegistrationState.PRET_EVALUATION
    page.screenshot(path=screenshots_dir / "registration-ready.png", full_page=True)
