"""Query budgets of the candidates pages (STYLE.md §9, issue 7): the list (unfiltered,
filtered, searched), the registration page and the admin of registrations, candidates and
companies run the same number of queries whatever the number of rows they show."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from candidates import services
from candidates.models import (
    DocumentKind,
    LinkPurpose,
    OrganisationHabilitation,
    TrainingOrganisation,
)
from certifications.demo import staff_group
from certifications.models import Modality
from tests.budgets import assert_flat, page_queries
from tests.factories import CompanyFactory, build_version, make_registration

pytestmark = pytest.mark.django_db

LIST = reverse("candidates:registration_list")


@pytest.fixture
def admin_staff(staff):
    """The centre's gestionnaire with the admin permissions of the demo's staff group."""
    staff.groups.add(staff_group())
    return staff


# ---------------------------------------------------------------------------
# The list
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("filters", [
    {},
    {"state": "pret_evaluation"},
    {"certification": "<certification>"},
    {"q": "masse"},
    {"q": "masse camille"},
    {"q": "masse", "state": "inscrit", "certification": "<certification>", "year": "2023"},
], ids=["unfiltered", "state", "certification", "search", "search-two-terms", "combined"])
def test_registration_list_queries_do_not_grow_with_registrations(
        client, centre, staff, bulk_registrations, filters):
    version = build_version(blocs=1, competences=1, criteria=1)
    data = {key: version.certification_id if value == "<certification>" else value
            for key, value in filters.items()}
    bulk_registrations(centre, 4, version=version)
    client.force_login(staff)
    small = page_queries(client, LIST, data=data, warm=True)
    # Forty times more registrations, on more certifications and companies (more choices in
    # the filter form, more companies to search).
    bulk_registrations(centre, 120, version=version)
    for _ in range(3):
        bulk_registrations(centre, 15, company=CompanyFactory(centre=centre, name="Masse SA"))
    assert_flat(small, page_queries(client, LIST, data=data))


@pytest.mark.parametrize("data", [{}, {"q": "masse"}], ids=["list", "search"])
def test_the_list_page_reads_only_the_columns_its_rows_show(
        client, centre, staff, bulk_registrations, data):
    """Its rows are read with ``selectors.LIST_PAGE_COLUMNS``: not a candidate's birth date,
    address or identity numbers, which the row does not show (the export reads them)."""
    bulk_registrations(centre, 3, company=CompanyFactory(centre=centre, name="Masse SA"))
    client.force_login(staff)
    queries = page_queries(client, LIST, data=data, warm=True)
    rows = [sql for sql in queries
            if sql.startswith('SELECT "candidates_registration"."id", ')
            and '"candidates_candidate"' in sql]
    assert len(rows) == 1, queries
    assert '"candidates_candidate"."birth_name"' in rows[0]
    assert '"candidates_company"."name"' in rows[0]
    for unshown in ('"candidates_candidate"."birth_date"', '"candidates_registration"."path"',
                    '"candidates_company"."siret"', '"certifications_centre"'):
        assert unshown not in rows[0]


# ---------------------------------------------------------------------------
# The registration page
# ---------------------------------------------------------------------------
def fill_dossier(registration, staff, real_pdf, *, documents: int, trainings: int,
                 links: int) -> None:
    """Planned modalities, trainings, documents, links and the company's avis: everything the
    page lists (each write leaves a timeline event too)."""
    services.set_planned_modalities(
        registration=registration,
        modalities={c.pk: Modality.PRESENTATION_PROJETS
                    for c in registration.version.competences.all()})
    organisation, _ = TrainingOrganisation.objects.get_or_create(name="AFPI Atlantique")
    habilitation = OrganisationHabilitation.objects.create(
        organisation=organisation, subject="CQPM", valid_from=datetime.date(2020, 1, 1))
    habilitation.certifications.add(registration.version.certification)
    competences = list(registration.version.competences.all())
    for month in range(1, trainings + 1):
        services.record_training(
            registration=registration, actor=staff, organisation=organisation,
            start_on=datetime.date(2025, month, 1), end_on=datetime.date(2025, month, 20),
            hours=35, competences=competences)
    for number in range(documents):
        services.upload_document(
            registration=registration,
            kind=DocumentKind.ACTIVITY_REPORT if number % 2 else DocumentKind.EVIDENCE,
            uploaded=SimpleUploadedFile(f"piece-{number}.pdf", real_pdf), actor=staff)
    for _ in range(links):
        services.issue_link(registration=registration, purpose=LinkPurpose.CANDIDATE_UPLOAD,
                            actor=staff)
    link = services.issue_link(registration=registration,
                               purpose=LinkPurpose.COMPANY_OPINION, actor=staff)
    services.submit_company_opinion(
        link=link, given_by_name="Luc Perrin", given_by_function="Chef d'atelier",
        overall="favorable", comment="",
        items={c.pk: ("maitrisee", "") for c in competences})


def test_registration_page_queries_do_not_grow_with_its_dossier(
        client, centre, staff, media_root, real_pdf):
    small = make_registration(centre=centre, actor=staff,
                              version=build_version(blocs=1, competences=1, criteria=1))
    fill_dossier(small, staff, real_pdf, documents=1, trainings=1, links=1)
    large = make_registration(centre=centre, actor=staff,
                              version=build_version(blocs=4, competences=4, criteria=3))
    fill_dossier(large, staff, real_pdf, documents=8, trainings=4, links=5)
    client.force_login(staff)
    url = reverse("candidates:registration_detail", args=[small.pk])
    assert_flat(page_queries(client, url, warm=True),
                page_queries(client, reverse("candidates:registration_detail",
                                             args=[large.pk])))


def test_registration_page_reads_each_training_with_its_organisation(
        client, centre, staff, media_root, real_pdf):
    """The trainings come with their organisation in one query (a join), not two."""
    registration = make_registration(centre=centre, actor=staff,
                                     version=build_version(blocs=2, competences=2, criteria=1))
    fill_dossier(registration, staff, real_pdf, documents=1, trainings=2, links=1)
    client.force_login(staff)
    queries = page_queries(client, reverse("candidates:registration_detail",
                                           args=[registration.pk]), warm=True)
    trainings = [q for q in queries if 'FROM "candidates_trainingrecord"' in q]
    assert len(trainings) == 1 and '"candidates_trainingorganisation"' in trainings[0]
    assert not [q for q in queries if 'FROM "candidates_trainingorganisation"' in q]


# ---------------------------------------------------------------------------
# Admin
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("model", ["registration", "candidate", "company"])
def test_admin_changelists_queries_do_not_grow_with_rows(
        client, centre, admin_staff, bulk_registrations, model):
    url = reverse(f"admin:candidates_{model}_changelist")
    bulk_registrations(centre, 3)
    client.force_login(admin_staff)
    small = page_queries(client, url, warm=True)
    for _ in range(4):  # more rows, companies and certifications
        bulk_registrations(centre, 20, company=CompanyFactory(centre=centre))
    assert_flat(small, page_queries(client, url))


def test_admin_registration_change_page_queries_do_not_grow_with_its_dossier(
        client, centre, admin_staff, media_root, real_pdf):
    small = make_registration(centre=centre, actor=admin_staff,
                              version=build_version(blocs=1, competences=1, criteria=1))
    fill_dossier(small, admin_staff, real_pdf, documents=1, trainings=1, links=1)
    large = make_registration(centre=centre, actor=admin_staff,
                              version=build_version(blocs=4, competences=4, criteria=3))
    fill_dossier(large, admin_staff, real_pdf, documents=8, trainings=4, links=5)
    client.force_login(admin_staff)

    def url(registration):
        return reverse("admin:candidates_registration_change", args=[registration.pk])

    assert_flat(page_queries(client, url(small), warm=True), page_queries(client, url(large)))
