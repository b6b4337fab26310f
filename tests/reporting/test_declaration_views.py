"""The « Déclarations Caisse des Dépôts » page: who sees it, the buttons, the query budget."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from certifications.models import Role
from reporting import services
from reporting.models import Award, AwardState, DeclarationBatch
from tests.budgets import assert_flat, page_queries
from tests.factories import CentreFactory, member
from tests.reporting.conftest import final_decision, make_award_registration
from tests.reporting.test_declarations import receipt

pytestmark = pytest.mark.django_db
PAGE = reverse("reporting:declarations")


def login(client, user):
    client.force_login(user)
    return client


def test_staff_see_due_overdue_and_blocked_awards(client, centre, version, staff):
    overdue = make_award_registration(centre, version, birth_name="Ancien")
    final_decision(overdue, days_ago=120)
    blocked = make_award_registration(centre, version, birth_name="Incomplet", sex="")
    final_decision(blocked)

    response = login(client, staff).get(PAGE)

    html = response.content.decode()
    assert response.status_code == 200
    assert "ANCIEN" in html and 'data-overdue="1"' in html and "en retard" in html
    assert "INCOMPLET" in html and "À compléter : sexe." in html
    assert "Générer le fichier" in html


def test_page_says_when_settings_are_unset(client, centre, staff, settings):
    settings.CDC_DECLARATION = {**settings.CDC_DECLARATION, "ID_CLIENT": "", "ID_CONTRAT": ""}
    html = login(client, staff).get(PAGE).content.decode()
    assert "Déclaration non configurée" in html and "CDC_ID_CLIENT" in html
    assert "Aucun passage à déclarer." in html and "Rien à compléter." in html


def test_outsiders_get_404(client, centre, holders):
    for role in (Role.EVALUATOR, Role.JURY):
        client.force_login(member(role, centre=centre))
        assert client.get(PAGE).status_code == 404
        assert client.post(reverse("reporting:declarations_generate")).status_code == 404
    assert not DeclarationBatch.objects.exists()


def test_other_centre_staff_see_nothing_of_this_centre(client, holders):
    other = member(Role.STAFF, centre=CentreFactory())
    html = login(client, other).get(PAGE).content.decode()
    assert holders[0].reference not in html
    response = client.post(reverse("reporting:declarations_generate"))
    assert response.status_code == 302
    assert not DeclarationBatch.objects.exists()


def test_national_role_reads_every_centre_without_acting(client, holders):
    national = member(Role.NATIONAL, centre=CentreFactory())
    response = login(client, national).get(PAGE)
    assert response.status_code == 200
    assert holders[0].reference in response.content.decode()
    assert "Générer le fichier" not in response.content.decode()
    assert client.post(reverse("reporting:declarations_generate")).status_code == 404


def test_generate_downloads_the_file_and_the_batch_downloads_it_again(client, holders, staff,
                                                                       schema):
    response = login(client, staff).post(reverse("reporting:declarations_generate"))
    data = b"".join(response.streaming_content)
    batch = DeclarationBatch.objects.get()
    assert response["Content-Disposition"].endswith(f'"{batch.file_name}"')
    schema.validate(data.decode())

    again = client.get(reverse("reporting:declarations_batch", args=[batch.pk]))
    assert b"".join(again.streaming_content) == data


def test_receipt_upload_and_resend(client, holders, staff):
    b"".join(login(client, staff).post(
        reverse("reporting:declarations_generate")).streaming_content)
    ko = holders[1].reference
    upload = SimpleUploadedFile("accuse.xml", receipt(
        ok=[holders[0].reference, holders[2].reference], ko=[(ko, "Aucun titulaire trouvé")]))

    response = client.post(reverse("reporting:declarations_receipt"), {"file": upload},
                           follow=True)

    assert "2 passage(s) déclaré(s), 1 refusé(s)" in response.content.decode()
    assert "Aucun titulaire trouvé" in response.content.decode()
    award = Award.objects.get(id_technique=ko)
    client.post(reverse("reporting:declarations_resend", args=[award.pk]))
    award.refresh_from_db()
    assert award.state == AwardState.DUE


def test_hostile_receipt_upload_is_refused_with_a_message(client, holders, staff):
    from tests.reporting.test_declarations import BILLION_LAUGHS

    b"".join(login(client, staff).post(
        reverse("reporting:declarations_generate")).streaming_content)
    upload = SimpleUploadedFile("accuse.xml", BILLION_LAUGHS)
    response = client.post(reverse("reporting:declarations_receipt"), {"file": upload},
                           follow=True)
    assert "Accusé refusé" in response.content.decode()
    assert not Award.objects.filter(state=AwardState.DECLARED).exists()


def test_page_queries_do_not_grow_with_awards(client, centre, version, staff):
    def add(count, start):
        for n in range(count):
            registration = make_award_registration(centre, version,
                                                   birth_name=f"Titulaire{start + n}")
            final_decision(registration, days_ago=20 + n)
        blocked = make_award_registration(centre, version, birth_name=f"Bloque{start}",
                                          sex="")
        final_decision(blocked)

    add(2, 0)
    login(client, staff)
    small = page_queries(client, PAGE, warm=True)
    add(8, 100)
    client.get(PAGE)  # the first visit after new decisions creates their awards
    large = page_queries(client, PAGE)
    assert_flat(small, large)
    services.generate_batch(actor=staff, out=None, centre_ids=[centre.pk])
    assert_flat(small, page_queries(client, PAGE))


def test_page_query_count_is_bounded(client, holders, staff, django_assert_max_num_queries):
    login(client, staff).get(PAGE)
    with django_assert_max_num_queries(25):
        assert client.get(PAGE).status_code == 200


def test_a_batch_of_several_centres_is_seen_by_the_staff_of_its_awards(client, holders, staff):
    """From the command line (every centre): the centre's staff still find and download it."""
    services.generate_batch(actor=None, out=None)
    batch = DeclarationBatch.objects.get()
    assert batch.centre is None
    html = login(client, staff).get(PAGE).content.decode()
    assert batch.id_flux in html
    response = client.get(reverse("reporting:declarations_batch", args=[batch.pk]))
    assert response.status_code == 200
    b"".join(response.streaming_content)
    other = member(Role.STAFF, centre=CentreFactory())
    client.force_login(other)
    assert client.get(reverse("reporting:declarations_batch", args=[batch.pk])).status_code \
        == 404


def test_reasons_are_stored_in_french_whatever_the_reader_language(client, centre, version,
                                                                   staff):
    final_decision(make_award_registration(centre, version, sex=""))
    login(client, staff).get(PAGE, HTTP_ACCEPT_LANGUAGE="en")
    assert Award.objects.get().blocked_reason == "À compléter : sexe."
