"""The grille d'évaluation, its results, signatures, incidents, audit trail and documents
(DOMAIN.md §5, DESIGN.md §4–§5).

A grid moves brouillon → a_signer → signee. Once signed (locked) no row of its content can be
saved, deleted or bulk-updated: the model layer refuses it (and, on PostgreSQL, triggers
add a second wall). Reopening is a staff act that voids the signatures.
"""

import secrets

import pgtrigger
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from certifications.models import Competence, Criterion, Modality, RatingLevel
from commissions.models import CommissionMember, ScheduledCandidate
from config.choices import label_of
from config.querysets import AppendOnlyQuerySet


class GridLocked(ValidationError):
    """Raised by every write that would change a signed grid."""


LOCKED_MESSAGE = _("Cette grille est signée : elle ne peut plus être modifiée. Un gestionnaire "
                   "peut la rouvrir en indiquant un motif.")


class GridState(models.TextChoices):
    DRAFT = "brouillon", _("Brouillon")
    TO_SIGN = "a_signer", _("À signer")
    SIGNED = "signee", _("Signée")


def new_verification_code() -> str:
    """Unguessable, readable code for the public verify page (≈ 100 bits)."""
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    raw = "".join(secrets.choice(alphabet) for _ in range(20))
    return "-".join(raw[i:i + 5] for i in range(0, 20, 5))


class GridQuerySet(models.QuerySet):
    def update(self, **kwargs):
        if self.filter(state=GridState.SIGNED).exists():
            raise GridLocked(LOCKED_MESSAGE)
        return super().update(**kwargs)

    def delete(self):
        raise GridLocked(_("Une grille d'évaluation ne se supprime pas."))


class Grid(models.Model):
    """One grid per scheduled candidate in a commission."""

    scheduled = models.OneToOneField(ScheduledCandidate, on_delete=models.PROTECT,
                                     related_name="grid", verbose_name=_("candidat convoqué"))
    state = models.CharField(_("état"), max_length=20, choices=GridState.choices,
                             default=GridState.DRAFT, editable=False)
    created_at = models.DateTimeField(_("créée le"), default=timezone.now, editable=False)
    locked_at = models.DateTimeField(_("signée le"), null=True, blank=True, editable=False)
    snapshot = models.JSONField(_("contenu signé"), null=True, blank=True, editable=False)
    snapshot_sha256 = models.CharField(_("empreinte SHA-256"), max_length=64, blank=True,
                                       editable=False)
    # What the jury's proposal and conformity check read of the signed content (no criteria):
    # derived from the snapshot when it is locked, so that a session page of 100 candidates
    # does not parse 100 full snapshots. Never hashed: the snapshot stays the signed truth.
    summary = models.JSONField(_("résumé pour le jury"), null=True, blank=True, editable=False)
    reopened_at = models.DateTimeField(_("rouverte le"), null=True, blank=True, editable=False)
    reopen_count = models.PositiveSmallIntegerField(default=0, editable=False,
                                                    verbose_name=_("réouvertures"))
    # Set by the retention command (evaluations.retention, DOMAIN.md §8) when the content is
    # anonymised: the snapshot then no longer matches snapshot_sha256, on purpose — integrity
    # checks skip these grids and no PDF is rendered from them again.
    purged_at = models.DateTimeField(_("contenu effacé le"), null=True, blank=True,
                                     editable=False)

    objects = GridQuerySet.as_manager()

    class Meta:
        verbose_name = _("grille d'évaluation")
        verbose_name_plural = _("grilles d'évaluation")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["state"]),
                   models.Index(fields=["-created_at", "-id"], name="grid_newest_idx")]
        # The second wall on PostgreSQL (evaluations.protection): a signed grid changes only
        # by its reopening as reopen_grid writes it — back to draft, signed content cleared,
        # one more reopening counted — and is never deleted.
        triggers = [
            pgtrigger.Protect(
                name="signed_grid_update", operation=pgtrigger.Update,
                condition=pgtrigger.Condition(
                    "(OLD.state = 'signee' AND NOT ("
                    "NEW.state = 'brouillon' AND NEW.snapshot IS NULL"
                    " AND NEW.snapshot_sha256 = '' AND NEW.summary IS NULL"
                    " AND NEW.reopened_at IS NOT NULL"
                    " AND NEW.reopen_count = OLD.reopen_count + 1"
                    " AND NEW.scheduled_id = OLD.scheduled_id"
                    " AND NEW.created_at = OLD.created_at"
                    " AND NEW.locked_at IS NOT DISTINCT FROM OLD.locked_at))")),
            pgtrigger.Protect(name="signed_grid_delete", operation=pgtrigger.Delete,
                              condition=pgtrigger.Q(old__state=GridState.SIGNED.value)),
        ]

    def __str__(self) -> str:
        return _("Grille de %(candidate)s") % {
            "candidate": self.scheduled.registration.candidate.full_name}

    @property
    def is_locked(self) -> bool:
        return self.state == GridState.SIGNED

    @property
    def registration(self):
        return self.scheduled.registration

    @property
    def commission(self):
        return self.scheduled.commission

    def save(self, *args, **kwargs):
        # Only the signing and reopening services may touch a signed grid, and they say so.
        if self.pk and not getattr(self, "_allow_locked_write", False):
            stored = Grid.objects.filter(pk=self.pk).values_list("state", flat=True).first()
            if stored == GridState.SIGNED:
                raise GridLocked(LOCKED_MESSAGE)
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise GridLocked(_("Une grille d'évaluation ne se supprime pas."))


class GridContentQuerySet(models.QuerySet):
    grid_lookup = "grid"

    def _touches_locked(self) -> bool:
        return self.filter(**{f"{self.grid_lookup}__state": GridState.SIGNED}).exists()

    def update(self, **kwargs):
        if self._touches_locked():
            raise GridLocked(LOCKED_MESSAGE)
        return super().update(**kwargs)

    def delete(self):
        if self._touches_locked():
            raise GridLocked(LOCKED_MESSAGE)
        return super().delete()

    def bulk_update(self, objs, fields, batch_size=None):
        objs = list(objs)
        if self.filter(pk__in=[o.pk for o in objs])._touches_locked():
            raise GridLocked(LOCKED_MESSAGE)
        return super().bulk_update(objs, fields, batch_size=batch_size)


class CriterionResultQuerySet(GridContentQuerySet):
    grid_lookup = "competence_result__grid"


def signed_content_trigger(name: str, grid_of_row: str) -> pgtrigger.Trigger:
    """A PostgreSQL trigger refusing to update or delete a row of a signed grid's content
    (or to move a row into one). ``grid_of_row``: SQL giving the row's grid id from ``{row}``
    (OLD or NEW). A WHEN condition cannot read another table, hence a function."""
    signed = ("EXISTS (SELECT 1 FROM evaluations_grid WHERE id = ({grid}) "
              "AND state = 'signee')")
    old, new = (signed.format(grid=grid_of_row.format(row=row)) for row in ("OLD", "NEW"))
    return pgtrigger.Trigger(
        name=name, when=pgtrigger.Before, operation=pgtrigger.Update | pgtrigger.Delete,
        func=f"""
            IF {old} OR (TG_OP = 'UPDATE' AND {new}) THEN
                RAISE EXCEPTION 'pgtrigger: the content of a signed grid cannot be changed'
                    USING ERRCODE = 'restrict_violation';
            END IF;
            IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
            RETURN NEW;
        """)


class GridContent(models.Model):
    """A row of a grid's content: refuses writes once the grid is signed."""

    revision = models.PositiveIntegerField(default=1, editable=False, verbose_name=_("révision"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("modifié le"))
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="+", editable=False,
                                   verbose_name=_("modifié par"))

    class Meta:
        abstract = True

    def _grid_id(self) -> int:
        return self.grid_id

    def _check_unlocked(self):
        state = Grid.objects.filter(pk=self._grid_id()).values_list("state", flat=True).first()
        if state == GridState.SIGNED:
            raise GridLocked(LOCKED_MESSAGE)

    def save(self, *args, **kwargs):
        # ``_grid_checked``: set by the autosave service, which holds the grid's row lock and
        # has just checked it is not signed (the check would repeat that query).
        if not getattr(self, "_grid_checked", False):
            self._check_unlocked()
        self._grid_checked = False
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        self._check_unlocked()
        return super().delete(*args, **kwargs)


class CompetenceResult(GridContent):
    """Per competence: the modality actually used, the level, and the comment tied to the
    criteria concerned (mandatory when the level is not « mastered », DOMAIN.md §5)."""

    grid = models.ForeignKey(Grid, on_delete=models.CASCADE, related_name="competence_results",
                             verbose_name=_("grille"))
    competence = models.ForeignKey(Competence, on_delete=models.PROTECT, related_name="+",
                                   verbose_name=_("compétence"))
    planned_modality = models.CharField(_("modalité prévue"), max_length=30,
                                        choices=Modality.choices, editable=False)
    modality_used = models.CharField(_("modalité utilisée"), max_length=30,
                                     choices=Modality.choices)
    level = models.ForeignKey(RatingLevel, on_delete=models.PROTECT, null=True, blank=True,
                              related_name="+", verbose_name=_("niveau de maîtrise"))
    comment = models.TextField(_("commentaire"), blank=True)

    objects = GridContentQuerySet.as_manager()

    class Meta:
        verbose_name = _("résultat par compétence")
        verbose_name_plural = _("résultats par compétence")
        constraints = [
            models.UniqueConstraint(fields=["grid", "competence"], name="unique_competence_result"),
        ]
        triggers = [signed_content_trigger("signed_competence_result", "{row}.grid_id")]

    def __str__(self) -> str:
        return f"{self.competence.code} : {self.level or '—'}"


class CriterionResult(GridContent):
    """Per criterion: observed / satisfied or not, with the evidence or questioning notes."""

    competence_result = models.ForeignKey(CompetenceResult, on_delete=models.CASCADE,
                                          related_name="criterion_results",
                                          verbose_name=_("résultat de la compétence"))
    criterion = models.ForeignKey(Criterion, on_delete=models.PROTECT, related_name="+",
                                  verbose_name=_("critère"))
    satisfied = models.BooleanField(_("satisfait"), null=True, blank=True)
    notes = models.TextField(_("observations / éléments de preuve"), blank=True)
    concerned = models.BooleanField(
        _("visé par le commentaire"), default=False,
        help_text=_("Critère auquel se rapporte le commentaire d'une compétence non maîtrisée."))

    objects = CriterionResultQuerySet.as_manager()

    class Meta:
        verbose_name = _("résultat par critère")
        verbose_name_plural = _("résultats par critère")
        constraints = [
            models.UniqueConstraint(fields=["competence_result", "criterion"],
                                    name="unique_criterion_result"),
        ]
        triggers = [signed_content_trigger(
            "signed_criterion_result",
            "SELECT grid_id FROM evaluations_competenceresult WHERE id = "
            "{row}.competence_result_id")]

    def __str__(self) -> str:
        return f"{self.criterion.code} : {self.satisfied}"

    def _grid_id(self) -> int:
        return CompetenceResult.objects.filter(pk=self.competence_result_id).values_list(
            "grid_id", flat=True).first()


class Signature(models.Model):
    """A member's simple electronic signature with its evidence (DESIGN.md §4b)."""

    grid = models.ForeignKey(Grid, on_delete=models.PROTECT, related_name="signatures",
                             verbose_name=_("grille"))
    member = models.ForeignKey(CommissionMember, on_delete=models.PROTECT,
                               related_name="signatures", verbose_name=_("membre de la commission"))
    signer_name = models.CharField(_("signataire"), max_length=200)
    signed_at = models.DateTimeField(_("signée le"), default=timezone.now)
    ip_address = models.GenericIPAddressField(_("adresse IP"), null=True, blank=True)
    user_agent = models.CharField(_("navigateur"), max_length=400, blank=True)
    consent_version = models.CharField(_("version du consentement"), max_length=20)
    snapshot_sha256 = models.CharField(_("empreinte du contenu signé"), max_length=64)
    snapshot = models.JSONField(_("contenu signé"))
    voided_at = models.DateTimeField(_("invalidée le"), null=True, blank=True)
    void_reason = models.CharField(_("motif d'invalidation"), max_length=255, blank=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        verbose_name = _("signature")
        verbose_name_plural = _("signatures")
        ordering = ["signed_at"]
        constraints = [
            models.UniqueConstraint(fields=["grid", "member"], condition=models.Q(
                voided_at__isnull=True), name="one_valid_signature_per_member"),
        ]
        # Evidence: the only change is voiding it once, with a reason; never deleted.
        triggers = [
            pgtrigger.Protect(
                name="signature_update", operation=pgtrigger.Update,
                condition=pgtrigger.Condition(
                    "(NOT (OLD.voided_at IS NULL AND NEW.voided_at IS NOT NULL"
                    " AND NEW.void_reason <> ''"
                    " AND (NEW.grid_id, NEW.member_id, NEW.signer_name, NEW.signed_at,"
                    " NEW.ip_address, NEW.user_agent, NEW.consent_version,"
                    " NEW.snapshot_sha256, NEW.snapshot)"
                    " IS NOT DISTINCT FROM (OLD.grid_id, OLD.member_id, OLD.signer_name,"
                    " OLD.signed_at, OLD.ip_address, OLD.user_agent, OLD.consent_version,"
                    " OLD.snapshot_sha256, OLD.snapshot)))")),
            pgtrigger.Protect(name="signature_delete", operation=pgtrigger.Delete),
        ]

    def __str__(self) -> str:
        return f"{self.signer_name} — {self.signed_at:%d/%m/%Y %H:%M}"

    @property
    def is_valid(self) -> bool:
        return self.voided_at is None

    def save(self, *args, **kwargs):
        # Evidence is written once; the only later change is voiding it (with a reason).
        if self.pk:
            stored = Signature.objects.get(pk=self.pk)
            frozen = ["grid_id", "member_id", "signer_name", "signed_at", "ip_address",
                      "user_agent", "consent_version", "snapshot_sha256", "snapshot"]
            if any(getattr(stored, f) != getattr(self, f) for f in frozen) or (
                    stored.voided_at is not None):
                raise GridLocked(_("Une signature ne se modifie pas."))
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise GridLocked(_("Une signature ne se supprime pas : elle peut seulement être "
                           "invalidée avec un motif."))


class IncidentKind(models.TextChoices):
    EQUIPMENT = "equipement", _("Panne d'équipement")
    INTERRUPTION = "interruption", _("Interruption")
    IDENTITY = "identite", _("Doute sur l'identité")
    FRAUD = "fraude", _("Suspicion de fraude")
    OTHER = "autre", _("Autre")


class Incident(models.Model):
    """An incident during the evaluation (DOMAIN.md §5): who, when, what, its resolution."""

    grid = models.ForeignKey(Grid, on_delete=models.PROTECT, related_name="incidents",
                             verbose_name=_("grille"))
    kind = models.CharField(_("nature"), max_length=20, choices=IncidentKind.choices)
    description = models.TextField(_("description"))
    reported_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    related_name="+", verbose_name=_("signalé par"))
    reported_at = models.DateTimeField(_("signalé le"), default=timezone.now)
    resolution = models.TextField(_("résolution"), blank=True)
    resolved_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    null=True, blank=True, related_name="+",
                                    verbose_name=_("résolu par"))
    resolved_at = models.DateTimeField(_("résolu le"), null=True, blank=True)

    class Meta:
        verbose_name = _("incident")
        verbose_name_plural = _("incidents")
        ordering = ["reported_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} — {self.reported_at:%d/%m/%Y %H:%M}"

    @property
    def is_resolved(self) -> bool:
        return self.resolved_at is not None


class GridEvent(models.Model):
    """The audit trail of a grid: every change (who, when, before/after), submission,
    signature, lock, reopening. Append-only."""

    class Action(models.TextChoices):
        CREATED = "created", _("Grille créée")
        CHANGED = "changed", _("Modification")
        SUBMITTED = "submitted", _("Passée à la signature")
        BACK_TO_DRAFT = "back_to_draft", _("Retour en brouillon")
        SIGNED = "signed", _("Signature")
        SIGNATURE_VOIDED = "signature_voided", _("Signature invalidée")
        LOCKED = "locked", _("Grille verrouillée")
        REOPENED = "reopened", _("Réouverture")
        INCIDENT = "incident", _("Incident")
        INCIDENT_RESOLVED = "incident_resolved", _("Incident résolu")
        ATTENDANCE = "attendance", _("Présence du candidat")
        DOCUMENT = "document", _("Document généré")
        PURGED = "purged", _("Contenu effacé (durée de conservation)")

    grid = models.ForeignKey(Grid, on_delete=models.PROTECT, related_name="events",
                             verbose_name=_("grille"))
    at = models.DateTimeField(_("date"), default=timezone.now)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                              blank=True, related_name="+", verbose_name=_("auteur"))
    action = models.CharField(_("action"), max_length=30, choices=Action.choices)
    target = models.CharField(_("élément"), max_length=100, blank=True)
    before = models.JSONField(_("avant"), null=True, blank=True)
    after = models.JSONField(_("après"), null=True, blank=True)
    message = models.TextField(_("détail"), blank=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        verbose_name = _("événement de grille")
        verbose_name_plural = _("journal des grilles")
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["grid", "at"])]
        triggers = [pgtrigger.Protect(name="grid_event_append_only",
                                      operation=pgtrigger.Update | pgtrigger.Delete)]

    def __str__(self) -> str:
        return f"{self.at:%d/%m/%Y %H:%M} {self.get_action_display()}"

    def save(self, *args, **kwargs):
        if self.pk:
            raise ValidationError(_("Le journal ne se modifie pas."))
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError(_("Le journal ne se supprime pas."))


def document_path(instance: "GeneratedDocument", filename: str) -> str:
    extension = ".zip" if filename.lower().endswith(".zip") else ".pdf"
    return f"documents/{instance.kind}/{secrets.token_hex(16)}{extension}"


class GeneratedDocument(models.Model):
    """An official document: created when its content is signed (with the verification code
    printed on it), its PDF rendered by a task from the signed snapshot. The data is the source
    of truth; the PDF can always be regenerated identically."""

    class Kind(models.TextChoices):
        GRID = "grille", _("Grille d'évaluation signée")
        PV = "pv", _("Procès-verbal de délibération")
        ATTENDANCE = "emargement", _("Feuille d'émargement du jury")
        LETTER = "lettre_resultats", _("Lettre de résultats")
        CERTIFICATE = "attestation", _("Attestation de réussite")
        PARTIAL = "releve_partiel", _("Relevé des compétences et blocs validés")
        CPNE = "dossier_cpne", _("Dossier pour la CPNE")

    kind = models.CharField(_("type"), max_length=20, choices=Kind.choices)
    grid = models.ForeignKey(Grid, on_delete=models.PROTECT, null=True, blank=True,
                             related_name="documents", verbose_name=_("grille"))
    # Documents of the jury paritaire (DOMAIN.md §6): every one names its session; the PV its
    # minutes; a results letter, attestation or relevé the decision it notifies.
    session = models.ForeignKey("commissions.JurySession", on_delete=models.PROTECT, null=True,
                                blank=True, related_name="documents")
    minutes = models.ForeignKey("Minutes", on_delete=models.PROTECT, null=True, blank=True,
                                related_name="documents", verbose_name=_("procès-verbal"))
    decision = models.ForeignKey("Decision", on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="documents", verbose_name=_("décision"))
    # What a document without a signed row of its own prints (a letter is the projection of
    # its decision at the time it is issued): frozen here, hashed into content_sha256.
    snapshot = models.JSONField(_("contenu du document"), null=True, blank=True,
                                editable=False)
    verification_code = models.CharField(_("code de vérification"), max_length=30, unique=True,
                                         default=new_verification_code, editable=False)
    content_sha256 = models.CharField(_("empreinte du contenu"), max_length=64)
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("créé le"))
    file = models.FileField(upload_to=document_path, max_length=200, blank=True,
                            verbose_name=_("fichier"))
    file_sha256 = models.CharField(_("empreinte du fichier"), max_length=64, blank=True)
    generated_at = models.DateTimeField(null=True, blank=True, verbose_name=_("généré le"))
    # A document e-mailed to its recipient records when, and is never sent twice.
    sent_at = models.DateTimeField(_("envoyé le"), null=True, blank=True, editable=False)

    class Meta:
        # One row per signing round (created when the content is locked); the rendering task
        # fills its file once, however often it runs.
        verbose_name = _("document généré")
        verbose_name_plural = _("documents générés")
        constraints = [
            # A decision is notified once per kind of document; its correction is a new
            # decision with its own documents.
            models.UniqueConstraint(fields=["decision", "kind"],
                                    condition=models.Q(decision__isnull=False),
                                    name="one_document_per_decision_and_kind"),
            models.UniqueConstraint(fields=["minutes", "kind"],
                                    condition=models.Q(minutes__isnull=False),
                                    name="one_document_per_minutes_and_kind"),
        ]
        # What a document certifies and the code printed on it never change; its file is
        # (re)rendered and its sending recorded.
        triggers = [pgtrigger.Protect(
            name="document_content", operation=pgtrigger.Update,
            condition=pgtrigger.Condition(
                "((NEW.kind, NEW.grid_id, NEW.session_id, NEW.minutes_id, NEW.decision_id,"
                " NEW.snapshot, NEW.verification_code, NEW.content_sha256, NEW.created_at)"
                " IS DISTINCT FROM (OLD.kind, OLD.grid_id, OLD.session_id, OLD.minutes_id,"
                " OLD.decision_id, OLD.snapshot, OLD.verification_code, OLD.content_sha256,"
                " OLD.created_at))"))]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.verification_code})"

    @property
    def is_verifiable(self) -> bool:
        """Whether its code is printed and answers on the verify page (the attendance sheet
        and the CPNE bundle are not signed content: they carry no code)."""
        return self.kind in VERIFIABLE_KINDS


VERIFIABLE_KINDS = {GeneratedDocument.Kind.GRID, GeneratedDocument.Kind.PV,
                    GeneratedDocument.Kind.LETTER, GeneratedDocument.Kind.CERTIFICATE,
                    GeneratedDocument.Kind.PARTIAL}


class BatchExport(models.Model):
    """A ZIP of every signed grid of a commission, built by a task with visible progress."""

    commission = models.ForeignKey("commissions.Commission", on_delete=models.CASCADE,
                                   related_name="+")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                     related_name="+", verbose_name=_("demandé par"))
    requested_at = models.DateTimeField(default=timezone.now, verbose_name=_("demandé le"))
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0, verbose_name=_("faits"))
    file = models.FileField(upload_to="exports/", blank=True, max_length=200,
                            verbose_name=_("fichier"))
    finished_at = models.DateTimeField(null=True, blank=True, verbose_name=_("terminé le"))
    error = models.TextField(blank=True, verbose_name=_("erreur"))

    class Meta:
        verbose_name = _("export de grilles")
        verbose_name_plural = _("exports de grilles")

    def __str__(self) -> str:
        return f"{self.commission} — {self.done}/{self.total}"

    @property
    def percent(self) -> int:
        return 100 if not self.total else int(100 * self.done / self.total)



# ---------------------------------------------------------------------------
# Deliberation of the jury paritaire (DOMAIN.md §6)
# ---------------------------------------------------------------------------
class DecisionLocked(ValidationError):
    """A final decision (PV signed) is never edited: it is superseded by a correction."""


class DecisionQuerySet(models.QuerySet):
    def update(self, **kwargs):
        if self.filter(final_at__isnull=False).exists():
            raise DecisionLocked(_("Une décision définitive ne se modifie pas."))
        return super().update(**kwargs)

    def delete(self):
        raise DecisionLocked(_("Une décision ne se supprime pas."))


class Decision(models.Model):
    """The jury's decision on one candidate: outcome, blocs acquired, the two checks of art.
    55.3, and the motive when it departs from the proposal the grids imply. Final once the
    procès-verbal is signed; a correction is a new decision linked to the old one."""

    session_candidate = models.ForeignKey("commissions.SessionCandidate", on_delete=models.PROTECT,
                                          related_name="decisions",
                                          verbose_name=_("candidat de la session"))
    registration = models.ForeignKey("candidates.Registration", on_delete=models.PROTECT,
                                      related_name="decisions", verbose_name=_("inscription"))
    proposed_outcome = models.CharField(_("proposition"), max_length=20)
    proposed_blocs = models.JSONField(_("blocs proposés"), default=list)
    outcome = models.CharField(_("résultat"), max_length=20,
                               choices=[("admis", _("Admis")),
                                        ("admis_partiel", _("Validation partielle")),
                                        ("non_admis", _("Non admis"))])
    acquired_blocs = models.JSONField(_("blocs acquis"), default=list)
    motive = models.TextField(_("motif (décision différente de la proposition)"), blank=True)
    evaluation_conform = models.BooleanField(
        _("évaluation organisée conformément aux règles de la branche"))
    admission_conditions_met = models.BooleanField(
        _("conditions d'admission du référentiel d'évaluation remplies"))
    deliberating = models.JSONField(_("membres ayant délibéré"), default=list)
    abstentions = models.JSONField(_("abstentions"), default=list)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+", verbose_name=_("décidée par"))
    decided_at = models.DateTimeField(default=timezone.now, verbose_name=_("décidée le"))
    final_at = models.DateTimeField(_("définitive le"), null=True, blank=True)
    supersedes = models.OneToOneField("self", on_delete=models.PROTECT, null=True, blank=True,
                                      related_name="superseded_by", verbose_name=_("remplace"))
    correction_reason = models.TextField(_("motif de la correction"), blank=True)

    objects = DecisionQuerySet.as_manager()

    class Meta:
        verbose_name = _("décision du jury")
        verbose_name_plural = _("décisions du jury")
        ordering = ["decided_at", "pk"]
        indexes = [models.Index(fields=["decided_at", "id"], name="decision_order_idx")]
        # Final once the PV is signed (sign_minutes sets final_at on a decision that was not):
        # from then on it is superseded by a correction, never updated nor deleted.
        triggers = [pgtrigger.Protect(name="final_decision",
                                      operation=pgtrigger.Update | pgtrigger.Delete,
                                      condition=pgtrigger.Q(old__final_at__isnull=False))]

    def __str__(self) -> str:
        return f"{self.registration} : {self.get_outcome_display()}"

    def get_outcome_display(self) -> str:
        return label_of(OUTCOME_LABELS, self.outcome)

    def get_proposed_outcome_display(self) -> str:
        """The proposal's label: the same three outcomes (the field keeps no choices)."""
        return label_of(OUTCOME_LABELS, self.proposed_outcome)

    @property
    def is_final(self) -> bool:
        return self.final_at is not None

    def save(self, *args, **kwargs):
        if self.pk and not getattr(self, "_allow_final_write", False):
            stored = Decision.objects.filter(pk=self.pk).values_list("final_at", flat=True).first()
            if stored is not None:
                raise DecisionLocked(_("Une décision définitive ne se modifie pas : "
                                       "enregistrez une correction motivée."))
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise DecisionLocked(_("Une décision ne se supprime pas."))


# The outcomes' labels, read once (Decision.get_outcome_display, the admin, the jury badge).
OUTCOME_LABELS = dict(Decision._meta.get_field("outcome").choices)


class Minutes(models.Model):
    """The procès-verbal de délibération, signed by the president (DOMAIN.md §6)."""

    session = models.OneToOneField("commissions.JurySession", on_delete=models.PROTECT,
                                   related_name="minutes")
    signed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                  related_name="+", verbose_name=_("signé par"))
    signed_at = models.DateTimeField(default=timezone.now, verbose_name=_("signé le"))
    ip_address = models.GenericIPAddressField(null=True, blank=True, verbose_name=_("adresse IP"))
    snapshot = models.JSONField(verbose_name=_("contenu signé"))
    snapshot_sha256 = models.CharField(max_length=64, verbose_name=_("empreinte SHA-256"))

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        verbose_name = _("procès-verbal de délibération")
        verbose_name_plural = _("procès-verbaux de délibération")
        triggers = [pgtrigger.Protect(name="minutes_append_only",
                                      operation=pgtrigger.Update | pgtrigger.Delete)]

    def __str__(self) -> str:
        return _("PV du %(session)s") % {"session": self.session}

    def save(self, *args, **kwargs):
        if self.pk:
            raise DecisionLocked(_("Un procès-verbal signé ne se modifie pas."))
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise DecisionLocked(_("Un procès-verbal ne se supprime pas."))


# ---------------------------------------------------------------------------
# Personal data (DOMAIN.md §8)
# ---------------------------------------------------------------------------
class PersonalDataEvent(models.Model):
    """The register of what was done with a person's data: an export handed over under the
    right of access, or a dossier anonymised at the end of its retention period. It holds
    references and counts, never the data itself. Append-only; a dossier is purged once."""

    class Action(models.TextChoices):
        EXPORTED = "exported", _("Export des données personnelles (RGPD)")
        PURGED = "purged", _("Données effacées (fin de la durée de conservation)")

    candidate = models.ForeignKey("candidates.Candidate", on_delete=models.PROTECT,
                                  related_name="+", verbose_name=_("candidat"))
    registration = models.ForeignKey("candidates.Registration", on_delete=models.PROTECT,
                                     null=True, blank=True, related_name="+",
                                     verbose_name=_("inscription"))
    action = models.CharField(_("action"), max_length=20, choices=Action.choices)
    at = models.DateTimeField(_("date"), default=timezone.now)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                              blank=True, related_name="+", verbose_name=_("auteur"))
    data = models.JSONField(_("détail"), default=dict, blank=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        verbose_name = _("traitement de données personnelles")
        verbose_name_plural = _("registre des données personnelles")
        ordering = ["at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["registration"], condition=models.Q(action="purged"),
                                    name="one_purge_per_registration"),
        ]
        triggers = [pgtrigger.Protect(name="personal_data_event_append_only",
                                      operation=pgtrigger.Update | pgtrigger.Delete)]

    def __str__(self) -> str:
        return f"{self.at:%d/%m/%Y %H:%M} {self.get_action_display()}"

    def save(self, *args, **kwargs):
        if self.pk:
            raise ValidationError(_("Le registre ne se modifie pas."))
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError(_("Le registre ne se supprime pas."))
