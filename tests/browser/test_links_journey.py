"""Journeys through a personal link, in a real browser: the tutor gives the company's avis
with the keyboard, the candidate sends the rapport d'activités. A real browser matters
here: it sends the ``Origin`` header that Django's CSRF check reads, which the test client
does not."""

import io
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect
from pypdf import PdfWriter

from candidates import services
from candidates.models import CompanyOpinion, Document, LinkPurpose, OverallOpinion
from candidates.tasks import link_url
from tests.factories import make_registration


def link_path(registration, purpose) -> str:
    link = services.issue_link(registration=registration, purpose=purpose, actor=None)
    return urlsplit(link_url(link)).path


@pytest.mark.django_db(transaction=True)
def test_the_tutor_gives_the_avis_with_the_keyboard(page, live_server, media_root,
                                                    screenshots_dir):
    registration = make_registration()
    page.set_viewport_size({"width": 1024, "height": 768})
    page.goto(live_server.url + link_path(registration, LinkPurpose.COMPANY_OPINION))

    expect(page.get_by_role("heading", name="Avis de l'entreprise")).to_be_visible()
    expect(page.get_by_text("Se déconnecter")).to_have_count(0)
    for competence in registration.version.competences.all():
        group = page.get_by_role("group", name=f"{competence.code} — {competence.title}")
        group.get_by_text("Maîtrisée", exact=True).click()
    # The overall avis by keyboard: focus the first choice, arrow to the second.
    overall = page.get_by_role("group", name="Avis global de l'entreprise")
    overall.get_by_role("radio", name="Favorable", exact=True).focus()
    page.keyboard.press("Space")
    page.keyboard.press("ArrowRight")
    page.get_by_label("Fonction dans l'entreprise").fill("Chef d'atelier")
    page.screenshot(path=screenshots_dir / "links-avis-rempli.png", full_page=True)
    page.get_by_role("button", name="Transmettre l'avis").click()

    expect(page.get_by_test_id("opinion-thanks")).to_be_visible()
    opinion = CompanyOpinion.objects.get(registration=registration)
    assert opinion.overall == OverallOpinion.RESERVED
    assert opinion.given_by_function == "Chef d'atelier"


@pytest.mark.django_db(transaction=True)
def test_the_candidate_sends_the_report_through_the_link(page, live_server, media_root):
    registration = make_registration()
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    pdf = io.BytesIO()
    writer.write(pdf)
    page.goto(live_server.url + link_path(registration, LinkPurpose.CANDIDATE_UPLOAD))

    page.get_by_label("Fichier de votre rapport").set_input_files(
        {"name": "mon-rapport.pdf", "mimeType": "application/pdf", "buffer": pdf.getvalue()})
    page.get_by_role("button", name="Envoyer mon rapport").click()

    expect(page.get_by_role("alert")).to_contain_text("Votre rapport d'activités a bien été reçu")
    expect(page.get_by_test_id("report-received")).to_contain_text("mon-rapport.pdf")
    assert Document.objects.get(registration=registration).uploaded_via_link
