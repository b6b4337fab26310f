"""Centres, certifications and their versioned referentials (DOMAIN.md §1, §3, §5).

A published referential version is immutable: every model of its content refuses to be
saved or deleted once the version is published, and their querysets refuse bulk updates
and deletes that would touch a published version (no path around the model layer).
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords


class ReferentialLocked(ValidationError):
    """Raised when something tries to change a published referential version."""


LOCKED_MESSAGE = _(
    "Cette version du référentiel est publiée : elle ne peut plus être modifiée. "
    "Créez une nouvelle version par copie."
)


# ---------------------------------------------------------------------------
# Centres and users' membership
# ---------------------------------------------------------------------------
class Centre(models.Model):
    """A UIMM territorial certification centre (DESIGN.md §1b)."""

    code = models.SlugField(_("code"), max_length=30, unique=True)
    reference_prefix = models.CharField(
        _("préfixe des références"), max_length=12, unique=True,
        help_text=_("Début des références d'inscription de ce centre, par exemple « UIMM44 »."))
    name = models.CharField(_("nom"), max_length=200)
    address = models.TextField(_("adresse"), blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("téléphone"), max_length=30, blank=True)

    class Meta:
        verbose_name = _("centre de certification")
        verbose_name_plural = _("centres de certification")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    STAFF = "gestionnaire", _("Gestionnaire")
    EVALUATOR = "evaluateur", _("Évaluateur")
    JURY = "jury", _("Membre de jury")
    NATIONAL = "national", _("Lecture nationale")


class CentreMembership(models.Model):
    """A user's role in one centre. A user may belong to several centres."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships",
        verbose_name=_("utilisateur"),
    )
    centre = models.ForeignKey(
        Centre, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("centre")
    )
    role = models.CharField(_("rôle"), max_length=20, choices=Role.choices)

    class Meta:
        verbose_name = _("appartenance à un centre")
        verbose_name_plural = _("appartenances aux centres")
        constraints = [
            models.UniqueConstraint(fields=["user", "centre", "role"], name="unique_membership"),
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.centre} ({self.get_role_display()})"


# ---------------------------------------------------------------------------
# Certifications
# ---------------------------------------------------------------------------
class CertificationKind(models.TextChoices):
    CQPM = "CQPM", _("CQPM — Certificat de Qualification Paritaire de la Métallurgie")
    CQPI = "CQPI", _("CQPI — Certificat de Qualification Professionnelle Interbranches")
    BLOC = "BLOC", _("Bloc de compétences")
    CCPM = "CCPM", _("CCPM — Certificat de Compétences Professionnelles de la Métallurgie")
    CCPI = "CCPI", _("CCPI — Certificat de Compétences Professionnelles Interbranches")


# DOMAIN.md §1: what differs between kinds, in one table.
KINDS_WITH_BLOCS = {CertificationKind.CQPM, CertificationKind.CQPI, CertificationKind.BLOC}
KINDS_WITHOUT_COMPANY_OPINION = {CertificationKind.CCPM, CertificationKind.CCPI}


class Registry(models.TextChoices):
    RNCP = "RNCP", _("RNCP")
    RS = "RS", _("Répertoire spécifique")


class CertificationStatus(models.TextChoices):
    DRAFT = "draft", _("Brouillon")
    PUBLISHED = "published", _("Publiée")
    ARCHIVED = "archived", _("Archivée")


class Certification(models.Model):
    kind = models.CharField(_("type"), max_length=4, choices=CertificationKind.choices)
    code = models.CharField(
        _("code"), max_length=60,
        help_text=_("Tel qu'écrit par la branche : « MQ 2019 10 69 0324 », « 2004 0230 »…"),
    )
    title = models.CharField(_("intitulé"), max_length=255)
    registry = models.CharField(_("répertoire"), max_length=4, choices=Registry.choices, blank=True)
    registry_number = models.CharField(_("numéro d'enregistrement"), max_length=30, blank=True)
    issuing_body = models.CharField(_("organisme certificateur"), max_length=200, blank=True)
    level = models.PositiveSmallIntegerField(_("niveau"), null=True, blank=True)
    parent_kind = models.CharField(
        _("type de la certification parente"), max_length=4, choices=CertificationKind.choices,
        blank=True,
    )
    parent_code = models.CharField(_("code de la certification parente"), max_length=60, blank=True)
    status = models.CharField(
        _("statut"), max_length=10, choices=CertificationStatus.choices,
        default=CertificationStatus.DRAFT,
    )
    valid_from = models.DateField(_("valide à partir du"), null=True, blank=True)
    valid_until = models.DateField(_("valide jusqu'au"), null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("certification")
        verbose_name_plural = _("certifications")
        ordering = ["kind", "code"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "code"], name="unique_certification_code"),
            models.CheckConstraint(
                condition=Q(level__isnull=True) | Q(level__gte=3, level__lte=8),
                name="certification_level_3_to_8",
            ),
        ]
        indexes = [models.Index(fields=["status"]), models.Index(fields=["code"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.code} — {self.title}"

    def clean(self):
        if self.valid_from and self.valid_until and self.valid_until <= self.valid_from:
            raise ValidationError({"valid_until": _("La fin de validité doit suivre le début.")})
        if self.registry_number and not self.registry:
            raise ValidationError({"registry": _("Précisez le répertoire (RNCP ou RS).")})

    @property
    def has_blocs(self) -> bool:
        return self.kind in KINDS_WITH_BLOCS

    @property
    def collects_company_opinion(self) -> bool:
        """DOMAIN.md §1: CCPM and CCPI never collect the company's avis (VAE is a path rule)."""
        return self.kind not in KINDS_WITHOUT_COMPANY_OPINION

    @property
    def parent(self):
        if not self.parent_code:
            return None
        return Certification.objects.filter(kind=self.parent_kind, code=self.parent_code).first()

    def current_version(self):
        return (
            self.versions.filter(status=VersionStatus.PUBLISHED).order_by("-valid_from").first()
        )


# ---------------------------------------------------------------------------
# Versioned referential
# ---------------------------------------------------------------------------
class VersionStatus(models.TextChoices):
    DRAFT = "draft", _("Brouillon")
    PUBLISHED = "published", _("Publiée")
    ARCHIVED = "archived", _("Archivée")


class Modality(models.TextChoices):
    """DOMAIN.md §3."""

    SITUATION_PROFESSIONNELLE = "situation_professionnelle", _(
        "Évaluation en situation professionnelle"
    )
    SITUATION_RECONSTITUEE = "situation_reconstituee", _(
        "Évaluation en situation professionnelle reconstituée"
    )
    PRESENTATION_PROJETS = "presentation_projets", _(
        "Présentation des projets ou activités réalisés en milieu professionnel"
    )


MODALITIES_NEEDING_ACTIVITY_REPORT = {Modality.PRESENTATION_PROJETS}

DEFAULT_RATING_SCALE = [
    {"code": "MA", "label": "Maîtrisée en toute autonomie", "mastered": True},
    {"code": "NM", "label": "Non maîtrisée en toute autonomie", "mastered": False},
]


class ReferentialVersion(models.Model):
    certification = models.ForeignKey(
        Certification, on_delete=models.PROTECT, related_name="versions",
        verbose_name=_("certification"),
    )
    label = models.CharField(_("version"), max_length=40)
    status = models.CharField(
        _("statut"), max_length=10, choices=VersionStatus.choices, default=VersionStatus.DRAFT
    )
    valid_from = models.DateField(_("valide à partir du"))
    valid_until = models.DateField(_("valide jusqu'au"), null=True, blank=True)
    activities = models.TextField(_("référentiel d'activités"), blank=True)
    published_at = models.DateTimeField(_("publiée le"), null=True, blank=True, editable=False)
    copied_from = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, editable=False,
        related_name="copies", verbose_name=_("copiée de"),
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("version de référentiel")
        verbose_name_plural = _("versions de référentiel")
        ordering = ["certification", "-valid_from", "label"]
        constraints = [
            models.UniqueConstraint(fields=["certification", "label"], name="unique_version_label"),
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True) | Q(valid_until__gt=models.F("valid_from")),
                name="version_validity_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.certification.kind} {self.certification.code} — v{self.label}"

    @property
    def is_locked(self) -> bool:
        """Published (or archived after publication) content can never change."""
        return self.status != VersionStatus.DRAFT

    def clean(self):
        if self.valid_until and self.valid_from and self.valid_until <= self.valid_from:
            raise ValidationError({"valid_until": _("La fin de validité doit suivre le début.")})

    def save(self, *args, **kwargs):
        if self.pk:
            stored = (
                ReferentialVersion.objects.filter(pk=self.pk)
                .values("status", "label", "valid_from", "valid_until", "activities",
                        "certification_id")
                .first()
            )
            if stored and stored["status"] != VersionStatus.DRAFT:
                changed = {
                    key for key, value in stored.items()
                    if key != "status" and getattr(self, key) != value
                }
                reverting = self.status == VersionStatus.DRAFT
                if changed or reverting:
                    raise ReferentialLocked(LOCKED_MESSAGE)
        if self.status == VersionStatus.PUBLISHED and self.published_at is None:
            self.published_at = timezone.now()
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if self.is_locked:
            raise ReferentialLocked(LOCKED_MESSAGE)
        return super().delete(*args, **kwargs)

    def competences_in_order(self):
        return self.competences.select_related("bloc").order_by("bloc__order", "order")

    def mastered_levels(self):
        return self.rating_levels.filter(mastered=True)


class VersionContentQuerySet(models.QuerySet):
    """Bulk writes must not reach around the per-row lock of published versions."""

    version_lookup = "version"

    def _touches_locked(self) -> bool:
        return self.filter(**{f"{self.version_lookup}__status__in": [
            VersionStatus.PUBLISHED, VersionStatus.ARCHIVED,
        ]}).exists()

    def update(self, **kwargs):
        if self._touches_locked():
            raise ReferentialLocked(LOCKED_MESSAGE)
        return super().update(**kwargs)

    def delete(self):
        if self._touches_locked():
            raise ReferentialLocked(LOCKED_MESSAGE)
        return super().delete()

    def bulk_update(self, objs, fields, batch_size=None):
        objs = list(objs)
        if self.filter(pk__in=[obj.pk for obj in objs])._touches_locked():
            raise ReferentialLocked(LOCKED_MESSAGE)
        return super().bulk_update(objs, fields, batch_size=batch_size)

    def bulk_create(self, objs, *args, **kwargs):
        objs = list(objs)
        for obj in objs:
            if obj.referential_version.is_locked:
                raise ReferentialLocked(LOCKED_MESSAGE)
        return super().bulk_create(objs, *args, **kwargs)


class CriterionQuerySet(VersionContentQuerySet):
    version_lookup = "competence__version"


class VersionContent(models.Model):
    """Common lock for every row that belongs to a referential version."""

    class Meta:
        abstract = True

    @property
    def referential_version(self) -> ReferentialVersion:
        return self.version

    def _check_unlocked(self):
        version = ReferentialVersion.objects.only("status").get(pk=self.referential_version.pk)
        if version.is_locked:
            raise ReferentialLocked(LOCKED_MESSAGE)
        if self.pk:
            # Moving a row out of a locked version is a change of that version too.
            previous = type(self).objects.filter(pk=self.pk).first()
            if previous and previous.referential_version.is_locked:
                raise ReferentialLocked(LOCKED_MESSAGE)

    def save(self, *args, **kwargs):
        self._check_unlocked()
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        self._check_unlocked()
        return super().delete(*args, **kwargs)


class RatingLevel(VersionContent):
    """One level of the version's rating scale; at least one is 'mastered' (DOMAIN.md §5)."""

    version = models.ForeignKey(
        ReferentialVersion, on_delete=models.CASCADE, related_name="rating_levels",
        verbose_name=_("version"),
    )
    code = models.CharField(_("code"), max_length=20)
    label = models.CharField(_("libellé"), max_length=200)
    mastered = models.BooleanField(_("niveau « maîtrisé »"), default=False)
    order = models.PositiveSmallIntegerField(_("ordre"), default=0)

    objects = VersionContentQuerySet.as_manager()

    class Meta:
        verbose_name = _("niveau de maîtrise")
        verbose_name_plural = _("niveaux de maîtrise")
        ordering = ["version", "order"]
        constraints = [
            models.UniqueConstraint(fields=["version", "code"], name="unique_level_code"),
        ]

    def __str__(self) -> str:
        return self.label


class Bloc(VersionContent):
    version = models.ForeignKey(
        ReferentialVersion, on_delete=models.CASCADE, related_name="blocs",
        verbose_name=_("version"),
    )
    code = models.CharField(_("code"), max_length=40)
    title = models.CharField(_("intitulé"), max_length=255)
    registry_code = models.CharField(_("code RNCP du bloc"), max_length=40, blank=True)
    shared_with = models.JSONField(
        _("commun avec"), default=list, blank=True,
        help_text=_("Autres certifications comportant ce bloc : [{\"kind\": …, \"code\": …}]."),
    )
    knowledge = models.JSONField(_("connaissances associées"), default=list, blank=True)
    order = models.PositiveSmallIntegerField(_("ordre"), default=0)

    objects = VersionContentQuerySet.as_manager()

    class Meta:
        verbose_name = _("bloc de compétences")
        verbose_name_plural = _("blocs de compétences")
        ordering = ["version", "order"]
        constraints = [
            models.UniqueConstraint(fields=["version", "code"], name="unique_bloc_code"),
        ]

    def __str__(self) -> str:
        return f"{self.code} — {self.title}"


class Competence(VersionContent):
    version = models.ForeignKey(
        ReferentialVersion, on_delete=models.CASCADE, related_name="competences",
        verbose_name=_("version"),
    )
    bloc = models.ForeignKey(
        Bloc, on_delete=models.CASCADE, null=True, blank=True, related_name="competences",
        verbose_name=_("bloc"),
    )
    code = models.CharField(_("code"), max_length=40)
    title = models.CharField(_("intitulé"), max_length=500)
    conditions = models.TextField(_("conditions de réalisation"), blank=True)
    expected_results = models.TextField(_("résultats attendus"), blank=True)
    knowledge = models.JSONField(_("connaissances associées"), default=list, blank=True)
    modalities = models.JSONField(
        _("modalités d'évaluation autorisées"), default=list,
        help_text=_("Une ou plusieurs parmi : situation_professionnelle, situation_reconstituee, "
                    "presentation_projets."),
    )
    order = models.PositiveSmallIntegerField(_("ordre"), default=0)

    objects = VersionContentQuerySet.as_manager()

    class Meta:
        verbose_name = _("compétence")
        verbose_name_plural = _("compétences")
        ordering = ["version", "bloc__order", "order"]
        constraints = [
            # Codes are unique within their parent: the bloc, or the version for CCPM/CCPI.
            models.UniqueConstraint(fields=["bloc", "code"], name="unique_competence_code_in_bloc"),
            models.UniqueConstraint(
                fields=["version", "code"], condition=Q(bloc__isnull=True),
                name="unique_competence_code_in_version",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} — {self.title}"

    def clean(self):
        unknown = [m for m in self.modalities or [] if m not in Modality.values]
        if unknown or not self.modalities:
            raise ValidationError({"modalities": _(
                "Indiquez au moins une modalité parmi : %(choices)s."
            ) % {"choices": ", ".join(Modality.values)}})
        if self.bloc_id and self.bloc.version_id != self.version_id:
            raise ValidationError({"bloc": _("Le bloc appartient à une autre version.")})

    @property
    def modality_labels(self) -> list[str]:
        return [Modality(m).label for m in self.modalities if m in Modality.values]

    @property
    def needs_activity_report(self) -> bool:
        return any(m in MODALITIES_NEEDING_ACTIVITY_REPORT for m in self.modalities)


class Criterion(VersionContent):
    """An observable, measurable criterion of a competence."""

    competence = models.ForeignKey(
        Competence, on_delete=models.CASCADE, related_name="criteria",
        verbose_name=_("compétence"),
    )
    code = models.CharField(_("code"), max_length=40)
    text = models.TextField(_("critère"))
    order = models.PositiveSmallIntegerField(_("ordre"), default=0)

    objects = CriterionQuerySet.as_manager()

    class Meta:
        verbose_name = _("critère d'évaluation")
        verbose_name_plural = _("critères d'évaluation")
        ordering = ["competence", "order"]
        constraints = [
            models.UniqueConstraint(fields=["competence", "code"], name="unique_criterion_code"),
        ]

    def __str__(self) -> str:
        return f"{self.code} — {self.text[:60]}"

    @property
    def referential_version(self) -> ReferentialVersion:
        return self.competence.version
