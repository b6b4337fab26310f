"""Business writes on referentials: publication and new versions by copy (DOMAIN.md §1)."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from certifications.models import (
    Bloc,
    Competence,
    Criterion,
    RatingLevel,
    ReferentialVersion,
    VersionStatus,
)


def version_problems(version: ReferentialVersion) -> list[str]:
    """What prevents a version from being published, in French (empty when publishable)."""
    problems: list[str] = []
    levels = list(version.rating_levels.all())
    if len(levels) < 2:
        problems.append(_("L'échelle de notation doit compter au moins deux niveaux."))
    if not any(level.mastered for level in levels):
        problems.append(_("Un niveau de l'échelle doit être marqué « maîtrisé »."))
    if not any(not level.mastered for level in levels):
        problems.append(_("Un niveau de l'échelle doit être marqué « non maîtrisé »."))
    competences = list(version.competences.select_related("bloc").prefetch_related("criteria"))
    has_blocs = version.certification.has_blocs
    if has_blocs and not version.blocs.exists():
        problems.append(_("Cette certification se compose de blocs : ajoutez au moins un bloc."))
    if not competences:
        problems.append(_("Le référentiel ne contient aucune compétence."))
    for competence in competences:
        if has_blocs and competence.bloc_id is None:
            problems.append(_("La compétence %(code)s n'est rattachée à aucun bloc.")
                            % {"code": competence.code})
        if not has_blocs and competence.bloc_id is not None:
            problems.append(_("Un %(kind)s n'a pas de blocs : la compétence %(code)s ne doit pas "
                              "être rattachée à un bloc.")
                            % {"kind": version.certification.kind, "code": competence.code})
        if not list(competence.criteria.all()):
            problems.append(_("La compétence %(code)s n'a aucun critère.")
                            % {"code": competence.code})
        try:
            competence.clean()
        except ValidationError as error:
            problems.extend(f"{competence.code} : {message}" for message in error.messages)
    return problems


@transaction.atomic
def publish_version(*, version: ReferentialVersion) -> ReferentialVersion:
    """Publish a draft version: from then on it is immutable (DESIGN.md §3)."""
    version = ReferentialVersion.objects.select_for_update().get(pk=version.pk)
    if version.status != VersionStatus.DRAFT:
        raise ValidationError(_("Seule une version en brouillon peut être publiée."))
    problems = version_problems(version)
    if problems:
        raise ValidationError(problems)
    version.status = VersionStatus.PUBLISHED
    version.published_at = timezone.now()
    version.save()
    return version


@transaction.atomic
def archive_version(*, version: ReferentialVersion) -> ReferentialVersion:
    version = ReferentialVersion.objects.select_for_update().get(pk=version.pk)
    if version.status != VersionStatus.PUBLISHED:
        raise ValidationError(_("Seule une version publiée peut être archivée."))
    version.status = VersionStatus.ARCHIVED
    version.save()
    return version


@transaction.atomic
def copy_version(*, version: ReferentialVersion, label: str) -> ReferentialVersion:
    """A new draft version with the same content: the only way to change a published one.
    Candidates registered on the old version keep it."""
    label = label.strip()
    if not label:
        raise ValidationError(_("Indiquez le libellé de la nouvelle version."))
    if ReferentialVersion.objects.filter(certification=version.certification, label=label).exists():
        raise ValidationError(_("La version « %(label)s » existe déjà pour cette certification.")
                              % {"label": label})
    new = ReferentialVersion.objects.create(
        certification=version.certification, label=label, status=VersionStatus.DRAFT,
        valid_from=timezone.localdate(), valid_until=None, activities=version.activities,
        copied_from=version,
    )
    RatingLevel.objects.bulk_create(
        RatingLevel(version=new, code=lv.code, label=lv.label, mastered=lv.mastered, order=lv.order)
        for lv in version.rating_levels.all()
    )
    bloc_map = {}
    for bloc in version.blocs.all():
        bloc_map[bloc.pk] = Bloc.objects.create(
            version=new, code=bloc.code, title=bloc.title, registry_code=bloc.registry_code,
            shared_with=bloc.shared_with, knowledge=bloc.knowledge, order=bloc.order,
        )
    for competence in version.competences.prefetch_related("criteria"):
        copy = Competence.objects.create(
            version=new, bloc=bloc_map.get(competence.bloc_id), code=competence.code,
            title=competence.title, conditions=competence.conditions,
            expected_results=competence.expected_results, knowledge=competence.knowledge,
            modalities=list(competence.modalities), order=competence.order,
        )
        Criterion.objects.bulk_create(
            Criterion(competence=copy, code=c.code, text=c.text, order=c.order)
            for c in competence.criteria.all()
        )
    return new


def next_version_label(version: ReferentialVersion) -> str:
    """A free label for a copy: ``2024-1`` → ``2024-2`` when the label ends with a number,
    otherwise ``<label>-copie``, ``<label>-copie-2``…"""
    taken = set(version.certification.versions.values_list("label", flat=True))
    head, sep, tail = version.label.rpartition("-")
    if sep and tail.isdigit():
        number = int(tail) + 1
        while f"{head}-{number}" in taken:
            number += 1
        return f"{head}-{number}"
    candidate, n = f"{version.label}-copie", 2
    while candidate in taken:
        candidate, n = f"{version.label}-copie-{n}", n + 1
    return candidate
