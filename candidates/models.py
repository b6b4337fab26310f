"""Companies, candidates, tutors and registrations through the four steps (DOMAIN.md §2).

Every row here belongs to a centre (DESIGN.md §1b). A registration's state is changed only
by ``candidates.services.transition`` (STYLE.md §4), which writes a timeline event.
"""

import secrets

import pgtrigger
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from candidates.validators import (
    normalise_code,
    normalise_siret,
    validate_country_code,
    validate_insee_code,
    validate_postal_code,
    validate_siret,
)
from certifications.models import (
    MODALITIES_NEEDING_ACTIVITY_REPORT,
    Centre,
    Certification,
    Competence,
    Modality,
    ReferentialVersion,
    Registry,
)
from config.choices import label_of
from config.querysets import AppendOnlyQuerySet


# ---------------------------------------------------------------------------
# Companies, candidates, tutors
# ---------------------------------------------------------------------------
class Company(models.Model):
    centre = models.ForeignKey(Centre, on_delete=models.PROTECT, related_name="companies",
                               verbose_name=_("centre"))
    name = models.CharField(_("raison sociale"), max_length=200)
    siret = models.CharField(_("SIRET"), max_length=14, validators=[validate_siret])
    address = models.CharField(_("adresse"), max_length=255, blank=True)
    postal_code = models.CharField(_("code postal"), max_length=10, blank=True)
    city = models.CharField(_("ville"), max_length=100, blank=True)
    contact_name = models.CharField(_("contact"), max_length=150, blank=True)
    contact_email = models.EmailField(_("e-mail du contact"), blank=True)
    contact_phone = models.CharField(_("téléphone du contact"), max_length=30, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("entreprise")
        verbose_name_plural = _("entreprises")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["centre", "siret"], name="unique_company_siret"),
        ]
        indexes = [models.Index(fields=["name"]), models.Index(fields=["siret"])]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        self.siret = normalise_siret(self.siret)
        super().save(*args, **kwargs)

    @property
    def siren(self) -> str:
        """The legal unit: every establishment of one company shares it (DOMAIN.md §4)."""
        return self.siret[:9]


class Sex(models.TextChoices):
    MALE = "M", _("Masculin")
    FEMALE = "F", _("Féminin")


class BirthCommuneCodeKind(models.TextChoices):
    """How the commune of birth is identified (DOMAIN.md §7): both are 5 characters, so the
    record says which one it holds rather than guessing."""

    INSEE = "insee", _("Code INSEE")
    POSTAL = "postal", _("Code postal")


class Candidate(models.Model):
    centre = models.ForeignKey(Centre, on_delete=models.PROTECT, related_name="candidates",
                               verbose_name=_("centre"))
    birth_name = models.CharField(_("nom de naissance"), max_length=100)
    usage_name = models.CharField(_("nom d'usage"), max_length=100, blank=True)
    first_names = models.CharField(_("prénoms"), max_length=150)
    birth_date = models.DateField(_("date de naissance"))
    sex = models.CharField(_("sexe"), max_length=1, choices=Sex.choices, blank=True)
    birth_commune_code = models.CharField(
        _("commune de naissance (code INSEE ou postal)"), max_length=5, blank=True,
        help_text=_("Code INSEE (44109, 2A004 pour la Corse, 99xxx pour une naissance à "
                    "l'étranger) ou code postal (44000)."))
    birth_commune_code_kind = models.CharField(
        _("nature du code de la commune"), max_length=6, choices=BirthCommuneCodeKind.choices,
        blank=True)
    birth_commune_name = models.CharField(_("commune de naissance"), max_length=100, blank=True)
    birth_country_code = models.CharField(_("pays de naissance (code ISO)"), max_length=2,
                                          blank=True, validators=[validate_country_code],
                                          help_text=_("Deux lettres ISO 3166 : FR, BE, MA…"))
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("téléphone"), max_length=30, blank=True)
    address = models.TextField(_("adresse"), blank=True)
    employer = models.ForeignKey(Company, on_delete=models.SET_NULL, null=True, blank=True,
                                 related_name="employees", verbose_name=_("employeur"))

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("candidat")
        verbose_name_plural = _("candidats")
        ordering = ["birth_name", "first_names"]
        indexes = [
            models.Index(fields=["birth_name"]),
            models.Index(fields=["usage_name"]),
        ]

    def __str__(self) -> str:
        return self.full_name

    @property
    def last_name(self) -> str:
        return self.usage_name or self.birth_name

    @property
    def full_name(self) -> str:
        name = f"{self.last_name.upper()} {self.first_names}"
        if self.usage_name and self.usage_name != self.birth_name:
            name += f" (née/né {self.birth_name.upper()})"
        return name

    def clean(self):
        if self.birth_date:
            today = timezone.localdate()
            age = (today - self.birth_date).days // 365
            if self.birth_date > today or age < 14 or age > 100:
                raise ValidationError({"birth_date": _("Date de naissance invraisemblable.")})
        if self.employer_id and self.centre_id and self.employer.centre_id != self.centre_id:
            raise ValidationError({"employer": _("L'entreprise appartient à un autre centre.")})
        self.clean_birth_place()

    def clean_birth_place(self):
        """DOMAIN.md §7–§8: the commune of birth is an INSEE code (Corsica 2A/2B included) or
        a 5-digit postal code, and the record says which; the country an ISO 3166 code."""
        self.birth_commune_code = normalise_code(self.birth_commune_code)
        self.birth_country_code = normalise_code(self.birth_country_code)
        code, kind = self.birth_commune_code, self.birth_commune_code_kind
        if code and not kind:
            raise ValidationError({"birth_commune_code_kind": _(
                "Précisez s'il s'agit d'un code INSEE ou d'un code postal.")})
        if kind and not code:
            raise ValidationError({"birth_commune_code": _(
                "Indiquez le code de la commune de naissance.")})
        validator = {BirthCommuneCodeKind.INSEE: validate_insee_code,
                     BirthCommuneCodeKind.POSTAL: validate_postal_code}.get(kind)
        if validator is not None:
            try:
                validator(code)
            except ValidationError as error:
                raise ValidationError({"birth_commune_code": error.messages}) from error
        if (kind == BirthCommuneCodeKind.INSEE and code.startswith("99")
                and self.birth_country_code == "FR"):
            raise ValidationError({"birth_country_code": _(
                "Un code INSEE 99xxx désigne une naissance à l'étranger : le pays ne peut "
                "pas être la France.")})

    @property
    def declaration_gaps(self) -> list[str]:
        """What the declaration to the Caisse des Dépôts still needs (DOMAIN.md §7)."""
        gaps = []
        if not self.birth_name:
            gaps.append(str(_("nom de naissance")))
        if not self.first_names.strip():
            gaps.append(str(_("prénom")))
        if not self.birth_date:
            gaps.append(str(_("date de naissance")))
        if self.sex not in Sex.values:
            gaps.append(str(_("sexe")))
        if not self.birth_commune_code or not self.birth_commune_code_kind:
            gaps.append(str(_("commune de naissance (code INSEE ou postal)")))
        return gaps


class Tutor(models.Model):
    """The company-side referent of a candidate: gives the company's avis."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="tutors",
                                verbose_name=_("entreprise"))
    first_name = models.CharField(_("prénom"), max_length=100)
    last_name = models.CharField(_("nom"), max_length=100)
    email = models.EmailField(_("e-mail"))
    phone = models.CharField(_("téléphone"), max_length=30, blank=True)
    job_title = models.CharField(_("fonction"), max_length=150, blank=True)

    class Meta:
        verbose_name = _("tuteur")
        verbose_name_plural = _("tuteurs")
        ordering = ["last_name", "first_name"]

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name.upper()} ({self.company})"


# ---------------------------------------------------------------------------
# Training organisations and their branch habilitation (DOMAIN.md §2)
# ---------------------------------------------------------------------------
class TrainingOrganisation(models.Model):
    name = models.CharField(_("nom"), max_length=200)
    siret = models.CharField(_("SIRET"), max_length=14, blank=True, validators=[validate_siret])
    city = models.CharField(_("ville"), max_length=100, blank=True)
    contact_email = models.EmailField(_("e-mail"), blank=True)

    class Meta:
        verbose_name = _("organisme de formation")
        verbose_name_plural = _("organismes de formation")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class OrganisationHabilitation(models.Model):
    """The branch's habilitation of an organisation to train for given certifications."""

    organisation = models.ForeignKey(TrainingOrganisation, on_delete=models.CASCADE,
                                     related_name="habilitations",
                                     verbose_name=_("organisme"))
    subject = models.CharField(_("objet"), max_length=255)
    certifications = models.ManyToManyField(Certification, related_name="habilitations",
                                            verbose_name=_("certifications concernées"))
    valid_from = models.DateField(_("valide à partir du"))
    valid_until = models.DateField(_("valide jusqu'au"), null=True, blank=True)

    class Meta:
        verbose_name = _("habilitation d'organisme")
        verbose_name_plural = _("habilitations d'organismes")
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True) | Q(valid_until__gte=models.F("valid_from")),
                name="habilitation_validity_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organisation} — {self.subject}"


# ---------------------------------------------------------------------------
# Registration
# ---------------------------------------------------------------------------
class Path(models.TextChoices):
    SALARIE = "salarie", _("Salarié (formation continue)")
    CONTRAT_PRO = "contrat_pro", _("Alternance — contrat de professionnalisation")
    APPRENTISSAGE = "apprentissage", _("Alternance — contrat d'apprentissage")
    DEMANDEUR_EMPLOI = "demandeur_emploi", _("Demandeur d'emploi")
    CANDIDAT_LIBRE = "candidat_libre", _("Candidat libre")
    VAE = "vae", _("VAE — validation des acquis de l'expérience")


class RegistrationState(models.TextChoices):
    INSCRIT = "inscrit", _("Inscrit")
    EN_FORMATION = "en_formation", _("En formation")
    PRET_EVALUATION = "pret_evaluation", _("Prêt pour l'évaluation")
    EVALUE = "evalue", _("Évalué")
    DELIBERE = "delibere", _("Délibéré")
    ABANDON = "abandon", _("Abandon")


# Paths that imply an employing company (salarié, alternance).
PATHS_WITH_EMPLOYER = frozenset({Path.SALARIE, Path.CONTRAT_PRO, Path.APPRENTISSAGE})

# States in which the dossier (steps 1–2) may still change.
DOSSIER_STATES = frozenset({RegistrationState.INSCRIT, RegistrationState.EN_FORMATION})

OPEN_STATES = {
    RegistrationState.INSCRIT,
    RegistrationState.EN_FORMATION,
    RegistrationState.PRET_EVALUATION,
    RegistrationState.EVALUE,
}

# The step of DOMAIN.md §2 each state belongs to (abandon: none).
STEP_OF_STATE = {
    RegistrationState.INSCRIT: 1,
    RegistrationState.EN_FORMATION: 2,
    RegistrationState.PRET_EVALUATION: 3,
    RegistrationState.EVALUE: 4,
    RegistrationState.DELIBERE: 4,
}


class TrainingDecision(models.TextChoices):
    UNDECIDED = "", _("Non décidé")
    TRAINING = "formation", _("Formation suivie")
    NO_TRAINING = "sans_formation", _("Sans formation")


class Outcome(models.TextChoices):
    PASSED = "admis", _("Admis")
    PARTIAL = "admis_partiel", _("Admis partiellement (validation partielle)")
    FAILED = "non_admis", _("Non admis")


def company_opinion_applies(*, kind: str, path: str) -> bool:
    """DOMAIN.md §1–2: the company's avis is collected for CQPM, CQPI and blocs, never for
    CCPM/CCPI, and never in VAE. The only place this rule is written."""
    from certifications.models import KINDS_WITHOUT_COMPANY_OPINION

    return kind not in KINDS_WITHOUT_COMPANY_OPINION and path != Path.VAE


class Registration(models.Model):
    """One candidate on one referential version (DESIGN.md §3)."""

    centre = models.ForeignKey(Centre, on_delete=models.PROTECT, related_name="registrations",
                               verbose_name=_("centre"))
    reference = models.CharField(_("référence"), max_length=40, editable=False)
    external_reference = models.CharField(
        _("référence externe"), max_length=50, blank=True,
        help_text=_("Référence du dossier dans un autre système (import)."))
    candidate = models.ForeignKey(Candidate, on_delete=models.PROTECT,
                                  related_name="registrations", verbose_name=_("candidat"))
    version = models.ForeignKey(ReferentialVersion, on_delete=models.PROTECT,
                                related_name="registrations",
                                verbose_name=_("référentiel (version)"))
    path = models.CharField(_("parcours"), max_length=20, choices=Path.choices)
    company = models.ForeignKey(Company, on_delete=models.PROTECT, null=True, blank=True,
                                related_name="registrations", verbose_name=_("entreprise"))
    tutor = models.ForeignKey(Tutor, on_delete=models.SET_NULL, null=True, blank=True,
                              related_name="registrations", verbose_name=_("tuteur"))
    # People linked to the candidate, whom the impartiality check compares with evaluators
    # and jury members (DOMAIN.md §4: tutor, referent trainer, manager).
    referent_trainer_name = models.CharField(_("formateur référent"), max_length=150, blank=True)
    referent_trainer_email = models.EmailField(_("e-mail du formateur référent"), blank=True)
    manager_name = models.CharField(_("responsable hiérarchique"), max_length=150, blank=True)
    manager_email = models.EmailField(_("e-mail du responsable hiérarchique"), blank=True)
    registered_on = models.DateField(_("date d'inscription"), default=timezone.localdate)
    planned_evaluation_on = models.DateField(_("évaluation envisagée le"), null=True, blank=True)
    state = models.CharField(_("état"), max_length=20, choices=RegistrationState.choices,
                             default=RegistrationState.INSCRIT, editable=False)
    state_changed_at = models.DateTimeField(_("dernier changement d'état"), default=timezone.now,
                                            editable=False)
    outcome = models.CharField(_("résultat"), max_length=20, choices=Outcome.choices,
                               blank=True, editable=False)

    # Dossier du candidat: dossier technique / livret de suivi (DOMAIN.md §2, step 1).
    job_title = models.CharField(_("poste occupé / visé"), max_length=200, blank=True)
    career_summary = models.TextField(
        _("parcours du candidat"), blank=True,
        help_text=_("Expérience, formation initiale, activités exercées en lien avec la "
                    "certification."))
    dossier_notes = models.TextField(_("observations du centre"), blank=True)
    modalities_agreed_on = models.DateField(
        _("modalités arrêtées le"), null=True, blank=True,
        help_text=_("Date à laquelle le candidat, l'entreprise et le centre ont arrêté les "
                    "modalités d'évaluation."))

    # Step 2: training or an explicit decision that none is needed.
    training_decision = models.CharField(_("formation"), max_length=20,
                                         choices=TrainingDecision.choices, blank=True,
                                         editable=False)
    training_decision_reason = models.TextField(_("motif (sans formation)"), blank=True,
                                                editable=False)

    # VAE run collectively inside a company skips recevabilité (DOMAIN.md §2).
    vae_collective = models.BooleanField(_("VAE collective en entreprise"), default=False)

    # Optimistic concurrency: a form carries the version it was read at.
    row_version = models.PositiveIntegerField(default=1, editable=False, verbose_name=_("révision"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("créée le"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="+", editable=False,
                                   verbose_name=_("créée par"))

    history = HistoricalRecords(excluded_fields=["row_version"])

    class Meta:
        verbose_name = _("inscription")
        verbose_name_plural = _("inscriptions")
        ordering = ["-registered_on", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["centre", "reference"],
                                    name="unique_registration_reference"),
        ]
        indexes = [
            models.Index(fields=["centre", "state"]),
            models.Index(fields=["centre", "registered_on"]),
            # The list's certification filter asks, per certification, whether the centre has
            # a registration on one of its versions: one index probe each (1.6 -> 0.3 ms); the
            # list filtered by certification and state counts its rows from this index alone
            # (7.5 -> 1.0 ms at N=20).
            models.Index(fields=["centre", "version", "state"],
                         name="registration_centre_version"),
            models.Index(fields=["reference"]),
            # The default order of every list (newest first) across centres: a national or
            # multi-centre read and the admin page through the index instead of a sort.
            models.Index(fields=["-registered_on", "-id"], name="registration_newest_idx"),
        ]

    def get_state_display(self) -> str:
        return label_of(RegistrationState, self.state)

    def get_path_display(self) -> str:
        return label_of(Path, self.path)

    def __str__(self) -> str:
        return f"{self.reference} — {self.candidate}"

    @property
    def certification(self) -> Certification:
        return self.version.certification

    @property
    def step(self) -> int | None:
        return STEP_OF_STATE.get(self.state)

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    @property
    def dossier_editable(self) -> bool:
        """Steps 1–2: the dossier and the training may still change."""
        return self.state in DOSSIER_STATES

    @property
    def is_vae(self) -> bool:
        return self.path == Path.VAE

    @property
    def company_opinion_applies(self) -> bool:
        return company_opinion_applies(kind=self.version.certification.kind, path=self.path)

    @property
    def needs_vae_admissibility(self) -> bool:
        return self.is_vae and not self.vae_collective

    @property
    def vae_off_register_warning(self) -> str:
        """DOMAIN.md §2: VAE is open to a CQPM registered on the RNCP; warn otherwise."""
        if self.is_vae and self.version.certification.registry != Registry.RNCP:
            return _("Attention : la VAE est ouverte aux certifications enregistrées au RNCP ; "
                     "cette certification ne l'est pas.")
        return ""

    def clean(self):
        if self.candidate_id and self.centre_id and self.candidate.centre_id != self.centre_id:
            raise ValidationError({"candidate": _("Le candidat appartient à un autre centre.")})
        if self.company_id and self.centre_id and self.company.centre_id != self.centre_id:
            raise ValidationError({"company": _("L'entreprise appartient à un autre centre.")})
        if self.tutor_id and self.company_id and self.tutor.company_id != self.company_id:
            raise ValidationError({"tutor": _("Le tuteur doit appartenir à l'entreprise.")})
        if self.path in PATHS_WITH_EMPLOYER and not self.company_id:
            raise ValidationError({"company": _("Ce parcours suppose une entreprise.")})


class PlannedModality(models.Model):
    """Dossier: the evaluation modality chosen for one competence (DOMAIN.md §3)."""

    registration = models.ForeignKey(Registration, on_delete=models.CASCADE,
                                     related_name="planned_modalities",
                                     verbose_name=_("inscription"))
    competence = models.ForeignKey(Competence, on_delete=models.PROTECT, related_name="+",
                                   verbose_name=_("compétence"))
    modality = models.CharField(_("modalité prévue"), max_length=30, choices=Modality.choices)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("modalité prévue")
        verbose_name_plural = _("modalités prévues")
        constraints = [
            models.UniqueConstraint(fields=["registration", "competence"],
                                    name="unique_planned_modality"),
        ]

    def __str__(self) -> str:
        return f"{self.competence.code} : {self.get_modality_display()}"

    def clean(self):
        if self.competence.version_id != self.registration.version_id:
            raise ValidationError(_("La compétence n'appartient pas au référentiel de "
                                    "l'inscription."))
        if self.modality not in self.competence.modalities:
            raise ValidationError({"modality": _(
                "Le référentiel n'autorise pas cette modalité pour la compétence %(code)s."
            ) % {"code": self.competence.code}})

    @property
    def needs_activity_report(self) -> bool:
        return self.modality in MODALITIES_NEEDING_ACTIVITY_REPORT


class TrainingRecord(models.Model):
    """Step 2: a training actually followed (DOMAIN.md §2)."""

    registration = models.ForeignKey(Registration, on_delete=models.CASCADE,
                                     related_name="trainings", verbose_name=_("inscription"))
    organisation = models.ForeignKey(TrainingOrganisation, on_delete=models.PROTECT,
                                     related_name="trainings", verbose_name=_("organisme"))
    start_on = models.DateField(_("début"))
    end_on = models.DateField(_("fin"), null=True, blank=True)
    hours = models.PositiveIntegerField(_("durée (heures)"))
    competences = models.ManyToManyField(Competence, related_name="+", blank=True,
                                         verbose_name=_("compétences travaillées"))
    notes = models.TextField(_("observations"), blank=True)

    class Meta:
        verbose_name = _("formation suivie")
        verbose_name_plural = _("formations suivies")
        ordering = ["start_on"]

    def __str__(self) -> str:
        return f"{self.organisation} ({self.start_on:%d/%m/%Y})"


class VaeAdmissibility(models.Model):
    """Recevabilité of a VAE registration (DOMAIN.md §2): decided before evaluation."""

    registration = models.OneToOneField(Registration, on_delete=models.CASCADE,
                                        related_name="vae_admissibility",
                                        verbose_name=_("inscription"))
    decided_on = models.DateField(_("date de décision"))
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+", verbose_name=_("décidée par"))
    experience_months = models.PositiveIntegerField(_("expérience en rapport (mois)"))
    experience_description = models.TextField(_("expérience déclarée"))
    accepted = models.BooleanField(_("recevable"))
    reason = models.TextField(_("motif"), blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("recevabilité VAE")
        verbose_name_plural = _("recevabilités VAE")

    def __str__(self) -> str:
        return str(_("Recevable") if self.accepted else _("Non recevable"))


class RegistrationEvent(models.Model):
    """The timeline of a registration: every transition (who, when, from, to, why) and the
    other events that matter (documents, avis, dossier). Append-only."""

    class Kind(models.TextChoices):
        TRANSITION = "transition", _("Changement d'état")
        DOSSIER = "dossier", _("Dossier")
        TRAINING = "training", _("Formation")
        DOCUMENT = "document", _("Document")
        LINK = "link", _("Lien personnel")
        OPINION = "opinion", _("Avis de l'entreprise")
        VAE = "vae", _("Recevabilité VAE")

    registration = models.ForeignKey(Registration, on_delete=models.CASCADE,
                                     related_name="events", verbose_name=_("inscription"))
    at = models.DateTimeField(_("date"), default=timezone.now)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                              blank=True, related_name="+", verbose_name=_("auteur"))
    actor_label = models.CharField(_("auteur (hors compte)"), max_length=150, blank=True)
    kind = models.CharField(_("type"), max_length=20, choices=Kind.choices)
    from_state = models.CharField(_("de"), max_length=20, choices=RegistrationState.choices,
                                  blank=True)
    to_state = models.CharField(_("vers"), max_length=20, choices=RegistrationState.choices,
                                blank=True)
    message = models.TextField(_("détail"), blank=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        verbose_name = _("événement")
        verbose_name_plural = _("chronologie")
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["registration", "at"])]
        # Append-only on PostgreSQL too (evaluations.protection lists it for the purge).
        triggers = [pgtrigger.Protect(name="registration_event_append_only",
                                      operation=pgtrigger.Update | pgtrigger.Delete)]

    def __str__(self) -> str:
        return f"{self.at:%d/%m/%Y %H:%M} {self.get_kind_display()}"

    def save(self, *args, **kwargs):
        if self.pk:
            raise ValidationError(_("La chronologie ne se modifie pas."))
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError(_("La chronologie ne se supprime pas."))

    @property
    def who(self) -> str:
        if self.actor_id:
            return self.actor.get_full_name() or self.actor.get_username()
        return self.actor_label or str(_("système"))


# ---------------------------------------------------------------------------
# Documents
# ---------------------------------------------------------------------------
class DocumentKind(models.TextChoices):
    ACTIVITY_REPORT = "rapport_activites", _("Rapport d'activités")
    EVIDENCE = "preuve", _("Élément de preuve")
    OTHER = "autre", _("Autre pièce du dossier")


def document_path(instance: "Document", filename: str) -> str:
    # Never the user's file name on disk: a random name under the registration's folder.
    return f"dossiers/{instance.registration_id}/{secrets.token_hex(16)}"


class Document(models.Model):
    """An uploaded file of the dossier. Replacing keeps the old version (superseded)."""

    registration = models.ForeignKey(Registration, on_delete=models.CASCADE,
                                     related_name="documents", verbose_name=_("inscription"))
    kind = models.CharField(_("nature"), max_length=20, choices=DocumentKind.choices)
    file = models.FileField(_("fichier"), upload_to=document_path, max_length=200)
    original_name = models.CharField(_("nom du fichier"), max_length=200)
    content_type = models.CharField(_("type de contenu"), max_length=100)
    size = models.PositiveBigIntegerField(_("taille (octets)"))
    sha256 = models.CharField(_("empreinte SHA-256"), max_length=64)
    version_number = models.PositiveIntegerField(_("version"), default=1)
    uploaded_at = models.DateTimeField(_("déposé le"), default=timezone.now)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                    null=True, blank=True, related_name="+",
                                    verbose_name=_("déposé par"))
    uploaded_via_link = models.BooleanField(_("déposé par le lien du candidat"), default=False)
    superseded_at = models.DateTimeField(_("remplacé le"), null=True, blank=True)

    class Meta:
        verbose_name = _("document")
        verbose_name_plural = _("documents")
        ordering = ["kind", "-version_number"]
        indexes = [models.Index(fields=["registration", "kind", "superseded_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} v{self.version_number} — {self.original_name}"

    @property
    def is_current(self) -> bool:
        return self.superseded_at is None


# ---------------------------------------------------------------------------
# Personal links (no account) and the company's avis
# ---------------------------------------------------------------------------
class LinkPurpose(models.TextChoices):
    CANDIDATE_UPLOAD = "candidate", _("Dépôt du rapport d'activités par le candidat")
    COMPANY_OPINION = "opinion", _("Avis de l'entreprise par le tuteur")


def new_nonce() -> str:
    return secrets.token_urlsafe(24)


class AccessLink(models.Model):
    """A personal, expiring, single-purpose, revocable link. The URL token is a signature of
    (id, nonce, purpose); the row is the source of truth for expiry, revocation and use."""

    registration = models.ForeignKey(Registration, on_delete=models.CASCADE,
                                     related_name="links", verbose_name=_("inscription"))
    purpose = models.CharField(_("objet"), max_length=20, choices=LinkPurpose.choices)
    nonce = models.CharField(max_length=64, default=new_nonce, editable=False,
                             verbose_name=_("jeton"))
    email = models.EmailField(_("envoyé à"))
    created_at = models.DateTimeField(_("créé le"), default=timezone.now)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="+",
                                   verbose_name=_("créé par"))
    expires_at = models.DateTimeField(_("expire le"))
    sent_at = models.DateTimeField(_("envoyé le"), null=True, blank=True)
    used_at = models.DateTimeField(_("utilisé le"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("révoqué le"), null=True, blank=True)

    class Meta:
        verbose_name = _("lien personnel")
        verbose_name_plural = _("liens personnels")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.get_purpose_display()} — {self.email}"

    @property
    def is_active(self) -> bool:
        return (self.revoked_at is None and self.used_at is None
                and self.expires_at > timezone.now())


class OpinionLevel(models.TextChoices):
    MASTERED = "maitrisee", _("Maîtrisée")
    PARTLY = "en_cours", _("En cours d'acquisition")
    NOT_MASTERED = "non_maitrisee", _("Non maîtrisée")
    NOT_OBSERVED = "non_observee", _("Non observée en entreprise")


class OverallOpinion(models.TextChoices):
    FAVOURABLE = "favorable", _("Favorable")
    RESERVED = "reserve", _("Favorable avec réserves")
    UNFAVOURABLE = "defavorable", _("Défavorable")


class CompanyOpinion(models.Model):
    """The avis de l'entreprise (DOMAIN.md §2 step 3), given once by the tutor."""

    registration = models.OneToOneField(Registration, on_delete=models.CASCADE,
                                        related_name="company_opinion",
                                        verbose_name=_("inscription"))
    link = models.ForeignKey(AccessLink, on_delete=models.SET_NULL, null=True, blank=True,
                             related_name="+", verbose_name=_("lien personnel"))
    given_by_name = models.CharField(_("nom du signataire"), max_length=150)
    given_by_function = models.CharField(_("fonction"), max_length=150)
    given_at = models.DateTimeField(_("donné le"), default=timezone.now)
    overall = models.CharField(_("avis global"), max_length=20, choices=OverallOpinion.choices)
    comment = models.TextField(_("commentaire"), blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("avis de l'entreprise")
        verbose_name_plural = _("avis des entreprises")

    def __str__(self) -> str:
        return f"{self.get_overall_display()} — {self.given_by_name}"


class CompanyOpinionItem(models.Model):
    opinion = models.ForeignKey(CompanyOpinion, on_delete=models.CASCADE, related_name="items",
                                verbose_name=_("avis"))
    competence = models.ForeignKey(Competence, on_delete=models.PROTECT, related_name="+",
                                   verbose_name=_("compétence"))
    level = models.CharField(_("appréciation"), max_length=20, choices=OpinionLevel.choices)
    comment = models.TextField(_("commentaire"), blank=True)

    class Meta:
        verbose_name = _("appréciation par compétence")
        verbose_name_plural = _("appréciations par compétence")
        constraints = [
            models.UniqueConstraint(fields=["opinion", "competence"], name="unique_opinion_item"),
        ]

    def __str__(self) -> str:
        return f"{self.competence.code} : {self.get_level_display()}"
