"""Referential pages and admin: readable by the right people, frozen once published."""

import pytest
from django.urls import reverse

from certifications.models import Criterion, ReferentialVersion, Role, VersionStatus
from tests.factories import CertificationFactory, UserFactory, build_version, member

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client):
    user = member(Role.STAFF)
    from certifications.demo import staff_group

    user.groups.add(staff_group())
    return user


def test_referential_document_shows_every_competence_and_criterion(client, staff):
    version = build_version(blocs=2, competences=2, criteria=3)
    client.force_login(staff)
    response = client.get(reverse("certifications:referential_detail", args=[version.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    for criterion in Criterion.objects.filter(competence__version=version):
        assert criterion.text in body
    assert "Bloc B1" in body and "Bloc B2" in body
    assert "Évaluation en situation professionnelle" in body


def test_referential_document_query_count_does_not_grow(
    client, staff, django_assert_max_num_queries
):
    small = build_version(blocs=1, competences=1, criteria=1)
    large = build_version(blocs=5, competences=4, criteria=6)
    client.force_login(staff)
    for version in (small, large):
        with django_assert_max_num_queries(12):
            response = client.get(reverse("certifications:referential_detail", args=[version.pk]))
        assert response.status_code == 200


def test_referential_list_is_paginated_with_bounded_queries(client, staff,
                                                            django_assert_max_num_queries):
    for _ in range(3):
        build_version()
    client.force_login(staff)
    with django_assert_max_num_queries(10):
        response = client.get(reverse("certifications:referential_list"))
    assert response.status_code == 200
    assert response.context["page_obj"].paginator.count == 3


@pytest.mark.parametrize("url_name", ["certifications:referential_list",
                                      "certifications:referential_detail"])
def test_outsider_gets_404_on_referential_pages(client, url_name):
    version = build_version()
    client.force_login(UserFactory())  # a user with no role in any centre
    args = [version.pk] if url_name.endswith("detail") else []
    assert client.get(reverse(url_name, args=args)).status_code == 404


def test_anonymous_is_sent_to_login(client):
    response = client.get(reverse("certifications:referential_list"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_jury_member_does_not_read_referential_pages(client):
    client.force_login(member(Role.JURY))
    assert client.get(reverse("certifications:referential_list")).status_code == 404


def test_admin_change_of_published_version_is_refused(client, staff):
    version = build_version()
    client.force_login(staff)
    url = reverse("admin:certifications_referentialversion_change", args=[version.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert b'name="label"' not in page.content  # read-only view
    response = client.post(url, {"certification": version.certification_id, "label": "pirate",
                                 "valid_from": "2024-01-01"})
    assert response.status_code == 403
    version.refresh_from_db()
    assert version.label == "2024-1"


def test_admin_delete_of_published_version_is_refused(client, staff):
    version = build_version()
    client.force_login(staff)
    url = reverse("admin:certifications_referentialversion_delete", args=[version.pk])
    assert client.post(url, {"post": "yes"}).status_code == 403
    assert ReferentialVersion.objects.filter(pk=version.pk).exists()


def test_admin_edits_draft_with_nested_inlines(client, staff):
    version = build_version(publish=False, blocs=1, competences=1, criteria=1)
    client.force_login(staff)
    url = reverse("admin:certifications_referentialversion_change", args=[version.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert b'name="label"' in page.content
    assert b"Crit\xc3\xa8re observable 1.1" in page.content


def test_admin_copy_action_creates_a_draft(client, staff):
    version = build_version()
    client.force_login(staff)
    response = client.post(
        reverse("admin:certifications_referentialversion_changelist"),
        {"action": "copy", "_selected_action": [version.pk]},
    )
    assert response.status_code == 302
    copy = ReferentialVersion.objects.get(certification=version.certification, label="2024-2")
    assert copy.status == VersionStatus.DRAFT


def test_admin_publish_action_refuses_incomplete_draft(client, staff):
    version = build_version(publish=False)
    Criterion.objects.filter(competence__version=version).delete()
    client.force_login(staff)
    response = client.post(
        reverse("admin:certifications_referentialversion_changelist"),
        {"action": "publish", "_selected_action": [version.pk]}, follow=True,
    )
    assert "aucun critère" in response.content.decode()
    version.refresh_from_db()
    assert version.status == VersionStatus.DRAFT


def test_admin_certification_changelist_filters_and_search(client, staff):
    CertificationFactory(kind="CCPM", code="CCPM 0099", title="Animer une équipe")
    CertificationFactory(kind="CQPM", code="MQ 2019 10 69 0324", title="Usineur")
    client.force_login(staff)
    url = reverse("admin:certifications_certification_changelist")
    assert client.get(url, {"kind__exact": "CCPM"}).context["cl"].result_count == 1
    assert client.get(url, {"q": "0324"}).context["cl"].result_count == 1


def test_the_certification_autocomplete_of_the_version_admin_answers(client):
    """The certification list is annotated with a count: without an explicit order the
    autocomplete paginated an unordered list (an error under the test settings)."""
    CertificationFactory(code="CQPM 0001")
    CertificationFactory(code="CQPM 0002")
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    response = client.get(reverse("admin:autocomplete"), {
        "app_label": "certifications", "model_name": "referentialversion",
        "field_name": "certification", "term": "CQPM"})
    assert response.status_code == 200
    assert [r["text"] for r in response.json()["results"]] == sorted(
        r["text"] for r in response.json()["results"])
    assert len(response.json()["results"]) == 2


def test_the_admin_import_refuses_an_oversized_file(client, settings):
    """The admin hands the uploaded file unread to the importer, which refuses it on its
    announced size before reading it (exchange.parsing.read_limited, tested there)."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.CERTIFICATION = {**settings.CERTIFICATION, "REFERENTIAL_MAX_BYTES": 1000}
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    upload = SimpleUploadedFile("gros.json", b"{" + b" " * 5000 + b"}",
                                content_type="application/json")
    response = client.post(reverse("admin:certifications_certification_import"),
                           {"files": [upload]})
    assert response.status_code == 200
    assert "trop volumineux" in response.content.decode()
    assert not ReferentialVersion.objects.exists()
