"""« Devenez évaluateur »: the public application form and its review by staff — approval
creates the account and the profile, refusal records a reason; an e-mail either way."""

import re

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.test import RequestFactory
from django.urls import reverse

from certifications.models import CentreMembership, Role
from commissions import services
from commissions.models import ApplicationStatus, Evaluator, EvaluatorApplication
from tests.factories import make_siret

pytestmark = pytest.mark.django_db


def application_data(centre, **overrides) -> dict:
    data = {
        "centre": centre.pk,
        "first_name": "Nadia",
        "last_name": "Benali",
        "email": "nadia.benali@industrie.example",
        "phone": "06 12 34 56 78",
        "employer_name": "Chantiers de l'Atlantique",
        "employer_siret": make_siret(424_242),
        "profession": "Cheffe d'équipe chaudronnerie",
        "experience_years": 14,
        "expertise": "Chaudronnerie, soudage TIG, lecture de plans.",
        "motivation": "Transmettre le métier.",
        "website": "",
    }
    data.update(overrides)
    return data


@pytest.fixture
def application(centre):
    return EvaluatorApplication.objects.create(
        centre=centre, first_name="Nadia", last_name="Benali",
        email="nadia.benali@industrie.example", phone="06 12 34 56 78",
        employer_name="Chantiers de l'Atlantique", employer_siret=make_siret(424_242),
        profession="Cheffe d'équipe chaudronnerie", experience_years=14,
        expertise="Chaudronnerie, soudage TIG.")


def approve(application, staff, capture):
    with capture(execute=True):
        return services.approve_application(application=application, actor=staff)


# ---------------------------------------------------------------------------
# Public form
# ---------------------------------------------------------------------------
def test_application_form_is_public(client, centre):
    response = client.get(reverse("commissions:apply"))

    assert response.status_code == 200
    assert "Envoyer ma candidature" in response.content.decode()


def test_submitted_application_is_recorded(client, centre, certification):
    certification.status = "published"
    certification.save()

    response = client.post(reverse("commissions:apply"),
                           application_data(centre, certifications=[certification.pk]))

    assert response.status_code == 302
    [application] = EvaluatorApplication.objects.all()
    assert (application.centre, application.last_name, application.status) == (
        centre, "Benali", ApplicationStatus.SUBMITTED)
    assert list(application.certifications.all()) == [certification]
    assert client.get(response["Location"]).status_code == 200


def test_honeypot_filled_records_nothing_but_looks_normal(client, centre):
    human = client.post(reverse("commissions:apply"), application_data(centre))
    EvaluatorApplication.objects.all().delete()

    robot = client.post(reverse("commissions:apply"),
                        application_data(centre, website="http://spam.example"))

    assert robot.status_code == human.status_code == 302
    assert robot["Location"] == human["Location"]
    assert not EvaluatorApplication.objects.exists()


def test_invalid_siret_is_refused_in_french(client, centre):
    response = client.post(reverse("commissions:apply"),
                           application_data(centre, employer_siret="12345678901234"))

    assert response.status_code == 200
    assert "Ce numéro SIRET n&#x27;est pas valide (clé de contrôle)." in (
        response.content.decode())
    assert not EvaluatorApplication.objects.exists()


# ---------------------------------------------------------------------------
# Review: approval
# ---------------------------------------------------------------------------
def test_approval_creates_account_membership_and_profile(
    application, staff, django_capture_on_commit_callbacks
):
    evaluator = approve(application, staff, django_capture_on_commit_callbacks)

    user = evaluator.user
    assert (user.username, user.email, user.first_name, user.last_name) == (
        "nbenali", "nadia.benali@industrie.example", "Nadia", "Benali")
    assert not user.has_usable_password()
    assert list(CentreMembership.objects.filter(user=user).values_list("centre", "role")) == [
        (application.centre_id, Role.EVALUATOR)]
    assert (evaluator.centre, evaluator.employer_name, evaluator.employer_siret,
            evaluator.profession) == (application.centre, "Chantiers de l'Atlantique",
                                      application.employer_siret,
                                      "Cheffe d'équipe chaudronnerie")
    application.refresh_from_db()
    assert (application.status, application.reviewed_by, application.evaluator) == (
        ApplicationStatus.APPROVED, staff, evaluator)
    assert application.reviewed_at is not None


def test_approved_evaluator_cannot_sit_before_habilitation_and_charter(
    application, staff, commission, django_capture_on_commit_callbacks
):
    evaluator = approve(application, staff, django_capture_on_commit_callbacks)

    problems = services.member_problems(evaluator, commission)

    assert [p.code for p in problems] == ["charter", "habilitation"]


def test_same_name_gets_another_username(application, centre, staff,
                                         django_capture_on_commit_callbacks):
    get_user_model().objects.create_user(username="nbenali")

    evaluator = approve(application, staff, django_capture_on_commit_callbacks)

    assert evaluator.user.username == "nbenali2"


def test_approval_email_has_a_password_link_that_works(
    client, application, staff, mailoutbox, django_capture_on_commit_callbacks
):
    evaluator = approve(application, staff, django_capture_on_commit_callbacks)

    [message] = mailoutbox
    assert message.to == ["nadia.benali@industrie.example"]
    assert message.subject == "Votre candidature d'évaluateur est acceptée"
    assert "nbenali" in message.body
    [url] = re.findall(re.escape(settings.SITE_URL) + r"/\S+", message.body)

    landing = client.get(url.removeprefix(settings.SITE_URL), follow=True)
    assert landing.status_code == 200
    assert landing.context["validlink"] is True
    set_password = client.post(landing.redirect_chain[-1][0], {
        "new_password1": "Chaudronnerie-44-Nantes", "new_password2": "Chaudronnerie-44-Nantes"})
    assert set_password.status_code == 302
    # django-axes checks every sign-in against its request: give it one.
    assert client.login(request=RequestFactory().post("/accounts/login/"), username="nbenali",
                        password="Chaudronnerie-44-Nantes")
    evaluator.user.refresh_from_db()
    assert evaluator.user.has_usable_password()


def test_password_link_works_only_once(client, application, staff, mailoutbox,
                                       django_capture_on_commit_callbacks):
    approve(application, staff, django_capture_on_commit_callbacks)
    [url] = re.findall(re.escape(settings.SITE_URL) + r"/\S+", mailoutbox[0].body)
    path = url.removeprefix(settings.SITE_URL)
    landing = client.get(path, follow=True)
    client.post(landing.redirect_chain[-1][0], {
        "new_password1": "Chaudronnerie-44-Nantes", "new_password2": "Chaudronnerie-44-Nantes"})
    client.logout()

    again = client.get(path, follow=True)

    assert again.context["validlink"] is False


# ---------------------------------------------------------------------------
# Review: refusal, and only once
# ---------------------------------------------------------------------------
def test_refusal_requires_a_reason(application, staff):
    with pytest.raises(ValidationError) as refused:
        services.refuse_application(application=application, actor=staff, reason="  ")

    assert refused.value.messages == ["Indiquez le motif du refus."]
    application.refresh_from_db()
    assert application.status == ApplicationStatus.SUBMITTED


def test_refusal_emails_the_reason(application, staff, mailoutbox,
                                   django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.refuse_application(
            application=application, actor=staff,
            reason="Notre réseau est complet sur la chaudronnerie cette année.")

    application.refresh_from_db()
    assert (application.status, application.refusal_reason, application.reviewed_by) == (
        ApplicationStatus.REFUSED,
        "Notre réseau est complet sur la chaudronnerie cette année.", staff)
    [message] = mailoutbox
    assert message.to == ["nadia.benali@industrie.example"]
    assert message.subject == "Votre candidature d'évaluateur"
    assert "Notre réseau est complet sur la chaudronnerie cette année." in message.body
    assert not get_user_model().objects.filter(email=application.email).exists()


@pytest.mark.parametrize("first", ["approve", "refuse"])
@pytest.mark.parametrize("second", ["approve", "refuse"])
def test_an_application_is_reviewed_once(application, staff, first, second, mailoutbox,
                                         django_capture_on_commit_callbacks):
    def review(kind):
        if kind == "approve":
            return services.approve_application(application=application, actor=staff)
        return services.refuse_application(application=application, actor=staff,
                                           reason="Profil éloigné des certifications.")

    with django_capture_on_commit_callbacks(execute=True):
        review(first)

    with pytest.raises(ValidationError) as refused:
        review(second)

    assert refused.value.messages == ["Cette candidature a déjà été examinée."]
    assert Evaluator.objects.count() == (1 if first == "approve" else 0)
    assert len(mailoutbox) == 1


# ---------------------------------------------------------------------------
# Review pages (staff)
# ---------------------------------------------------------------------------
def review_url(application) -> str:
    return reverse("commissions:application_review", args=[application.pk])


def test_staff_list_and_review_applications(client, application, staff):
    client.force_login(staff)

    listing = client.get(reverse("commissions:application_list"))
    review = client.get(review_url(application))

    assert listing.status_code == 200
    assert "Benali" in listing.content.decode() or "BENALI" in listing.content.decode()
    assert review.status_code == 200


def test_staff_approve_from_the_review_page(client, application, staff, mailoutbox,
                                            django_capture_on_commit_callbacks):
    client.force_login(staff)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(review_url(application), {"action": "approve"})

    assert response.status_code == 302
    application.refresh_from_db()
    assert application.status == ApplicationStatus.APPROVED
    assert len(mailoutbox) == 1


def test_staff_refusal_without_reason_shows_the_french_error(client, application, staff):
    client.force_login(staff)

    response = client.post(review_url(application), {"action": "refuse", "reason": ""})

    assert response.status_code == 200
    assert "Indiquez le motif du refus." in response.content.decode()
    application.refresh_from_db()
    assert application.status == ApplicationStatus.SUBMITTED


def test_staff_refuse_with_a_reason(client, application, staff, mailoutbox,
                                    django_capture_on_commit_callbacks):
    client.force_login(staff)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(review_url(application),
                               {"action": "refuse", "reason": "Profil trop éloigné."})

    assert response.status_code == 302
    application.refresh_from_db()
    assert (application.status, application.refusal_reason) == (
        ApplicationStatus.REFUSED, "Profil trop éloigné.")
    assert "Profil trop éloigné." in mailoutbox[0].body


def test_reviewing_twice_from_the_page_is_refused(client, application, staff, mailoutbox,
                                                  django_capture_on_commit_callbacks):
    client.force_login(staff)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(review_url(application), {"action": "approve"})

    response = client.post(review_url(application),
                           {"action": "refuse", "reason": "Trop tard."}, follow=True)

    application.refresh_from_db()
    assert application.status == ApplicationStatus.APPROVED
    assert "Cette candidature a déjà été examinée." in response.content.decode()
    assert len(mailoutbox) == 1


def test_staff_of_another_centre_cannot_review(client, application, other_staff):
    client.force_login(other_staff)

    assert client.get(review_url(application)).status_code == 404
    assert client.post(review_url(application), {"action": "approve"}).status_code == 404
    application.refresh_from_db()
    assert application.status == ApplicationStatus.SUBMITTED
