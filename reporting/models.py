"""Declaration of holders to the Caisse des Dépôts (DOMAIN.md §7): one award per certified
holder, the batches (files) they were sent in, the Caisse's receipts, and the timeline of
every award. The only tables this app writes (DESIGN.md §3).

An award's state changes only through ``reporting.services.transition`` (STYLE.md §4),
which writes an ``AwardEvent``.
"""

import pgtrigger
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from certifications.models import Centre
from config.querysets import AppendOnlyQuerySet


class AwardState(models.TextChoices):
    DUE = "a_declarer", _("À déclarer")
    BLOCKED = "bloquee", _("À compléter avant déclaration")
    IN_BATCH = "envoyee", _("Envoyée, en attente de l'accusé")
    DECLARED = "declaree", _("Déclarée")
    REFUSED = "refusee", _("Refusée par la Caisse")
    WITHDRAWN = "annulee", _("Sans objet (décision corrigée)")


# The allowed next states (STYLE.md §4); every other move is refused by the service.
TRANSITIONS: dict[str, set[str]] = {
    AwardState.DUE: {AwardState.BLOCKED, AwardState.IN_BATCH, AwardState.WITHDRAWN},
    AwardState.BLOCKED: {AwardState.DUE, AwardState.WITHDRAWN},
    AwardState.IN_BATCH: {AwardState.DECLARED, AwardState.REFUSED, AwardState.DUE,
                          AwardState.BLOCKED, AwardState.WITHDRAWN},
    AwardState.DECLARED: {AwardState.DUE, AwardState.BLOCKED, AwardState.WITHDRAWN},
    AwardState.REFUSED: {AwardState.DUE, AwardState.BLOCKED, AwardState.DECLARED,
                         AwardState.WITHDRAWN},
    AwardState.WITHDRAWN: {AwardState.DUE, AwardState.BLOCKED},
}


class Award(models.Model):
    """A « passage de certification »: the final, current decision « admis » of one
    registration on a certification registered on the RNCP or the RS. Its ``id_technique``
    is given once and kept for every re-send and correction (DOMAIN.md §7)."""

    centre = models.ForeignKey(Centre, on_delete=models.PROTECT, related_name="+",
                               verbose_name=_("centre"))
    registration = models.OneToOneField("candidates.Registration", on_delete=models.PROTECT,
                                        related_name="+", verbose_name=_("inscription"))
    decision = models.ForeignKey("evaluations.Decision", on_delete=models.PROTECT,
                                 related_name="+", verbose_name=_("décision déclarée"))
    id_technique = models.CharField(_("identifiant technique"), max_length=50, unique=True)
    state = models.CharField(_("état"), max_length=20, choices=AwardState.choices,
                             default=AwardState.DUE, editable=False)
    blocked_reason = models.TextField(_("ce qui manque"), blank=True, editable=False)
    refusal_message = models.TextField(_("message de la Caisse"), blank=True, editable=False)
    is_correction = models.BooleanField(_("correction d'une déclaration"), default=False,
                                        editable=False)
    decided_on = models.DateField(_("date de la décision"))
    due_on = models.DateField(_("à déclarer à partir du"))
    deadline = models.DateField(_("à déclarer avant le"))
    declared_on = models.DateField(_("déclarée le"), null=True, blank=True, editable=False)
    last_batch = models.ForeignKey("DeclarationBatch", on_delete=models.PROTECT, null=True,
                                   blank=True, related_name="+", editable=False,
                                   verbose_name=_("dernier lot"))
    created_at = models.DateTimeField(default=timezone.now, editable=False,
                                      verbose_name=_("créé le"))

    class Meta:
        verbose_name = _("passage de certification")
        verbose_name_plural = _("passages de certification")
        ordering = ["deadline", "id_technique"]
        indexes = [
            models.Index(fields=["centre", "state", "deadline"]),
            models.Index(fields=["state", "due_on"]),
        ]

    def __str__(self) -> str:
        return self.id_technique

    @property
    def is_overdue(self) -> bool:
        return (self.state not in (AwardState.DECLARED, AwardState.WITHDRAWN)
                and self.deadline < timezone.localdate())


class AwardEvent(models.Model):
    """The timeline of an award: every transition, who, when, why. Append-only."""

    award = models.ForeignKey(Award, on_delete=models.CASCADE, related_name="events",
                              verbose_name=_("passage de certification"))
    at = models.DateTimeField(default=timezone.now, verbose_name=_("le"))
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                              blank=True, related_name="+", verbose_name=_("auteur"))
    from_state = models.CharField(max_length=20, choices=AwardState.choices, blank=True,
                                  verbose_name=_("état précédent"))
    to_state = models.CharField(max_length=20, choices=AwardState.choices,
                                verbose_name=_("nouvel état"))
    message = models.TextField(blank=True)
    batch = models.ForeignKey("DeclarationBatch", on_delete=models.PROTECT, null=True,
                              blank=True, related_name="+", verbose_name=_("lot"))
    receipt = models.ForeignKey("HoldersReceipt", on_delete=models.PROTECT, null=True,
                                blank=True, related_name="+",
                                verbose_name=_("accusé de traitement"))

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        verbose_name = _("événement de déclaration")
        verbose_name_plural = _("chronologie des déclarations")
        ordering = ["at", "pk"]
        triggers = [pgtrigger.Protect(name="award_event_append_only",
                                      operation=pgtrigger.Update | pgtrigger.Delete)]

    def __str__(self) -> str:
        return f"{self.award} : {self.from_state} → {self.to_state}"

    def save(self, *args, **kwargs):
        if self.pk:
            raise ValidationError(_("La chronologie ne se modifie pas."))
        super().save(*args, **kwargs)


class DeclarationBatch(models.Model):
    """One file sent to the Caisse: everything written in it is kept (header here, each
    passage in a ``BatchItem``) so that the file is reproduced byte for byte."""

    id_flux = models.CharField(_("identifiant du flux"), max_length=60, unique=True)
    created_at = models.DateTimeField(_("horodatage"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="+",
                                   verbose_name=_("généré par"))
    # None: generated from the command line for every centre.
    centre = models.ForeignKey(Centre, on_delete=models.PROTECT, null=True, blank=True,
                               related_name="+", verbose_name=_("centre"))
    id_client = models.CharField(_("idClient"), max_length=8)
    id_contrat = models.CharField(_("idContrat"), max_length=20)
    nature_deposant = models.CharField(_("natureDeposant"), max_length=20)
    award_count = models.PositiveIntegerField(_("passages"), default=0)
    sha256 = models.CharField(_("empreinte SHA-256 du fichier"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("lot de déclaration")
        verbose_name_plural = _("lots de déclaration")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["centre", "-created_at"])]

    def __str__(self) -> str:
        return self.id_flux

    @property
    def file_name(self) -> str:
        return f"accrochage-{self.id_flux}.xml"


class BatchItem(models.Model):
    """One passage as it was written in a batch (the data at that moment, never re-read)."""

    batch = models.ForeignKey(DeclarationBatch, on_delete=models.CASCADE, related_name="items",
                              verbose_name=_("lot"))
    award = models.ForeignKey(Award, on_delete=models.PROTECT, related_name="batch_items",
                              verbose_name=_("passage de certification"))
    position = models.PositiveIntegerField()
    payload = models.JSONField(verbose_name=_("contenu"))

    class Meta:
        ordering = ["batch", "position"]
        constraints = [
            models.UniqueConstraint(fields=["batch", "position"], name="unique_batch_position"),
            models.UniqueConstraint(fields=["batch", "award"], name="unique_batch_award"),
        ]

    def __str__(self) -> str:
        return f"{self.batch} #{self.position}"


class HoldersReceipt(models.Model):
    """An accusé de traitement of the Caisse, imported once (same file twice: nothing)."""

    file_name = models.CharField(_("fichier traité (nomFichier)"), max_length=255, blank=True)
    sha256 = models.CharField(_("empreinte SHA-256"), max_length=64, unique=True)
    imported_at = models.DateTimeField(_("importé le"), default=timezone.now)
    imported_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                    null=True, blank=True, related_name="+",
                                    verbose_name=_("importé par"))
    batch = models.ForeignKey(DeclarationBatch, on_delete=models.PROTECT, null=True,
                              blank=True, related_name="receipts", verbose_name=_("lot"))
    accepted = models.PositiveIntegerField(_("acceptés"), default=0)
    refused = models.PositiveIntegerField(_("refusés"), default=0)

    class Meta:
        verbose_name = _("accusé de traitement")
        verbose_name_plural = _("accusés de traitement")
        ordering = ["-imported_at", "-pk"]

    def __str__(self) -> str:
        return self.file_name or self.sha256[:12]
