"""Importing « referentiel/1 » files: all or nothing, a version held is never changed."""

from dataclasses import dataclass, field
from datetime import date
from typing import IO

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from certifications import services
from certifications.exchange.exporting import export_referential
from certifications.exchange.parsing import (
    FormatIssue,
    ReferentialFormatError,
    parse_referential,
    read_limited,
)
from certifications.models import (
    Bloc,
    Certification,
    CertificationStatus,
    Competence,
    Criterion,
    RatingLevel,
    ReferentialVersion,
)


@dataclass
class ImportReport:
    source: str
    kind: str
    code: str
    version_label: str
    action: str  # "created" or "unchanged"
    counts: dict[str, int] = field(default_factory=dict)
    dry_run: bool = False
    # The certification's own row (title, registry…) is not versioned: it follows the newest
    # version imported.
    certification_updated: bool = False

    def summary(self) -> str:
        if self.action == "created":
            parts = []
            if self.counts.get("blocs"):
                parts.append(ngettext("%(count)d bloc", "%(count)d blocs", self.counts["blocs"])
                             % {"count": self.counts["blocs"]})
            parts.append(ngettext("%(count)d compétence", "%(count)d compétences",
                                  self.counts["competences"])
                         % {"count": self.counts["competences"]})
            parts.append(ngettext("%(count)d critère", "%(count)d critères",
                                  self.counts["criteria"]) % {"count": self.counts["criteria"]})
            verb = _("serait créée") if self.dry_run else _("créée")
            outcome = f"{verb} ({', '.join(parts)})"
        else:
            outcome = _("inchangée (déjà importée à l'identique)")
        if self.certification_updated:
            outcome += " ; " + (_("fiche de la certification serait mise à jour") if self.dry_run
                                else _("fiche de la certification mise à jour"))
        return f"{self.kind} {self.code} v{self.version_label} : {outcome}"


def _counts(document: dict) -> dict[str, int]:
    competences = document["competences"] + [
        competence for bloc in document["blocs"] for competence in bloc["competences"]
    ]
    return {
        "blocs": len(document["blocs"]),
        "competences": len(competences),
        "criteria": sum(len(competence["criteria"]) for competence in competences),
    }


def _certification_fields(data: dict) -> dict:
    registry, parent = data["registry"] or {}, data["parent"] or {}
    return {
        "title": data["title"],
        "registry": registry.get("name", ""),
        "registry_number": registry.get("number", ""),
        "issuing_body": data["issuing_body"],
        "level": data["level"],
        "parent_kind": parent.get("kind", ""),
        "parent_code": parent.get("code", ""),
    }


def _version_content(document: dict) -> dict:
    """What a version is: everything but the certification's descriptive row."""
    return {key: value for key, value in document.items() if key != "certification"}


def _existing_version(document: dict) -> ReferentialVersion | None:
    certification, version = document["certification"], document["version"]
    return (
        ReferentialVersion.objects.select_related("certification")
        .filter(certification__kind=certification["kind"],
                certification__code=certification["code"], label=version["label"])
        .first()
    )


def _conflicts(parsed: list[tuple[str, dict]]) -> list[FormatIssue]:
    """Same version twice in the batch, or a version we hold with another content."""
    issues, seen = [], {}
    for source, document in parsed:
        certification, label = document["certification"], document["version"]["label"]
        key = (certification["kind"], certification["code"], label)
        if key in seen:
            issues.append(FormatIssue(source, "version.label", _(
                "la version %(label)s de %(kind)s %(code)s figure déjà dans %(other)s : "
                "un seul fichier par version"
            ) % {"label": label, "kind": key[0], "code": key[1], "other": seen[key]}))
            continue
        seen[key] = source or "?"
        existing = _existing_version(document)
        if existing and _version_content(export_referential(existing)) \
                != _version_content(document):
            issues.append(FormatIssue(source, "version.label", _(
                "la version %(label)s existe déjà avec un contenu différent : utilisez un "
                "nouveau libellé de version"
            ) % {"label": label}))
    return issues


def _create_version(certification: Certification, document: dict) -> ReferentialVersion:
    version = ReferentialVersion.objects.create(
        certification=certification,
        label=document["version"]["label"],
        valid_from=date.fromisoformat(document["version"]["valid_from"]),
        valid_until=(date.fromisoformat(document["version"]["valid_until"])
                     if document["version"]["valid_until"] else None),
        activities=document.get("activities", ""),
    )
    RatingLevel.objects.bulk_create([
        RatingLevel(version=version, order=order, **level)
        for order, level in enumerate(document["rating_scale"], start=1)
    ])
    blocs = Bloc.objects.bulk_create([
        Bloc(
            version=version, order=order, code=data["code"], title=data["title"],
            registry_code=data.get("registry_code", ""),
            shared_with=data.get("shared_with", []), knowledge=data.get("knowledge", []),
        )
        for order, data in enumerate(document["blocs"], start=1)
    ])
    # Competences need their bloc's primary key: bulk_create sets it (PostgreSQL, SQLite 3.35+).
    placed = [(bloc, data["competences"]) for bloc, data in zip(blocs, document["blocs"],
                                                                strict=True)]
    placed.append((None, document["competences"]))
    pairs = [(bloc, order, data) for bloc, items in placed
             for order, data in enumerate(items, start=1)]
    competences = Competence.objects.bulk_create([
        Competence(
            version=version, bloc=bloc, order=order, code=data["code"], title=data["title"],
            conditions=data.get("conditions", ""),
            expected_results=data.get("expected_results", ""),
            knowledge=data.get("knowledge", []), modalities=data["modalities"],
        )
        for bloc, order, data in pairs
    ])
    Criterion.objects.bulk_create([
        Criterion(competence=competence, order=order, code=item["code"], text=item["text"])
        for competence, (_bloc, _order, data) in zip(competences, pairs, strict=True)
        for order, item in enumerate(data["criteria"], start=1)
    ])
    return version


def _import_one(source: str, document: dict, *, dry_run: bool) -> ImportReport:
    data, version_data = document["certification"], document["version"]
    fields = _certification_fields(data)
    certification, created = Certification.objects.get_or_create(
        kind=data["kind"], code=data["code"], defaults=fields,
    )
    existing = certification.versions.filter(label=version_data["label"]).first()
    if existing is None:
        version = _create_version(certification, document)
        try:
            services.publish_version(version=version)
        except ValidationError as error:
            # The parser enforces what publication checks; reaching here is a gap in the parser.
            raise ReferentialFormatError(
                [FormatIssue(source, "", message) for message in error.messages]
            ) from error
        if certification.status == CertificationStatus.DRAFT:
            certification.status = CertificationStatus.PUBLISHED
            certification.save(update_fields=["status"])
    newest = not certification.versions.filter(
        valid_from__gt=date.fromisoformat(version_data["valid_from"])
    ).exists()
    changed = [name for name, value in fields.items() if getattr(certification, name) != value]
    if not created and newest and changed:
        for name in changed:
            setattr(certification, name, fields[name])
        certification.save(update_fields=changed)
    return ImportReport(
        source=source, kind=data["kind"], code=data["code"], version_label=version_data["label"],
        action="unchanged" if existing else "created", counts=_counts(document),
        dry_run=dry_run, certification_updated=bool(not created and newest and changed),
    )


def import_referentials(files: list[tuple[str, bytes | str | IO]], *,
                        dry_run: bool = False) -> list[ImportReport]:
    """Import referential files (name, content), all or nothing. The content may be an
    uploaded file: pass it unread, its size is checked before it is read.

    Every file is checked before anything is written; a version already held is a no-op when
    identical and refused otherwise (shared/data/README.md). Imported versions are national
    referentials: they are published, hence immutable. A dry run does everything, reports,
    and rolls back."""
    parsed, issues = [], []
    for source, raw in files:
        try:
            if not isinstance(raw, bytes | str):
                raw = read_limited(raw, source=source)
            parsed.append((source, parse_referential(raw, source=source)))
        except ReferentialFormatError as error:
            issues.extend(error.errors)
    if issues:
        raise ReferentialFormatError(issues)
    with transaction.atomic():
        issues = _conflicts(parsed)
        if issues:
            raise ReferentialFormatError(issues)
        reports = [_import_one(source, document, dry_run=dry_run) for source, document in parsed]
        if dry_run:
            transaction.set_rollback(True)
    return reports
