"""Staff pages of the candidates app: only the gestionnaires of the registration's centre
see or change anything (everyone else: 404), the pages call the services and show their
French reasons, and the list and registration pages stay within a fixed query budget."""

import datetime
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import NoReverseMatch, reverse

from candidates import services
from candidates.models import (
    AccessLink,
    Candidate,
    Company,
    Document,
    DocumentKind,
    LinkPurpose,
    OrganisationHabilitation,
    Registration,
    RegistrationEvent,
    RegistrationState,
    TrainingDecision,
    TrainingOrganisation,
    Tutor,
)
from certifications.models import Competence, Modality, Role
from certifications.services import publish_version
from tests.factories import (
    CandidateFactory,
    CertificationFactory,
    CompanyFactory,
    TutorFactory,
    UserFactory,
    build_version,
    make_ready,
    make_registration,
    make_siret,
    member,
)

pytestmark = pytest.mark.django_db
S = RegistrationState
EXECUTABLE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 200


def detail(registration):
    return reverse("candidates:registration_detail", args=[registration.pk])


def plan(registration, modality=Modality.SITUATION_PROFESSIONNELLE):
    services.set_planned_modalities(
        registration=registration,
        modalities={c.pk: modality for c in registration.version.competences.all()},
    )


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


# ---------------------------------------------------------------------------
# Who may see what: every view
# ---------------------------------------------------------------------------
@pytest.fixture
def world(centre, staff, media_root, real_pdf):
    """One centre's data touched by every view."""
    registration = make_registration(centre=centre, actor=staff)
    vae = make_registration(centre=centre, actor=staff, path="vae")
    document = services.upload_document(
        registration=registration, kind=DocumentKind.EVIDENCE, actor=staff,
        uploaded=SimpleUploadedFile("preuve.pdf", real_pdf))
    link = services.issue_link(registration=registration, purpose=LinkPurpose.CANDIDATE_UPLOAD,
                               actor=staff)
    return {"registration": registration, "vae": vae, "document": document, "link": link,
            "company": registration.company}


VIEWS = [
    # url name, method, object whose pk is in the URL
    ("candidates:registration_list", "get", None),
    ("candidates:registration_create", "get", None),
    ("candidates:company_create", "get", None),
    ("candidates:tutor_create", "get", "company"),
    ("candidates:registration_detail", "get", "registration"),
    ("candidates:dossier_edit", "get", "registration"),
    ("candidates:training_create", "get", "registration"),
    ("candidates:vae_admissibility", "get", "vae"),
    ("candidates:document_upload", "get", "registration"),
    ("candidates:document_download", "get", "document"),
    ("candidates:registration_transition", "post", "registration"),
    ("candidates:without_training", "post", "registration"),
    ("candidates:link_issue", "post", "registration"),
    ("candidates:link_revoke", "post", "link"),
]


def call(client, world, name, method, obj):
    url = reverse(name, args=[world[obj].pk] if obj else [])
    response = getattr(client, method)(url)
    if response.streaming:  # a download streams its file; consuming it closes it
        b"".join(response.streaming_content)
    return response


@pytest.mark.parametrize(("name", "method", "obj"), VIEWS)
def test_staff_of_the_centre_may_use_every_page(client, world, staff, name, method, obj):
    client.force_login(staff)
    response = call(client, world, name, method, obj)
    assert response.status_code == (200 if method == "get" else 302)


@pytest.mark.parametrize(("name", "method", "obj"), [v for v in VIEWS if v[2]])
def test_staff_of_another_centre_gets_404_on_every_page_of_this_centre(
    client, world, other_staff, name, method, obj
):
    client.force_login(other_staff)
    before = RegistrationEvent.objects.count()
    assert call(client, world, name, method, obj).status_code == 404
    assert RegistrationEvent.objects.count() == before  # and nothing was done


@pytest.mark.parametrize(("name", "method", "obj"), VIEWS)
@pytest.mark.parametrize("intruder", ["evaluator", "jury", "no_role"])
def test_evaluator_jury_and_no_role_get_404_on_every_page(client, world, centre, name, method,
                                                          obj, intruder):
    users = {
        "evaluator": lambda: member(Role.EVALUATOR, centre=centre),
        "jury": lambda: member(Role.JURY, centre=centre),
        "no_role": lambda: UserFactory(),
    }
    client.force_login(users[intruder]())
    before = RegistrationEvent.objects.count()
    response = call(client, world, name, method, obj)
    assert response.status_code == 404
    assert RegistrationEvent.objects.count() == before  # and nothing was done


@pytest.mark.parametrize(("name", "method", "obj"), VIEWS)
def test_anonymous_is_sent_to_login_on_every_page(client, world, name, method, obj):
    response = call(client, world, name, method, obj)
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_staff_of_another_centre_lists_and_chooses_nothing_of_this_centre(client, world,
                                                                          other_staff):
    client.force_login(other_staff)
    listing = client.get(reverse("candidates:registration_list"))
    assert listing.context["page_obj"].paginator.count == 0
    form = client.get(reverse("candidates:registration_create")).context["form"]
    assert not form.fields["candidate"].queryset.exists()
    assert not form.fields["company"].queryset.exists()
    assert not form.fields["tutor"].queryset.exists()


def test_national_reader_does_not_see_the_staff_pages(client, world, centre):
    client.force_login(member(Role.NATIONAL, centre=centre))
    assert client.get(reverse("candidates:registration_list")).status_code == 404
    assert client.get(detail(world["registration"])).status_code == 404


def test_staff_of_two_centres_chooses_the_centre_of_a_new_registration(client, centre):
    user = member(Role.STAFF, centre=centre)
    from tests.factories import MembershipFactory

    MembershipFactory(user=user, role=Role.STAFF)
    client.force_login(user)
    page = client.get(reverse("candidates:registration_create"))
    assert page.status_code == 200
    assert re.search(r'<select name="centre"', page.content.decode())


def test_single_centre_staff_does_not_choose_a_centre(client, staff):
    client.force_login(staff)
    page = client.get(reverse("candidates:registration_create")).content.decode()
    assert re.search(r'<input type="hidden" name="centre"', page)


# ---------------------------------------------------------------------------
# List: search, filters, pagination
# ---------------------------------------------------------------------------
def listed(client, **params) -> set[str]:
    response = client.get(reverse("candidates:registration_list"), params)
    assert response.status_code == 200
    return {r.reference for r in response.context["page_obj"]}


@pytest.fixture
def three(centre, staff, client):
    """Three registrations of the centre, and one of another centre that is never listed."""
    client.force_login(staff)
    a = make_registration(centre=centre, registered_on=datetime.date(2024, 3, 1))
    a.candidate.birth_name, a.candidate.usage_name = "Durand", ""
    a.candidate.save()
    Company.objects.filter(pk=a.company_id).update(name="Forges de Saint-Nazaire")
    b = make_registration(centre=centre, registered_on=datetime.date(2025, 2, 1), kind="CCPM")
    b.candidate.birth_name = "Martin"
    b.candidate.save()
    c = make_registration(centre=centre, registered_on=datetime.date(2025, 6, 1))
    c.candidate.birth_name = "Bernard"
    c.candidate.save()
    make_ready(c)
    elsewhere = make_registration(registered_on=datetime.date(2025, 6, 1))
    elsewhere.candidate.birth_name = "Durand"
    elsewhere.candidate.save()
    return {"a": a.reference, "b": b.reference, "c": c.reference, "objects": (a, b, c)}


def test_list_shows_only_the_centre_registrations(client, three):
    assert listed(client) == {three["a"], three["b"], three["c"]}


def test_list_search_by_name(client, three):
    assert listed(client, q="durand") == {three["a"]}


def test_list_search_by_company(client, three):
    assert listed(client, q="saint-nazaire") == {three["a"]}


def test_list_search_by_reference(client, three):
    assert listed(client, q=three["b"]) == {three["b"]}


def test_list_filter_by_certification(client, three):
    b = three["objects"][1]
    assert listed(client, certification=b.version.certification_id) == {three["b"]}


def test_list_filter_by_state(client, three):
    assert listed(client, state=S.PRET_EVALUATION) == {three["c"]}
    assert listed(client, state=S.INSCRIT) == {three["a"], three["b"]}


def test_list_filter_by_step(client, three):
    assert listed(client, step=3) == {three["c"]}
    assert listed(client, step=1) == {three["a"], three["b"]}
    assert listed(client, step=4) == set()


def test_list_filter_by_year(client, three):
    assert listed(client, year=2024) == {three["a"]}
    assert listed(client, year=2025) == {three["b"], three["c"]}


def test_list_ignores_an_invalid_filter_value(client, three):
    assert listed(client, state="pirate", step="9") == {three["a"], three["b"], three["c"]}


def test_list_filters_keep_what_was_asked_and_say_what_is_wrong(client, three):
    """The filter bar (a plain template, not crispy): every field labelled, the values asked
    kept, an invalid one marked and explained in French next to its field."""
    response = client.get(reverse("candidates:registration_list"),
                          {"q": "Dur<and", "state": "evalue", "year": "1066"})
    html = response.content.decode()
    for name, label in [("q", "Recherche"), ("certification", "Certification"),
                        ("state", "État"), ("step", "Étape"),
                        ("year", "Année d&#x27;inscription"), ("commission", "Commission")]:
        assert f'<label for="id_{name}" class="form-label">{label}</label>' in html
    assert 'value="Dur&lt;and"' in html and "Dur<and" not in html
    assert '<option value="evalue" selected>' in html
    assert ('class="fastselect form-select is-invalid" aria-invalid="true" '
            'aria-describedby="id_year_error"') in html
    assert 'id="id_year_error" class="invalid-feedback"' in html
    assert "Sélectionnez un choix valide. 1066 n’en fait pas partie." in html
    assert '<select name="state" class="fastselect form-select" id="id_state">' in html
    assert 'id="id_state_error"' not in html
    assert '<option value="2024">2024</option>' in html  # the years of the centre offered
    assert '<a class="btn btn-link" href="/candidats/">Effacer</a>' in html


def test_list_is_paginated_and_keeps_the_filters_in_page_links(client, centre, staff,
                                                               bulk_registrations):
    bulk_registrations(centre, 60)
    client.force_login(staff)
    response = client.get(reverse("candidates:registration_list"), {"state": S.INSCRIT})
    page = response.context["page_obj"]
    assert page.paginator.count == 15
    assert len(page.object_list) == 15
    response = client.get(reverse("candidates:registration_list"), {"q": "Masse"})
    page = response.context["page_obj"]
    assert page.paginator.count == 60
    assert len(page.object_list) == 25
    assert 'href="?q=Masse&amp;page=2"' in response.content.decode()
    second = client.get(reverse("candidates:registration_list"), {"q": "Masse", "page": 3})
    assert len(second.context["page_obj"].object_list) == 10


def test_list_offers_new_registration_and_keeps_filters_for_export(client, three):
    page = client.get(reverse("candidates:registration_list"), {"state": "inscrit"})
    body = page.content.decode()
    assert reverse("candidates:registration_create") in body
    try:
        export = reverse("candidates:registration_export")
    except NoReverseMatch:  # the export page comes with the import/export work
        return
    assert f"{export}?state=inscrit&amp;format=csv" in body


@pytest.mark.parametrize("count", [5, 1000])
def test_list_query_count_does_not_grow_with_registrations(
    client, centre, staff, bulk_registrations, django_assert_max_num_queries, count
):
    bulk_registrations(centre, count)
    client.force_login(staff)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("candidates:registration_list"), {"q": "masse"})
    assert response.status_code == 200
    assert response.context["page_obj"].paginator.count == count


# ---------------------------------------------------------------------------
# New registration, company, tutor
# ---------------------------------------------------------------------------
def test_create_registration_for_an_existing_candidate(client, centre, staff):
    version = build_version()
    candidate = CandidateFactory(centre=centre)
    tutor = TutorFactory(company=candidate.employer)
    client.force_login(staff)
    response = client.post(reverse("candidates:registration_create"), {
        "centre": centre.pk, "candidate_choice": "existing", "candidate": candidate.pk,
        "version": version.pk, "path": "salarie", "company": "", "tutor": tutor.pk,
        "registered_on": "2025-09-01",
    })
    registration = Registration.objects.get(candidate=candidate)
    assert response.status_code == 302
    assert response.url == detail(registration)
    assert registration.company == candidate.employer  # the employer, by default
    assert registration.created_by == staff
    assert registration.events.get().to_state == S.INSCRIT


def test_create_registration_with_a_new_candidate_typed_inline(client, centre, staff):
    version = build_version()
    company = CompanyFactory(centre=centre)
    client.force_login(staff)
    response = client.post(reverse("candidates:registration_create"), {
        "centre": centre.pk, "candidate_choice": "new",
        "new-birth_name": "Lemoine", "new-usage_name": "", "new-first_names": "Jeanne",
        "new-birth_date": "1998-04-12", "new-sex": "F", "new-email": "jeanne@mail.example",
        "new-phone": "", "new-employer": company.pk,
        "version": version.pk, "path": "contrat_pro", "company": company.pk,
        "registered_on": "2025-09-01",
    })
    assert response.status_code == 302
    candidate = Candidate.objects.get(birth_name="Lemoine")
    assert candidate.centre == centre
    assert candidate.registrations.get().path == "contrat_pro"


def test_create_registration_errors_keep_the_typed_candidate(client, centre, staff):
    version = build_version()
    client.force_login(staff)
    response = client.post(reverse("candidates:registration_create"), {
        "centre": centre.pk, "candidate_choice": "new",
        "new-birth_name": "Lemoine", "new-first_names": "Jeanne",
        "new-birth_date": "1998-04-12", "new-employer": "",
        "version": version.pk, "path": "salarie", "company": "",
        "registered_on": "2025-09-01",
    })
    assert response.status_code == 200
    body = response.content.decode()
    assert "Ce parcours suppose une entreprise." in body
    assert 'value="Lemoine"' in body
    assert not Candidate.objects.filter(birth_name="Lemoine").exists()  # rolled back


def test_create_registration_offers_only_published_versions(client, staff):
    published = build_version(label="2024-1")
    draft = build_version(publish=False, label="brouillon")
    client.force_login(staff)
    form = client.get(reverse("candidates:registration_create")).context["form"]
    versions = set(form.fields["version"].queryset)
    assert published in versions and draft not in versions


def test_create_registration_refuses_a_candidate_of_another_centre(client, centre, staff):
    stranger = CandidateFactory()
    client.force_login(staff)
    response = client.post(reverse("candidates:registration_create"), {
        "centre": centre.pk, "candidate_choice": "existing", "candidate": stranger.pk,
        "version": build_version().pk, "path": "candidat_libre", "registered_on": "2025-09-01",
    })
    assert response.status_code == 200
    assert not Registration.objects.exists()


def test_vae_on_a_certification_off_the_rncp_is_registered_with_a_warning(client, centre,
                                                                           staff):
    version = build_version(certification=CertificationFactory(registry="",
                                                               registry_number=""))
    candidate = CandidateFactory(centre=centre)
    client.force_login(staff)
    response = client.post(reverse("candidates:registration_create"), {
        "centre": centre.pk, "candidate_choice": "existing", "candidate": candidate.pk,
        "version": version.pk, "path": "vae", "registered_on": "2025-09-01",
    }, follow=True)
    assert Registration.objects.filter(candidate=candidate, path="vae").exists()
    assert any("RNCP" in m and "ne l'est pas" in m for m in messages_of(response))
    assert 'class="alert alert-warning"' in response.content.decode()


def test_company_with_an_invalid_siret_is_refused(client, staff):
    client.force_login(staff)
    response = client.post(reverse("candidates:company_create"), {
        "centre": staff.memberships.get().centre_id, "name": "Chaudronnerie du Port",
        "siret": "123 456 789 00011",
    })
    assert response.status_code == 200
    assert "Ce numéro SIRET n&#x27;est pas valide (clé de contrôle)." in response.content.decode()
    assert not Company.objects.filter(name="Chaudronnerie du Port").exists()


def test_company_then_tutor_creation(client, centre, staff):
    client.force_login(staff)
    siret = make_siret(4242)
    response = client.post(reverse("candidates:company_create"), {
        "centre": centre.pk, "name": "Chaudronnerie du Port",
        "siret": f"{siret[:3]} {siret[3:9]} {siret[9:]}",
    })
    company = Company.objects.get(name="Chaudronnerie du Port")
    assert company.siret == siret and company.centre == centre
    assert response.url == reverse("candidates:tutor_create", args=[company.pk])
    response = client.post(response.url, {"first_name": "Luc", "last_name": "Perrin",
                                          "email": "luc.perrin@port.example"})
    tutor = Tutor.objects.get(company=company)
    assert response.status_code == 302
    assert f"company={company.pk}" in response.url and f"tutor={tutor.pk}" in response.url


# ---------------------------------------------------------------------------
# Registration page
# ---------------------------------------------------------------------------
def test_registration_page_shows_steps_dossier_documents_links_and_timeline(
    client, centre, staff, media_root, real_pdf
):
    registration = make_registration(centre=centre, actor=staff)
    plan(registration, Modality.PRESENTATION_PROJETS)
    services.upload_document(registration=registration, kind=DocumentKind.ACTIVITY_REPORT,
                             uploaded=SimpleUploadedFile("rapport.pdf", real_pdf), actor=staff)
    services.issue_link(registration=registration, purpose=LinkPurpose.COMPANY_OPINION,
                        actor=staff)
    client.force_login(staff)
    response = client.get(detail(registration))
    body = response.content.decode()
    steps = response.context["steps"]
    assert [s.number for s in steps] == [1, 2, 3, 4]
    assert steps[1].status == "current"
    assert "Formation suivie ou décision « sans formation »" in body
    assert "Bloc B1" in body and "Présentation des projets" in body
    assert "rapport.pdf" in body
    assert registration.tutor.email in body
    assert "Inscription enregistrée." in body
    assert 'data-testid="opinion-not-required"' not in body


@pytest.mark.parametrize(("kind", "path"), [("CCPM", "salarie"), ("CCPI", "salarie"),
                                            ("CQPM", "vae")])
def test_registration_page_says_company_opinion_is_not_required(client, centre, staff, kind,
                                                                path):
    registration = make_registration(centre=centre, kind=kind, path=path)
    client.force_login(staff)
    body = client.get(detail(registration)).content.decode()
    assert "Non requis (CCPM/CCPI ou VAE)." in body
    assert "Demander l&#x27;avis" not in body


def test_registration_page_shows_the_vae_block_only_for_vae(client, centre, staff):
    client.force_login(staff)
    salaried = make_registration(centre=centre)
    vae = make_registration(centre=centre, path="vae")
    assert "Recevabilité VAE" not in client.get(detail(salaried)).content.decode()
    assert "Recevabilité VAE" in client.get(detail(vae)).content.decode()


@pytest.fixture
def large_registration(centre, staff, media_root, real_pdf):
    """A registration with many competences, documents, events, links and trainings."""
    registration = make_registration(centre=centre, actor=staff,
                                     version=build_version(blocs=6, competences=5, criteria=2))
    plan(registration, Modality.PRESENTATION_PROJETS)
    organisation = TrainingOrganisation.objects.create(name="AFPI Atlantique")
    habilitation = OrganisationHabilitation.objects.create(
        organisation=organisation, subject="CQPM", valid_from=datetime.date(2020, 1, 1))
    habilitation.certifications.add(registration.version.certification)
    for month in range(1, 4):
        services.record_training(
            registration=registration, actor=staff, organisation=organisation,
            start_on=datetime.date(2025, month, 1), end_on=datetime.date(2025, month, 20),
            hours=35, competences=list(registration.version.competences.all()[:10]))
    for number in range(8):
        services.upload_document(
            registration=registration,
            kind=DocumentKind.ACTIVITY_REPORT if number % 2 else DocumentKind.EVIDENCE,
            uploaded=SimpleUploadedFile(f"piece-{number}.pdf", real_pdf), actor=staff)
    for _ in range(4):
        services.issue_link(registration=registration, purpose=LinkPurpose.CANDIDATE_UPLOAD,
                            actor=staff)
    link = services.issue_link(registration=registration,
                               purpose=LinkPurpose.COMPANY_OPINION, actor=staff)
    services.submit_company_opinion(
        link=link, given_by_name="Luc Perrin", given_by_function="Chef d'atelier",
        overall="favorable", comment="",
        items={c.pk: ("maitrisee", "") for c in registration.version.competences.all()})
    return registration


def test_registration_page_query_count_does_not_grow(
    client, centre, staff, large_registration, django_assert_max_num_queries
):
    small = make_registration(centre=centre, version=build_version(blocs=1, competences=1,
                                                                   criteria=1))
    client.force_login(staff)
    assert large_registration.events.count() > 15
    for registration in (small, large_registration):
        with django_assert_max_num_queries(16):
            response = client.get(detail(registration))
        assert response.status_code == 200


# ---------------------------------------------------------------------------
# Transitions
# ---------------------------------------------------------------------------
def test_refused_transition_shows_the_french_reason_and_keeps_the_state(client, centre,
                                                                        staff):
    registration = make_registration(centre=centre)
    plan(registration, Modality.PRESENTATION_PROJETS)
    services.decide_without_training(registration=registration, actor=staff)
    client.force_login(staff)
    response = client.post(reverse("candidates:registration_transition",
                                   args=[registration.pk]), {"to_state": S.PRET_EVALUATION})
    assert response.status_code == 200
    assert "Le rapport d'activités n'a pas été reçu." in messages_of(response)
    assert "Le rapport d&#x27;activités n&#x27;a pas été reçu." in response.content.decode()
    registration.refresh_from_db()
    assert registration.state == S.INSCRIT


def test_every_reason_of_a_refusal_is_shown(client, centre, staff):
    registration = make_registration(centre=centre)
    client.force_login(staff)
    response = client.post(reverse("candidates:registration_transition",
                                   args=[registration.pk]), {"to_state": S.PRET_EVALUATION})
    shown = messages_of(response)
    assert any(m.startswith("Modalité d'évaluation non choisie") for m in shown)
    assert any(m.startswith("Étape 2") for m in shown)


def test_allowed_transition_writes_a_timeline_row(client, centre, staff):
    registration = make_registration(centre=centre)
    plan(registration)
    services.decide_without_training(registration=registration, actor=staff)
    client.force_login(staff)
    response = client.post(reverse("candidates:registration_transition",
                                   args=[registration.pk]), {"to_state": S.PRET_EVALUATION})
    assert response.status_code == 302
    registration.refresh_from_db()
    assert registration.state == S.PRET_EVALUATION
    event = registration.events.filter(kind=RegistrationEvent.Kind.TRANSITION).last()
    assert (event.actor, event.from_state, event.to_state) == (staff, S.INSCRIT,
                                                               S.PRET_EVALUATION)
    page = client.get(detail(registration)).content.decode()
    assert "Inscrit → <strong>Prêt pour l&#x27;évaluation</strong>" in page


def test_abandon_needs_a_reason_and_keeps_what_was_typed(client, centre, staff):
    registration = make_registration(centre=centre)
    client.force_login(staff)
    url = reverse("candidates:registration_transition", args=[registration.pk])
    response = client.post(url, {"to_state": S.ABANDON, "reason": "  "})
    assert "Indiquez le motif de ce changement d'état." in messages_of(response)
    registration.refresh_from_db()
    assert registration.state == S.INSCRIT
    response = client.post(url, {"to_state": S.ABANDON, "reason": "Démission du salarié"})
    registration.refresh_from_db()
    assert registration.state == S.ABANDON
    assert registration.events.last().message == "Démission du salarié"


def test_system_only_state_is_neither_offered_nor_accepted(client, centre, staff):
    registration = make_ready(make_registration(centre=centre))
    client.force_login(staff)
    page = client.get(detail(registration))
    assert S.EVALUE not in [form.target for form in page.context["transition_forms"]]
    response = client.post(reverse("candidates:registration_transition",
                                   args=[registration.pk]), {"to_state": S.EVALUE})
    assert any("signature de la grille" in m for m in messages_of(response))
    registration.refresh_from_db()
    assert registration.state == S.PRET_EVALUATION


# ---------------------------------------------------------------------------
# Dossier
# ---------------------------------------------------------------------------
@pytest.fixture
def restricted(centre):
    """A registration whose competence C1 allows only the reconstituted situation."""
    version = build_version(blocs=1, competences=2, criteria=1, publish=False)
    Competence.objects.filter(version=version, code="C1").update(
        modalities=[Modality.SITUATION_RECONSTITUEE])
    version = publish_version(version=version)
    return make_registration(centre=centre, version=version)


def dossier_data(registration, **overrides):
    data = {"row_version": registration.row_version, "job_title": "", "career_summary": "",
            "dossier_notes": "", "modalities_agreed_on": "", "planned_evaluation_on": "",
            "company": registration.company_id or "", "tutor": registration.tutor_id or ""}
    for competence in registration.version.competences.all():
        data[f"modality_{competence.pk}"] = competence.modalities[0]
    data.update(overrides)
    return data


def test_dossier_form_offers_only_the_modalities_the_referential_allows(client, staff,
                                                                        restricted):
    client.force_login(staff)
    form = client.get(reverse("candidates:dossier_edit", args=[restricted.pk])).context["form"]
    c1, c2 = restricted.version.competences.order_by("order")
    assert [v for v, _label in form.fields[f"modality_{c1.pk}"].choices if v] == [
        Modality.SITUATION_RECONSTITUEE]
    assert [v for v, _label in form.fields[f"modality_{c2.pk}"].choices if v] == [
        Modality.SITUATION_PROFESSIONNELLE, Modality.PRESENTATION_PROJETS]


def test_dossier_refuses_a_modality_the_referential_does_not_allow(client, staff, restricted):
    c1 = restricted.version.competences.get(code="C1")
    client.force_login(staff)
    response = client.post(
        reverse("candidates:dossier_edit", args=[restricted.pk]),
        dossier_data(restricted, job_title="Régleur",
                     **{f"modality_{c1.pk}": Modality.SITUATION_PROFESSIONNELLE}))
    assert response.status_code == 200
    assert "Le référentiel n&#x27;autorise pas cette modalité" in response.content.decode()
    assert not restricted.planned_modalities.exists()
    restricted.refresh_from_db()
    assert restricted.job_title == ""


def test_dossier_saves_fields_and_modalities(client, staff, restricted):
    client.force_login(staff)
    response = client.post(reverse("candidates:dossier_edit", args=[restricted.pk]),
                           dossier_data(restricted, job_title="Régleur",
                                        modalities_agreed_on="2025-09-15"))
    assert response.status_code == 302
    restricted.refresh_from_db()
    assert restricted.job_title == "Régleur"
    assert restricted.modalities_agreed_on == datetime.date(2025, 9, 15)
    assert restricted.planned_modalities.count() == 2


def test_concurrent_dossier_edit_keeps_the_first_and_shows_the_second_its_input(
    client, centre, staff, restricted
):
    colleague = member(Role.STAFF, centre=centre)
    url = reverse("candidates:dossier_edit", args=[restricted.pk])
    client.force_login(staff)
    first_read = client.get(url).context["form"].initial["row_version"]
    client.force_login(colleague)
    second_read = client.get(url).context["form"].initial["row_version"]
    assert first_read == second_read

    client.force_login(staff)
    assert client.post(url, dossier_data(restricted, row_version=first_read,
                                         job_title="Régleur")).status_code == 302
    client.force_login(colleague)
    response = client.post(url, dossier_data(restricted, row_version=second_read,
                                             job_title="Monteur",
                                             career_summary="Dix ans d'atelier"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "a été modifié par" in body
    assert 'value="Monteur"' in body and "Dix ans d&#x27;atelier" in body
    restricted.refresh_from_db()
    assert restricted.job_title == "Régleur"


def test_dossier_is_read_only_once_ready_for_evaluation(client, centre, staff):
    registration = make_ready(make_registration(centre=centre))
    client.force_login(staff)
    url = reverse("candidates:dossier_edit", args=[registration.pk])
    response = client.post(url, dossier_data(registration, job_title="Régleur"))
    assert response.status_code == 200
    assert "Le dossier ne se modifie plus" in response.content.decode()


# ---------------------------------------------------------------------------
# Step 2 and VAE
# ---------------------------------------------------------------------------
def test_training_by_an_organisation_without_habilitation_is_refused_on_the_form(
    client, centre, staff
):
    registration = make_registration(centre=centre)
    organisation = TrainingOrganisation.objects.create(name="Formation Express")
    client.force_login(staff)
    response = client.post(reverse("candidates:training_create", args=[registration.pk]), {
        "organisation": organisation.pk, "start_on": "2025-01-06", "end_on": "2025-02-06",
        "hours": "70", "notes": "Session de janvier",
    })
    assert response.status_code == 200
    body = response.content.decode()
    assert "n&#x27;est pas habilité par la branche" in body
    assert "Session de janvier" in body
    assert not registration.trainings.exists()


def test_training_is_recorded(client, centre, staff):
    registration = make_registration(centre=centre)
    organisation = TrainingOrganisation.objects.create(name="AFPI Atlantique")
    habilitation = OrganisationHabilitation.objects.create(
        organisation=organisation, subject="CQPM", valid_from=datetime.date(2020, 1, 1))
    habilitation.certifications.add(registration.version.certification)
    competence = registration.version.competences.first()
    client.force_login(staff)
    response = client.post(reverse("candidates:training_create", args=[registration.pk]), {
        "organisation": organisation.pk, "start_on": "2025-01-06", "end_on": "2025-02-06",
        "hours": "70", "competences": [competence.pk],
    })
    assert response.status_code == 302
    training = registration.trainings.get()
    assert list(training.competences.all()) == [competence]
    registration.refresh_from_db()
    assert registration.training_decision == TrainingDecision.TRAINING


def test_without_training_decision(client, centre, staff):
    registration = make_registration(centre=centre)
    client.force_login(staff)
    response = client.post(reverse("candidates:without_training", args=[registration.pk]),
                           {"reason": "Expérience suffisante"})
    assert response.status_code == 302
    registration.refresh_from_db()
    assert registration.training_decision == TrainingDecision.NO_TRAINING
    assert registration.training_decision_reason == "Expérience suffisante"


def test_vae_admissibility_below_the_minimum_experience_is_refused_on_the_form(client, centre,
                                                                              staff):
    registration = make_registration(centre=centre, path="vae")
    client.force_login(staff)
    url = reverse("candidates:vae_admissibility", args=[registration.pk])
    response = client.post(url, {"decided_on": "2025-09-01", "experience_months": "6",
                                 "experience_description": "Six mois d'intérim",
                                 "accepted": "yes"})
    assert response.status_code == 200
    assert "au moins 12 mois" in response.content.decode()
    response = client.post(url, {"decided_on": "2025-09-01", "experience_months": "30",
                                 "experience_description": "Régleur depuis 2022",
                                 "accepted": "yes"})
    assert response.status_code == 302
    assert registration.__class__.objects.get(pk=registration.pk).vae_admissibility.accepted


def test_vae_admissibility_page_does_not_exist_outside_vae(client, centre, staff):
    registration = make_registration(centre=centre)
    client.force_login(staff)
    url = reverse("candidates:vae_admissibility", args=[registration.pk])
    assert client.get(url).status_code == 404


# ---------------------------------------------------------------------------
# Documents
# ---------------------------------------------------------------------------
def upload(client, registration, name, data, kind=DocumentKind.ACTIVITY_REPORT, **extra):
    return client.post(reverse("candidates:document_upload", args=[registration.pk]),
                       {"kind": kind, "file": SimpleUploadedFile(name, data), **extra})


def test_upload_of_a_real_pdf_then_replacement_keeps_the_old_version(client, centre, staff,
                                                                    media_root, real_pdf):
    registration = make_registration(centre=centre)
    client.force_login(staff)
    assert upload(client, registration, "rapport.pdf", real_pdf).status_code == 302
    assert upload(client, registration, "rapport-v2.pdf", real_pdf).status_code == 302
    old, new = registration.documents.order_by("version_number")
    assert (old.version_number, new.version_number) == (1, 2)
    assert old.superseded_at is not None and new.superseded_at is None
    assert old.content_type == "application/pdf"
    body = client.get(detail(registration)).content.decode()
    assert "rapport.pdf" in body and "rapport-v2.pdf" in body and "remplacé le" in body
    download = client.get(reverse("candidates:document_download", args=[old.pk]))
    assert b"".join(download.streaming_content) == real_pdf


def test_evidence_replacement_chosen_on_the_form(client, centre, staff, media_root, real_pdf):
    registration = make_registration(centre=centre)
    client.force_login(staff)
    upload(client, registration, "photo.pdf", real_pdf, kind=DocumentKind.EVIDENCE)
    first = registration.documents.get()
    page = client.get(reverse("candidates:document_upload", args=[registration.pk]),
                      {"remplace": first.pk})
    assert page.context["form"].initial["replaces"] == first
    upload(client, registration, "photo-nette.pdf", real_pdf, kind=DocumentKind.EVIDENCE,
           replaces=first.pk)
    first.refresh_from_db()
    assert first.superseded_at is not None
    assert registration.documents.count() == 2


def test_upload_of_a_renamed_executable_is_refused_in_french(client, centre, staff,
                                                             media_root):
    registration = make_registration(centre=centre)
    client.force_login(staff)
    response = upload(client, registration, "report.pdf", EXECUTABLE)
    assert response.status_code == 200
    assert ("Ce fichier est un programme, pas un document : il est refusé."
            in response.content.decode())
    assert not Document.objects.exists()


def test_upload_of_an_empty_file_is_refused_in_french(client, centre, staff, media_root):
    registration = make_registration(centre=centre)
    client.force_login(staff)
    response = upload(client, registration, "vide.pdf", b"")
    assert response.status_code == 200
    assert not Document.objects.exists()


def test_download_is_an_attachment_with_the_original_name_and_stored_type(
    client, world, staff
):
    client.force_login(staff)
    response = client.get(reverse("candidates:document_download",
                                  args=[world["document"].pk]))
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="preuve.pdf"'
    assert "no-store" in response["Cache-Control"]
    b"".join(response.streaming_content)


def test_download_by_an_outsider_is_404(client, world, other_staff):
    client.force_login(other_staff)
    response = client.get(reverse("candidates:document_download",
                                  args=[world["document"].pk]))
    assert response.status_code == 404


# ---------------------------------------------------------------------------
# Personal links
# ---------------------------------------------------------------------------
def test_request_company_opinion_issues_a_link_to_the_tutor(client, centre, staff):
    registration = make_registration(centre=centre)
    client.force_login(staff)
    response = client.post(reverse("candidates:link_issue", args=[registration.pk]),
                           {"purpose": LinkPurpose.COMPANY_OPINION}, follow=True)
    link = registration.links.get()
    assert link.email == registration.tutor.email
    assert any(registration.tutor.email in m for m in messages_of(response))
    assert "En attente de l'avis" in response.content.decode()


def test_opinion_link_for_a_ccpm_is_refused_with_the_reason(client, centre, staff):
    registration = make_registration(centre=centre, kind="CCPM")
    client.force_login(staff)
    response = client.post(reverse("candidates:link_issue", args=[registration.pk]),
                           {"purpose": LinkPurpose.COMPANY_OPINION}, follow=True)
    assert not registration.links.exists()
    assert any("n'est pas recueilli" in m for m in messages_of(response))


def test_revoke_a_link(client, world, staff):
    client.force_login(staff)
    link = world["link"]
    response = client.post(reverse("candidates:link_revoke", args=[link.pk]))
    assert response.status_code == 302
    assert AccessLink.objects.get(pk=link.pk).revoked_at is not None


# ---------------------------------------------------------------------------
# Navigation and dashboard
# ---------------------------------------------------------------------------
def test_dashboard_links_to_the_list_with_counts_per_state(client, centre, staff):
    make_registration(centre=centre)
    make_ready(make_registration(centre=centre))
    make_registration()  # another centre: not counted
    client.force_login(staff)
    response = client.get(reverse("dashboard"))
    counts = {state: n for state, _label, n in response.context["registration_counts"]}
    assert counts[S.INSCRIT] == 1 and counts[S.PRET_EVALUATION] == 1
    assert f'{reverse("candidates:registration_list")}?state=inscrit' in response.content.decode()


def test_candidates_menu_only_for_staff(client, centre, staff):
    url = reverse("candidates:registration_list")
    client.force_login(staff)
    assert f'href="{url}"' in client.get(reverse("dashboard")).content.decode()
    client.force_login(member(Role.EVALUATOR, centre=centre))
    assert f'href="{url}"' not in client.get(reverse("dashboard")).content.decode()
