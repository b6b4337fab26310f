"""The network of expert evaluators and the evaluation commissions (DOMAIN.md §4).

Juries paritaires arrive with their issue. Impartiality lives in ``commissions.impartiality``,
one service used by every path that assigns an evaluator.
"""

import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from candidates.models import Candidate, Company, Registration
from candidates.validators import validate_siret
from certifications.models import Centre, Certification


# ---------------------------------------------------------------------------
# Deontology charter (versioned text)
# ---------------------------------------------------------------------------
class CharterVersion(models.Model):
    """The deontology charter every evaluator accepts (DOMAIN.md §4). The newest published
    version is the current one; an evaluator who has not accepted it cannot sit."""

    label = models.CharField(_("version"), max_length=20, unique=True)
    text = models.TextField(_("texte"))
    published_at = models.DateTimeField(_("publiée le"), default=timezone.now)

    class Meta:
        verbose_name = _("version de la charte de déontologie")
        verbose_name_plural = _("versions de la charte de déontologie")
        ordering = ["-published_at"]

    def __str__(self) -> str:
        return f"Charte {self.label}"

    def save(self, *args, **kwargs):
        if self.pk and CharterAcceptance.objects.filter(charter=self).exists():
            raise ValidationError(_("Une charte déjà acceptée ne se modifie pas : publiez une "
                                    "nouvelle version."))
        super().save(*args, **kwargs)

    @classmethod
    def in_force_first(cls):
        """The published versions, the one in force first."""
        return cls.objects.filter(published_at__lte=timezone.now()).order_by("-published_at")

    @classmethod
    def current(cls):
        return cls.in_force_first().first()


# ---------------------------------------------------------------------------
# Evaluators
# ---------------------------------------------------------------------------
class Evaluator(models.Model):
    """An expert of the centre's réseau d'experts évaluateurs."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                related_name="evaluator", verbose_name=_("compte"))
    centre = models.ForeignKey(Centre, on_delete=models.PROTECT, related_name="evaluators",
                               verbose_name=_("centre"))
    employer_name = models.CharField(_("entreprise employeuse"), max_length=200, blank=True)
    employer_siret = models.CharField(_("SIRET de l'employeur"), max_length=14, blank=True,
                                      validators=[validate_siret])
    profession = models.CharField(_("métier"), max_length=200)
    expertise = models.TextField(_("domaines d'expertise"), blank=True)
    phone = models.CharField(_("téléphone"), max_length=30, blank=True)
    initial_training_on = models.DateField(_("formation initiale d'évaluateur le"), null=True,
                                           blank=True)
    last_training_on = models.DateField(_("dernière formation le"), null=True, blank=True)
    availability_notes = models.TextField(_("disponibilités (remarques)"), blank=True)
    is_active = models.BooleanField(_("actif"), default=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("évaluateur")
        verbose_name_plural = _("évaluateurs")
        ordering = ["user__last_name", "user__first_name"]
        indexes = [models.Index(fields=["centre", "is_active"])]

    def __str__(self) -> str:
        return self.user.get_full_name() or self.user.get_username()

    @property
    def employer_siren(self) -> str:
        return self.employer_siret[:9] if self.employer_siret else ""

    @property
    def email(self) -> str:
        return self.user.email


class Habilitation(models.Model):
    """An evaluator's qualification for given certifications (or fields) over a period
    (DOMAIN.md §4, default 1 year renewable)."""

    evaluator = models.ForeignKey(Evaluator, on_delete=models.CASCADE,
                                  related_name="habilitations", verbose_name=_("évaluateur"))
    certifications = models.ManyToManyField(Certification, related_name="evaluator_habilitations",
                                            verbose_name=_("certifications"), blank=True)
    fields = models.CharField(_("domaines"), max_length=255, blank=True,
                              help_text=_("Domaines couverts, en complément des certifications."))
    valid_from = models.DateField(_("valide à partir du"))
    valid_until = models.DateField(_("valide jusqu'au"))

    history = HistoricalRecords(m2m_fields=[certifications])

    class Meta:
        verbose_name = _("habilitation d'évaluateur")
        verbose_name_plural = _("habilitations d'évaluateurs")
        ordering = ["-valid_until"]
        constraints = [
            models.CheckConstraint(condition=Q(valid_until__gte=models.F("valid_from")),
                                   name="evaluator_habilitation_ordered"),
        ]

    def __str__(self) -> str:
        return f"{self.evaluator} : {self.valid_from:%d/%m/%Y} → {self.valid_until:%d/%m/%Y}"


class CharterAcceptance(models.Model):
    evaluator = models.ForeignKey(Evaluator, on_delete=models.CASCADE,
                                  related_name="charter_acceptances", verbose_name=_("évaluateur"))
    charter = models.ForeignKey(CharterVersion, on_delete=models.PROTECT,
                                related_name="acceptances", verbose_name=_("charte"))
    accepted_at = models.DateTimeField(_("acceptée le"), default=timezone.now)
    ip_address = models.GenericIPAddressField(_("adresse IP"), null=True, blank=True)

    class Meta:
        verbose_name = _("acceptation de la charte")
        verbose_name_plural = _("acceptations de la charte")
        constraints = [
            models.UniqueConstraint(fields=["evaluator", "charter"], name="unique_acceptance"),
        ]

    def __str__(self) -> str:
        return f"{self.evaluator} — {self.charter} ({self.accepted_at:%d/%m/%Y})"


class Unavailability(models.Model):
    evaluator = models.ForeignKey(Evaluator, on_delete=models.CASCADE,
                                  related_name="unavailabilities", verbose_name=_("évaluateur"))
    start_on = models.DateField(_("du"))
    end_on = models.DateField(_("au"))
    reason = models.CharField(_("motif"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("indisponibilité")
        verbose_name_plural = _("indisponibilités")
        constraints = [
            models.CheckConstraint(condition=Q(end_on__gte=models.F("start_on")),
                                   name="unavailability_ordered"),
        ]

    def __str__(self) -> str:
        return f"{self.start_on:%d/%m/%Y} → {self.end_on:%d/%m/%Y}"


class ConflictDeclaration(models.Model):
    """A conflict of interest declared by (or for) an evaluator, with a company (every
    establishment of its SIREN) or a candidate."""

    evaluator = models.ForeignKey(Evaluator, on_delete=models.CASCADE, related_name="conflicts",
                                  verbose_name=_("évaluateur"))
    company = models.ForeignKey(Company, on_delete=models.CASCADE, null=True, blank=True,
                                related_name="+", verbose_name=_("entreprise"))
    candidate = models.ForeignKey(Candidate, on_delete=models.CASCADE, null=True, blank=True,
                                  related_name="+", verbose_name=_("candidat"))
    reason = models.CharField(_("nature du lien"), max_length=255)
    declared_at = models.DateTimeField(_("déclaré le"), default=timezone.now)

    class Meta:
        verbose_name = _("conflit d'intérêts déclaré")
        verbose_name_plural = _("conflits d'intérêts déclarés")
        constraints = [
            models.CheckConstraint(
                condition=Q(company__isnull=False) | Q(candidate__isnull=False),
                name="conflict_has_a_target",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.evaluator} ↔ {self.company or self.candidate}"


# ---------------------------------------------------------------------------
# "Devenez évaluateur": public applications
# ---------------------------------------------------------------------------
class ApplicationStatus(models.TextChoices):
    SUBMITTED = "submitted", _("À examiner")
    APPROVED = "approved", _("Acceptée")
    REFUSED = "refused", _("Refusée")


class EvaluatorApplication(models.Model):
    centre = models.ForeignKey(Centre, on_delete=models.PROTECT, related_name="applications",
                               verbose_name=_("centre"))
    first_name = models.CharField(_("prénom"), max_length=100)
    last_name = models.CharField(_("nom"), max_length=100)
    email = models.EmailField(_("e-mail"))
    phone = models.CharField(_("téléphone"), max_length=30, blank=True)
    employer_name = models.CharField(_("entreprise"), max_length=200)
    employer_siret = models.CharField(_("SIRET de l'entreprise"), max_length=14, blank=True,
                                      validators=[validate_siret])
    profession = models.CharField(_("métier"), max_length=200)
    experience_years = models.PositiveSmallIntegerField(_("années d'expérience"))
    expertise = models.TextField(_("domaines d'expertise"))
    certifications = models.ManyToManyField(Certification, blank=True, related_name="+",
                                            verbose_name=_("certifications visées"))
    motivation = models.TextField(_("motivation"), blank=True)
    submitted_at = models.DateTimeField(_("reçue le"), default=timezone.now)
    status = models.CharField(_("statut"), max_length=20, choices=ApplicationStatus.choices,
                              default=ApplicationStatus.SUBMITTED)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                    null=True, blank=True, related_name="+",
                                    verbose_name=_("examinée par"))
    reviewed_at = models.DateTimeField(_("examinée le"), null=True, blank=True)
    refusal_reason = models.TextField(_("motif du refus"), blank=True)
    evaluator = models.OneToOneField(Evaluator, on_delete=models.SET_NULL, null=True, blank=True,
                                     related_name="application", verbose_name=_("évaluateur"))

    class Meta:
        verbose_name = _("candidature d'évaluateur")
        verbose_name_plural = _("candidatures d'évaluateurs")
        ordering = ["-submitted_at"]
        indexes = [models.Index(fields=["centre", "status"])]

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name.upper()} ({self.get_status_display()})"


# ---------------------------------------------------------------------------
# Evaluation commissions
# ---------------------------------------------------------------------------
class CommissionStatus(models.TextChoices):
    DRAFT = "draft", _("En préparation")
    CONFIRMED = "confirmed", _("Confirmée")
    HELD = "held", _("Tenue")
    CANCELLED = "cancelled", _("Annulée")


class MemberRole(models.TextChoices):
    PRESIDENT = "president", _("Président")
    MEMBER = "member", _("Membre")


class Answer(models.TextChoices):
    PENDING = "pending", _("En attente")
    CONFIRMED = "confirmed", _("Présence confirmée")
    DECLINED = "declined", _("Empêché")


class Commission(models.Model):
    centre = models.ForeignKey(Centre, on_delete=models.PROTECT, related_name="commissions",
                               verbose_name=_("centre"))
    certifications = models.ManyToManyField(Certification, related_name="commissions",
                                            verbose_name=_("certifications"))
    date = models.DateField(_("date"))
    start_time = models.TimeField(_("heure de début"))
    end_time = models.TimeField(_("heure de fin"), null=True, blank=True)
    place = models.CharField(_("lieu"), max_length=255, blank=True)
    remote = models.BooleanField(_("à distance"), default=False)
    status = models.CharField(_("statut"), max_length=20, choices=CommissionStatus.choices,
                              default=CommissionStatus.DRAFT, editable=False)
    notes = models.TextField(_("informations pratiques"), blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True, editable=False,
                                        verbose_name=_("confirmée le"))
    reminder_sent_at = models.DateTimeField(null=True, blank=True, editable=False,
                                            verbose_name=_("rappel envoyé le"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="+", editable=False,
                                   verbose_name=_("créée par"))

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("commission d'évaluation")
        verbose_name_plural = _("commissions d'évaluation")
        ordering = ["-date", "-start_time"]
        indexes = [
            models.Index(fields=["centre", "date"]),
            models.Index(fields=["status"]),
            # The most recent first, across centres (the registration list's commission
            # filter of a multi-centre user): read in date order, stopping at its limit.
            models.Index(fields=["date", "id"], name="commission_date_id_idx"),
        ]

    def __str__(self) -> str:
        return _("Commission du %(date)s") % {"date": self.date.strftime("%d/%m/%Y")}

    def clean(self):
        if not self.remote and not self.place.strip():
            raise ValidationError({"place": _("Indiquez le lieu, ou cochez « à distance ».")})
        if self.end_time and self.end_time <= self.start_time:
            raise ValidationError({"end_time": _("La fin doit suivre le début.")})

    @property
    def location_label(self) -> str:
        return str(_("À distance")) if self.remote else self.place

    @property
    def is_past(self) -> bool:
        return self.date < timezone.localdate()


def new_token_nonce() -> str:
    return secrets.token_urlsafe(24)


class CommissionMember(models.Model):
    commission = models.ForeignKey(Commission, on_delete=models.CASCADE, related_name="members",
                                   verbose_name=_("commission"))
    evaluator = models.ForeignKey(Evaluator, on_delete=models.PROTECT,
                                  related_name="memberships", verbose_name=_("évaluateur"))
    role = models.CharField(_("rôle"), max_length=20, choices=MemberRole.choices,
                            default=MemberRole.MEMBER)
    answer = models.CharField(_("réponse"), max_length=20, choices=Answer.choices,
                              default=Answer.PENDING, editable=False)
    answered_at = models.DateTimeField(null=True, blank=True, editable=False,
                                       verbose_name=_("répondu le"))
    convocation_sent_at = models.DateTimeField(null=True, blank=True, editable=False,
                                               verbose_name=_("convocation envoyée le"))
    reminder_sent_at = models.DateTimeField(null=True, blank=True, editable=False,
                                            verbose_name=_("rappel envoyé le"))
    link_nonce = models.CharField(max_length=64, default=new_token_nonce, editable=False,
                                  verbose_name=_("jeton du lien"))
    override_justification = models.TextField(
        _("justification de la dérogation"), blank=True, editable=False,
        help_text=_("Dérogation du centre à la règle d'impartialité (si autorisée)."))

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("membre de commission")
        verbose_name_plural = _("membres de commission")
        # "president" sorts after "member": descending puts the president first.
        ordering = ["-role", "evaluator__user__last_name"]
        constraints = [
            models.UniqueConstraint(fields=["commission", "evaluator"], name="unique_member"),
            models.UniqueConstraint(fields=["commission"], condition=Q(role="president"),
                                    name="one_president_per_commission"),
        ]

    def __str__(self) -> str:
        return f"{self.evaluator} ({self.get_role_display()})"


class ScheduledCandidate(models.Model):
    """A registration ready for evaluation, scheduled in a commission at a time slot."""

    commission = models.ForeignKey(Commission, on_delete=models.CASCADE,
                                   related_name="scheduled", verbose_name=_("commission"))
    registration = models.ForeignKey(Registration, on_delete=models.PROTECT,
                                     related_name="schedulings", verbose_name=_("inscription"))
    start_time = models.TimeField(_("heure de passage"))
    end_time = models.TimeField(_("fin"), null=True, blank=True)
    convocation_sent_at = models.DateTimeField(null=True, blank=True, editable=False,
                                               verbose_name=_("convocation envoyée le"))
    attendance = models.CharField(
        _("présence"), max_length=20, blank=True, editable=False,
        choices=[("present", _("Présent")), ("excuse", _("Absent excusé")),
                 ("absent", _("Absent"))],
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("candidat convoqué")
        verbose_name_plural = _("candidats convoqués")
        ordering = ["start_time"]
        constraints = [
            models.UniqueConstraint(fields=["commission", "registration"],
                                    name="unique_scheduled_registration"),
        ]

    def __str__(self) -> str:
        return f"{self.start_time:%H:%M} — {self.registration}"


# ---------------------------------------------------------------------------
# Juries paritaires (DOMAIN.md §6)
# ---------------------------------------------------------------------------
class College(models.TextChoices):
    EMPLOYERS = "employeurs", _("Collège employeurs")
    EMPLOYEES = "salaries", _("Collège salariés")


class JuryMember(models.Model):
    """A person who may sit on juries paritaires of the centre, in one collège. Employee
    members represent a trade-union organisation (settings.JURIES["UNIONS"])."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                related_name="jury_member", verbose_name=_("compte"))
    centre = models.ForeignKey(Centre, on_delete=models.PROTECT, related_name="jury_members",
                               verbose_name=_("centre"))
    college = models.CharField(_("collège"), max_length=20, choices=College.choices)
    organisation = models.CharField(
        _("organisation"), max_length=100,
        help_text=_("Organisation syndicale (collège salariés) ou chambre syndicale / "
                    "entreprise (collège employeurs)."))
    employer_name = models.CharField(_("entreprise employeuse"), max_length=200, blank=True)
    employer_siret = models.CharField(_("SIRET de l'employeur"), max_length=14, blank=True,
                                      validators=[validate_siret])
    is_active = models.BooleanField(_("actif"), default=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("membre de jury")
        verbose_name_plural = _("membres de jury")
        ordering = ["college", "user__last_name"]

    def __str__(self) -> str:
        return self.user.get_full_name() or self.user.get_username()

    @property
    def employer_siren(self) -> str:
        return self.employer_siret[:9] if self.employer_siret else ""


class SessionStatus(models.TextChoices):
    PLANNED = "planned", _("En préparation")
    OPEN = "open", _("Ouverte")
    CLOSED = "closed", _("Close (PV signé)")
    CANCELLED = "cancelled", _("Annulée")


class JurySession(models.Model):
    centre = models.ForeignKey(Centre, on_delete=models.PROTECT, related_name="jury_sessions",
                               verbose_name=_("centre"))
    certifications = models.ManyToManyField(Certification, related_name="jury_sessions",
                                            verbose_name=_("certifications"))
    date = models.DateField(_("date"))
    start_time = models.TimeField(_("heure"))
    place = models.CharField(_("lieu"), max_length=255)
    status = models.CharField(_("statut"), max_length=20, choices=SessionStatus.choices,
                              default=SessionStatus.PLANNED, editable=False)
    opened_at = models.DateTimeField(null=True, blank=True, editable=False,
                                     verbose_name=_("ouverte le"))
    cpne_bundle_sent_on = models.DateField(_("dossier CPNE envoyé le"), null=True, blank=True,
                                           editable=False)
    gtp_observations = models.TextField(_("observations du GTP « Certifications »"),
                                        blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="+", editable=False,
                                   verbose_name=_("créée par"))

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("session de jury paritaire")
        verbose_name_plural = _("sessions de jury paritaire")
        ordering = ["-date"]
        indexes = [models.Index(fields=["centre", "date"])]

    def __str__(self) -> str:
        return _("Jury paritaire du %(date)s") % {"date": self.date.strftime("%d/%m/%Y")}


class Seat(models.Model):
    """A jury member designated to sit on one session, with their presence on the day."""

    session = models.ForeignKey(JurySession, on_delete=models.CASCADE, related_name="seats",
                                verbose_name=_("session"))
    member = models.ForeignKey(JuryMember, on_delete=models.PROTECT, related_name="seats",
                               verbose_name=_("membre"))
    is_president = models.BooleanField(_("président"), default=False)
    present = models.BooleanField(_("présent"), null=True, blank=True, editable=False)
    presence_recorded_at = models.DateTimeField(null=True, blank=True, editable=False,
                                                verbose_name=_("présence enregistrée le"))
    convocation_sent_at = models.DateTimeField(null=True, blank=True, editable=False,
                                               verbose_name=_("convocation envoyée le"))

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("siège de jury")
        verbose_name_plural = _("composition du jury")
        ordering = ["member__college", "-is_president", "member__user__last_name"]
        constraints = [
            models.UniqueConstraint(fields=["session", "member"], name="unique_seat"),
            models.UniqueConstraint(fields=["session"], condition=Q(is_president=True),
                                    name="one_jury_president"),
        ]

    def __str__(self) -> str:
        return f"{self.member} ({self.member.get_college_display()})"


class UnionInvitation(models.Model):
    """The employers' delegation asks each representative union to designate its member,
    at least 15 calendar days before the jury (DOMAIN.md §6)."""

    session = models.ForeignKey(JurySession, on_delete=models.CASCADE,
                                related_name="invitations", verbose_name=_("session"))
    organisation = models.CharField(_("organisation syndicale"), max_length=100)
    email = models.EmailField(_("adresse de la fédération"))
    sent_at = models.DateTimeField(_("envoyée le"), null=True, blank=True, editable=False)
    designated = models.ForeignKey(JuryMember, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+", verbose_name=_("membre désigné"))
    designated_at = models.DateTimeField(_("désigné le"), null=True, blank=True)

    class Meta:
        verbose_name = _("invitation à désigner")
        verbose_name_plural = _("invitations aux organisations syndicales")
        constraints = [
            models.UniqueConstraint(fields=["session", "organisation"],
                                    name="unique_invitation"),
        ]

    def __str__(self) -> str:
        return f"{self.organisation} — {self.session}"


class SessionCandidate(models.Model):
    """A registration examined by the jury session (its grids all signed)."""

    session = models.ForeignKey(JurySession, on_delete=models.CASCADE, related_name="candidates",
                                verbose_name=_("session"))
    registration = models.ForeignKey(Registration, on_delete=models.PROTECT,
                                     related_name="jury_sessions", verbose_name=_("inscription"))

    class Meta:
        verbose_name = _("candidat présenté au jury")
        verbose_name_plural = _("candidats présentés au jury")
        constraints = [
            models.UniqueConstraint(fields=["session", "registration"],
                                    name="unique_session_candidate"),
        ]

    def __str__(self) -> str:
        return str(self.registration)
