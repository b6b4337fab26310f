"""A published referential version is immutable by every path (issue: Done when)."""

import pytest
from django.core.exceptions import ValidationError

from certifications.models import (
    Bloc,
    Competence,
    Criterion,
    RatingLevel,
    ReferentialLocked,
    ReferentialVersion,
    VersionStatus,
)
from certifications.services import (
    archive_version,
    copy_version,
    next_version_label,
    publish_version,
)
from tests.factories import CertificationFactory, build_version

pytestmark = pytest.mark.django_db


@pytest.fixture
def published():
    return build_version()


def test_published_version_fields_cannot_be_saved(published):
    published.activities = "Nouvelle description"
    with pytest.raises(ReferentialLocked):
        published.save()
    published.refresh_from_db()
    assert published.activities == ""


def test_published_version_cannot_go_back_to_draft(published):
    published.status = VersionStatus.DRAFT
    with pytest.raises(ReferentialLocked):
        published.save()


def test_published_version_cannot_be_deleted(published):
    with pytest.raises(ReferentialLocked):
        published.delete()
    assert ReferentialVersion.objects.filter(pk=published.pk).exists()


@pytest.mark.parametrize("model", [Bloc, Competence, Criterion, RatingLevel])
def test_content_rows_of_published_version_refuse_save_and_delete(published, model):
    row = model.objects.filter(
        **({"competence__version": published} if model is Criterion else {"version": published})
    ).first()
    if model is Criterion:
        row.text = "modifié"
    elif model is RatingLevel:
        row.label = "modifié"
    else:
        row.title = "modifié"
    with pytest.raises(ReferentialLocked):
        row.save()
    with pytest.raises(ReferentialLocked):
        row.delete()


def test_new_rows_cannot_be_added_to_published_version(published):
    competence = published.competences.first()
    with pytest.raises(ReferentialLocked):
        Criterion.objects.create(competence=competence, code="X", text="ajout")
    with pytest.raises(ReferentialLocked):
        Criterion.objects.bulk_create([Criterion(competence=competence, code="Y", text="ajout")])
    with pytest.raises(ReferentialLocked):
        Bloc.objects.create(version=published, code="B9", title="ajout")


def test_queryset_update_and_delete_refused_on_published_content(published):
    with pytest.raises(ReferentialLocked):
        Criterion.objects.filter(competence__version=published).update(text="massif")
    with pytest.raises(ReferentialLocked):
        Competence.objects.filter(version=published).delete()
    with pytest.raises(ReferentialLocked):
        RatingLevel.objects.filter(version=published).update(mastered=False)
    criteria = list(Criterion.objects.filter(competence__version=published))
    for criterion in criteria:
        criterion.text = "massif"
    with pytest.raises(ReferentialLocked):
        Criterion.objects.bulk_update(criteria, ["text"])
    assert not Criterion.objects.filter(text="massif").exists()


def test_moving_a_draft_row_into_or_out_of_a_published_version_is_refused(published):
    draft = build_version(certification=published.certification, label="2025-1", publish=False)
    criterion = Criterion.objects.filter(competence__version=published).first()
    criterion.competence = draft.competences.first()
    with pytest.raises(ReferentialLocked):
        criterion.save()


def test_draft_version_content_is_editable():
    draft = build_version(publish=False)
    Criterion.objects.filter(competence__version=draft).update(text="corrigé")
    assert Criterion.objects.filter(competence__version=draft, text="corrigé").count() == 12


def test_archiving_keeps_content_locked(published):
    archived = archive_version(version=published)
    assert archived.status == VersionStatus.ARCHIVED
    with pytest.raises(ReferentialLocked):
        Criterion.objects.filter(competence__version=archived).update(text="x")


def test_copy_makes_an_editable_draft_with_the_same_content(published):
    copy = copy_version(version=published, label=next_version_label(published))
    assert copy.label == "2024-2"
    assert copy.status == VersionStatus.DRAFT
    assert copy.copied_from == published
    assert [c.code for c in copy.competences_in_order()] == [
        c.code for c in published.competences_in_order()
    ]
    assert Criterion.objects.filter(competence__version=copy).count() == 12
    assert copy.blocs.count() == 2
    assert all(c.bloc.version_id == copy.pk for c in copy.competences.select_related("bloc"))
    Criterion.objects.filter(competence__version=copy).update(text="révisé")
    assert not Criterion.objects.filter(competence__version=published, text="révisé").exists()


def test_copy_refuses_a_taken_label(published):
    with pytest.raises(ValidationError, match="existe déjà"):
        copy_version(version=published, label="2024-1")


def test_publish_refuses_incomplete_version():
    draft = build_version(publish=False)
    Criterion.objects.filter(competence__version=draft, competence__code="C1").delete()
    with pytest.raises(ValidationError) as error:
        publish_version(version=draft)
    assert "La compétence C1 n'a aucun critère." in error.value.messages


def test_publish_refuses_scale_without_mastered_level():
    draft = build_version(publish=False)
    RatingLevel.objects.filter(version=draft, mastered=True).update(mastered=False)
    with pytest.raises(ValidationError) as error:
        publish_version(version=draft)
    assert any("maîtrisé" in message for message in error.value.messages)


def test_ccpm_has_competences_without_blocs():
    version = build_version(certification=CertificationFactory(kind="CCPM"), competences=3)
    assert version.blocs.count() == 0
    assert version.competences.filter(bloc__isnull=True).count() == 3
