"""Exporting a referential version as a « referentiel/1 » document."""

import copy
import json

from django.db.models import Prefetch

from certifications.exchange.parsing import FORMAT
from certifications.models import Bloc, Competence, Criterion, ReferentialVersion


def _export_competence(competence: Competence) -> dict:
    data = {"code": competence.code, "title": competence.title}
    if competence.conditions:
        data["conditions"] = competence.conditions
    if competence.expected_results:
        data["expected_results"] = competence.expected_results
    if competence.knowledge:
        data["knowledge"] = list(competence.knowledge)
    data["modalities"] = list(competence.modalities)
    data["criteria"] = [{"code": c.code, "text": c.text} for c in competence.criteria.all()]
    return data


def _export_bloc(bloc: Bloc) -> dict:
    data = {"code": bloc.code, "title": bloc.title}
    if bloc.registry_code:
        data["registry_code"] = bloc.registry_code
    if bloc.shared_with:
        data["shared_with"] = copy.deepcopy(bloc.shared_with)
    if bloc.knowledge:
        data["knowledge"] = list(bloc.knowledge)
    data["competences"] = [_export_competence(c) for c in bloc.competences.all()]
    return data


def export_referential(version: ReferentialVersion) -> dict:
    """One version as a « referentiel/1 » document; optional keys only when they hold
    something, so that importing the export is a no-op."""
    certification = version.certification
    criteria = Prefetch("criteria", queryset=Criterion.objects.order_by("order", "pk"))
    competences = Competence.objects.order_by("order", "pk").prefetch_related(criteria)
    blocs = version.blocs.order_by("order", "pk").prefetch_related(
        Prefetch("competences", queryset=competences)
    )
    document = {
        "format": FORMAT,
        "certification": {
            "kind": certification.kind,
            "code": certification.code,
            "title": certification.title,
            "registry": ({"name": certification.registry, "number": certification.registry_number}
                         if certification.registry else None),
            "issuing_body": certification.issuing_body,
            "level": certification.level,
            "parent": ({"kind": certification.parent_kind, "code": certification.parent_code}
                       if certification.parent_code else None),
        },
        "version": {
            "label": version.label,
            "valid_from": version.valid_from.isoformat(),
            "valid_until": version.valid_until.isoformat() if version.valid_until else None,
        },
    }
    if version.activities:
        document["activities"] = version.activities
    document["rating_scale"] = [
        {"code": level.code, "label": level.label, "mastered": level.mastered}
        for level in version.rating_levels.order_by("order", "pk")
    ]
    document["blocs"] = [_export_bloc(bloc) for bloc in blocs]
    document["competences"] = [
        _export_competence(competence)
        for competence in competences.filter(version=version, bloc__isnull=True)
    ]
    return document


def dump_referential(version: ReferentialVersion) -> str:
    return json.dumps(export_referential(version), indent=2, ensure_ascii=False) + "\n"
