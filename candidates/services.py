"""Every business write on candidates and registrations (STYLE.md §2).

Services are permission-free and take the actor; views, admin, commands and tasks call them.
Each write is one transaction and leaves a timeline event.
"""

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Max
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from candidates import uploads
from candidates.models import (
    DOSSIER_STATES,
    AccessLink,
    Candidate,
    CompanyOpinion,
    CompanyOpinionItem,
    Document,
    DocumentKind,
    LinkPurpose,
    OpinionLevel,
    OrganisationHabilitation,
    Outcome,
    PlannedModality,
    Registration,
    RegistrationEvent,
    RegistrationState,
    TrainingDecision,
    TrainingRecord,
    VaeAdmissibility,
)
from certifications.models import Modality
from config.links import read_token
from config.tasks import send_on_commit

S = RegistrationState

# ---------------------------------------------------------------------------
# Exceptions
# ---------------------------------------------------------------------------


class TransitionRefused(ValidationError):
    """A transition that the table or a guard refuses; ``messages`` say why in French."""


class ConcurrentEdit(ValidationError):
    """Someone else changed the registration since the form was read."""


class LinkError(Exception):
    """A personal link that cannot be used; ``str()`` is the French page text. ``reason``
    tells a link that never existed for this page (``INVALID``) from one that did but is no
    longer usable (expired, revoked, used, closed dossier)."""

    INVALID = "invalid"
    EXPIRED = "expired"
    REVOKED = "revoked"
    USED = "used"
    CLOSED = "closed"

    def __init__(self, message, *, reason: str = INVALID):
        super().__init__(message)
        self.reason = reason


# ---------------------------------------------------------------------------
# States (DESIGN.md §4, STYLE.md §4)
# ---------------------------------------------------------------------------
TRANSITIONS: dict[str, set[str]] = {
    S.INSCRIT: {S.EN_FORMATION, S.PRET_EVALUATION, S.ABANDON},
    S.EN_FORMATION: {S.PRET_EVALUATION, S.ABANDON},
    S.PRET_EVALUATION: {S.INSCRIT, S.EVALUE, S.ABANDON},
    S.EVALUE: {S.PRET_EVALUATION, S.DELIBERE, S.ABANDON},
    S.DELIBERE: set(),
    S.ABANDON: set(),
}
# Reached only through the evaluation (signed grid) and deliberation services.
SYSTEM_ONLY_TARGETS = {S.EVALUE, S.DELIBERE}
# Moves that need a written reason in the timeline.
REASON_REQUIRED = {
    (S.PRET_EVALUATION, S.INSCRIT), (S.EVALUE, S.PRET_EVALUATION),
    *((state, S.ABANDON) for state in TRANSITIONS),
}


def allowed_targets(registration: Registration, *, system: bool = False) -> list[str]:
    """Targets the table allows from the current state (guards not evaluated)."""
    return [
        state for state in RegistrationState.values
        if state in TRANSITIONS[registration.state] and (system or state not in SYSTEM_ONLY_TARGETS)
    ]


def activity_report_missing(registration: Registration) -> bool:
    """DOMAIN.md §3: the rapport d'activités is required whenever a planned modality needs
    it (présentation de projets), and missing while no current version was received."""
    if not any(p.needs_activity_report for p in registration.planned_modalities.all()):
        return False
    return not any(
        d.kind == DocumentKind.ACTIVITY_REPORT and d.is_current
        for d in registration.documents.all()
    )


def readiness_problems(registration: Registration) -> list[str]:
    """What still prevents the registration from going to evaluation (step 3), in French."""
    problems = []
    version = registration.version
    planned = {p.competence_id: p for p in registration.planned_modalities.all()}
    missing = [c.code for c in version.competences.all() if c.pk not in planned]
    if missing:
        problems.append(_("Modalité d'évaluation non choisie pour : %(codes)s.")
                        % {"codes": ", ".join(missing)})
    if registration.training_decision == TrainingDecision.UNDECIDED:
        problems.append(_("Étape 2 : enregistrez la formation suivie ou la décision « sans "
                          "formation »."))
    elif registration.training_decision == TrainingDecision.TRAINING and any(
        t.end_on is None for t in registration.trainings.all()
    ):
        problems.append(_("La formation n'est pas terminée : indiquez sa date de fin."))
    if activity_report_missing(registration):
        problems.append(_("Le rapport d'activités n'a pas été reçu."))
    if registration.needs_vae_admissibility:
        decision = getattr(registration, "vae_admissibility", None)
        if decision is None:
            problems.append(_("La recevabilité de la demande de VAE n'a pas été prononcée."))
        elif not decision.accepted:
            problems.append(_("La demande de VAE a été déclarée non recevable."))
    return problems


def transition_problems(registration: Registration, target: str, *, system: bool = False,
                        reason: str = "") -> list[str]:
    current = registration.state
    labels = {"from": RegistrationState(current).label, "to": RegistrationState(target).label}
    if target not in TRANSITIONS[current]:
        return [_("Passage impossible de « %(from)s » à « %(to)s ».") % labels]
    if target in SYSTEM_ONLY_TARGETS and not system:
        if target == S.EVALUE:
            return [_("L'état « Évalué » résulte de la signature de la grille d'évaluation par "
                      "la commission.")]
        return [_("L'état « Délibéré » résulte de la décision du jury paritaire.")]
    if (current, target) in REASON_REQUIRED and not reason.strip():
        return [_("Indiquez le motif de ce changement d'état.")]
    if target == S.EN_FORMATION and not registration.trainings.exists():
        return [_("Enregistrez d'abord la formation suivie (organisme, dates, heures).")]
    if target == S.PRET_EVALUATION and current in DOSSIER_STATES:
        return readiness_problems(registration)
    return []


def _event(registration, *, kind, actor=None, actor_label="", message="", from_state="",
           to_state=""):
    return RegistrationEvent.objects.create(
        registration=registration, kind=kind, actor=actor, actor_label=actor_label,
        message=message, from_state=from_state, to_state=to_state,
    )


def _lock(registration: Registration) -> Registration:
    return (Registration.objects.select_for_update()
            .select_related("version__certification").get(pk=registration.pk))


@transaction.atomic
def transition(*, registration: Registration, to_state: str, actor=None, reason: str = "",
               system: bool = False, actor_label: str = "", outcome: str = "") -> Registration:
    """Move a registration to ``to_state`` if the table and the guards allow it; the only
    place where ``state`` (and ``outcome``) is assigned. ``system`` is for the evaluation and
    deliberation services of the apps to the right; ``outcome`` comes with « délibéré »."""
    registration = _lock(registration)
    problems = transition_problems(registration, to_state, system=system, reason=reason)
    if not problems and to_state == S.DELIBERE and outcome not in Outcome.values:
        problems.append(_("La délibération doit indiquer un résultat."))
    if problems:
        raise TransitionRefused(problems)
    previous = registration.state
    registration.state = to_state
    registration.outcome = outcome if to_state == S.DELIBERE else ""
    registration.state_changed_at = timezone.now()
    registration.row_version = F("row_version") + 1
    registration.save(update_fields=["state", "outcome", "state_changed_at", "row_version"])
    registration.refresh_from_db()
    _event(registration, kind=RegistrationEvent.Kind.TRANSITION, actor=actor,
           actor_label=actor_label, message=reason.strip(), from_state=previous,
           to_state=to_state)
    return registration


@transaction.atomic
def correct_outcome(*, registration: Registration, outcome: str, actor, reason: str
                    ) -> Registration:
    """A deliberated registration whose decision the jury corrected (a new linked decision):
    the outcome changes, the timeline says why."""
    registration = _lock(registration)
    if registration.state != S.DELIBERE:
        raise ValidationError(_("Seule une inscription délibérée reçoit une correction."))
    if outcome not in Outcome.values or not reason.strip():
        raise ValidationError(_("Indiquez le résultat corrigé et le motif."))
    previous = registration.outcome
    registration.outcome = outcome
    registration.row_version = F("row_version") + 1
    registration.save(update_fields=["outcome", "row_version"])
    registration.refresh_from_db()
    _event(registration, kind=RegistrationEvent.Kind.TRANSITION, actor=actor,
           from_state=S.DELIBERE, to_state=S.DELIBERE,
           message=_("Décision corrigée (%(before)s → %(after)s) : %(reason)s")
           % {"before": Outcome(previous).label if previous else "—",
              "after": Outcome(outcome).label, "reason": reason.strip()})
    return registration


# ---------------------------------------------------------------------------
# Registration and dossier (step 1)
# ---------------------------------------------------------------------------
def next_reference(centre, year: int) -> str:
    prefix = f"{centre.reference_prefix}-{year}-"
    last = (Registration.objects.filter(centre=centre, reference__startswith=prefix)
            .order_by("-reference").values_list("reference", flat=True).first())
    number = int(last.rsplit("-", 1)[1]) + 1 if last else 1
    return f"{prefix}{number:05d}"


@dataclass
class Created:
    registration: Registration
    warnings: list[str]


def create_registration(*, actor, centre, candidate: Candidate, version, path: str,
                        company=None, tutor=None, registered_on=None, **dossier) -> Created:
    """Register a candidate on a referential version (step 1). Warns — without refusing —
    when VAE is chosen for a certification not on the RNCP (DOMAIN.md §2)."""
    from certifications.models import VersionStatus

    if version.status != VersionStatus.PUBLISHED:
        raise ValidationError(_("On ne peut inscrire que sur une version publiée du "
                                "référentiel."))
    registered_on = registered_on or timezone.localdate()
    for attempt in range(5):
        try:
            with transaction.atomic():
                registration = Registration(
                    centre=centre, candidate=candidate, version=version, path=path,
                    company=company, tutor=tutor, registered_on=registered_on,
                    created_by=actor, reference=next_reference(centre, registered_on.year),
                    **dossier,
                )
                registration.full_clean()
                registration.save()
                _event(registration, kind=RegistrationEvent.Kind.TRANSITION, actor=actor,
                       to_state=S.INSCRIT, message=_("Inscription enregistrée."))
        except IntegrityError:
            if attempt == 4:
                raise
            continue
        break
    warnings = [w for w in [registration.vae_off_register_warning] if w]
    return Created(registration=registration, warnings=warnings)


DOSSIER_FIELDS = ["job_title", "career_summary", "dossier_notes", "modalities_agreed_on",
                  "planned_evaluation_on", "tutor", "company", "vae_collective",
                  "referent_trainer_name", "referent_trainer_email", "manager_name",
                  "manager_email"]


@transaction.atomic
def update_dossier(*, registration: Registration, actor, expected_row_version: int,
                   changes: dict, modalities: dict[int, str]) -> Registration:
    """Save the dossier fields and the planned modality per competence, refusing to
    overwrite a concurrent change (optimistic lock on ``row_version``)."""
    current = _lock(registration)
    if current.row_version != expected_row_version:
        last = current.events.order_by("-at", "-pk").first()
        who = last.who if last else _("un autre utilisateur")
        raise ConcurrentEdit(_(
            "Ce dossier a été modifié par %(who)s pendant que vous le consultiez. Vos saisies "
            "sont conservées ci-dessous : rechargez la page pour voir la dernière version avant "
            "d'enregistrer à nouveau."
        ) % {"who": who})
    if not current.dossier_editable:
        raise ValidationError(_("Le dossier ne se modifie plus une fois le candidat prêt pour "
                                "l'évaluation : repassez-le d'abord à l'état « Inscrit »."))
    for field, value in changes.items():
        if field not in DOSSIER_FIELDS:
            raise ValueError(field)
        setattr(current, field, value)
    current.full_clean()
    current.row_version = F("row_version") + 1
    current.save()
    set_planned_modalities(registration=current, modalities=modalities)
    current.refresh_from_db()
    _event(current, kind=RegistrationEvent.Kind.DOSSIER, actor=actor,
           message=_("Dossier mis à jour."))
    return current


def set_planned_modalities(*, registration: Registration, modalities: dict[int, str]) -> None:
    """One modality per competence, only among those the referential allows."""
    competences = {c.pk: c for c in registration.version.competences.all()}
    errors = []
    for competence_id, modality in modalities.items():
        competence = competences.get(int(competence_id))
        if competence is None:
            errors.append(_("Compétence inconnue pour ce référentiel."))
        elif modality and modality not in competence.modalities:
            errors.append(_("%(code)s : le référentiel n'autorise pas la modalité « %(m)s ».")
                          % {"code": competence.code, "m": Modality(modality).label
                             if modality in Modality.values else modality})
    if errors:
        raise ValidationError(errors)
    existing = {p.competence_id: p for p in registration.planned_modalities.all()}
    for competence_id, modality in modalities.items():
        competence_id = int(competence_id)
        row = existing.get(competence_id)
        if not modality:
            if row:
                row.delete()
        elif row is None:
            PlannedModality.objects.create(registration=registration,
                                           competence_id=competence_id, modality=modality)
        elif row.modality != modality:
            row.modality = modality
            row.save(update_fields=["modality"])


# ---------------------------------------------------------------------------
# Step 2: training or an explicit "sans formation"
# ---------------------------------------------------------------------------
def habilitation_for(organisation, certification, start: datetime.date,
                     end: datetime.date | None):
    """The branch habilitation that covers this training, or None (DOMAIN.md §2)."""
    codes = [certification.pk]
    parent = certification.parent
    if parent is not None:
        codes.append(parent.pk)
    candidates = OrganisationHabilitation.objects.filter(
        organisation=organisation, certifications__in=codes, valid_from__lte=start,
    ).distinct()
    for habilitation in candidates:
        if habilitation.valid_until is None or habilitation.valid_until >= (end or start):
            return habilitation
    return None


@transaction.atomic
def record_training(*, registration: Registration, actor, organisation, start_on, hours: int,
                    end_on=None, competences=(), notes: str = "") -> TrainingRecord:
    registration = _lock(registration)
    if not registration.dossier_editable:
        raise ValidationError(_("La formation se renseigne avant l'évaluation."))
    if end_on and end_on < start_on:
        raise ValidationError(_("La fin de la formation précède son début."))
    if hours <= 0:
        raise ValidationError(_("Indiquez la durée de la formation en heures."))
    certification = registration.version.certification
    if habilitation_for(organisation, certification, start_on, end_on) is None:
        raise ValidationError(_(
            "L'organisme « %(org)s » n'est pas habilité par la branche pour %(cert)s sur ces "
            "dates."
        ) % {"org": organisation, "cert": f"{certification.kind} {certification.code}"})
    version_competences = set(registration.version.competences.values_list("pk", flat=True))
    if any(c.pk not in version_competences for c in competences):
        raise ValidationError(_("Une compétence ne fait pas partie du référentiel."))
    record = TrainingRecord.objects.create(
        registration=registration, organisation=organisation, start_on=start_on, end_on=end_on,
        hours=hours, notes=notes,
    )
    record.competences.set(competences)
    registration.training_decision = TrainingDecision.TRAINING
    registration.training_decision_reason = ""
    registration.row_version = F("row_version") + 1
    registration.save(update_fields=["training_decision", "training_decision_reason",
                                     "row_version"])
    _event(registration, kind=RegistrationEvent.Kind.TRAINING, actor=actor,
           message=_("Formation enregistrée : %(org)s, %(hours)s h.")
           % {"org": organisation, "hours": hours})
    return record


@transaction.atomic
def complete_training(*, record: TrainingRecord, actor, end_on: datetime.date) -> TrainingRecord:
    """Record the end date of a training in progress (step 2 is then done)."""
    registration = _lock(record.registration)
    record = TrainingRecord.objects.select_for_update().get(pk=record.pk)
    if not registration.dossier_editable:
        raise ValidationError(_("La formation se renseigne avant l'évaluation."))
    if end_on < record.start_on:
        raise ValidationError(_("La fin de la formation précède son début."))
    certification = registration.version.certification
    if habilitation_for(record.organisation, certification, record.start_on, end_on) is None:
        raise ValidationError(_(
            "L'habilitation de l'organisme « %(org)s » ne couvre pas la formation jusqu'à "
            "cette date."
        ) % {"org": record.organisation})
    record.end_on = end_on
    record.save(update_fields=["end_on"])
    Registration.objects.filter(pk=registration.pk).update(row_version=F("row_version") + 1)
    _event(registration, kind=RegistrationEvent.Kind.TRAINING, actor=actor,
           message=_("Formation terminée le %(date)s : %(org)s.")
           % {"date": end_on.strftime("%d/%m/%Y"), "org": record.organisation})
    return record


@transaction.atomic
def decide_without_training(*, registration: Registration, actor, reason: str = "") -> Registration:
    """The explicit step-2 decision that no training is needed."""
    registration = _lock(registration)
    if registration.state != S.INSCRIT:
        raise ValidationError(_("La décision « sans formation » se prend à l'inscription."))
    if registration.trainings.exists():
        raise ValidationError(_("Une formation est déjà enregistrée pour ce candidat."))
    registration.training_decision = TrainingDecision.NO_TRAINING
    registration.training_decision_reason = reason.strip()
    registration.row_version = F("row_version") + 1
    registration.save(update_fields=["training_decision", "training_decision_reason",
                                     "row_version"])
    registration.refresh_from_db()
    _event(registration, kind=RegistrationEvent.Kind.TRAINING, actor=actor,
           message=_("Sans formation.") + (f" {reason.strip()}" if reason.strip() else ""))
    return registration


# ---------------------------------------------------------------------------
# VAE recevabilité (DOMAIN.md §2)
# ---------------------------------------------------------------------------
@transaction.atomic
def record_vae_admissibility(*, registration: Registration, actor, experience_months: int,
                             experience_description: str, accepted: bool, reason: str = "",
                             decided_on=None) -> VaeAdmissibility:
    registration = _lock(registration)
    if not registration.is_vae:
        raise ValidationError(_("La recevabilité ne concerne que les candidats en VAE."))
    if not registration.dossier_editable:
        raise ValidationError(_("La recevabilité se décide avant l'évaluation."))
    minimum = settings.CANDIDATES["VAE_MIN_EXPERIENCE_MONTHS"]
    if accepted and experience_months < minimum:
        raise ValidationError(_(
            "Recevabilité impossible : au moins %(min)s mois d'expérience en rapport avec la "
            "certification sont requis (%(months)s déclarés)."
        ) % {"min": minimum, "months": experience_months})
    if not accepted and not reason.strip():
        raise ValidationError(_("Indiquez le motif de la non-recevabilité."))
    if not experience_description.strip():
        raise ValidationError(_("Décrivez l'expérience déclarée par le candidat."))
    decision, _created = VaeAdmissibility.objects.update_or_create(
        registration=registration,
        defaults={"decided_on": decided_on or timezone.localdate(), "decided_by": actor,
                  "experience_months": experience_months,
                  "experience_description": experience_description.strip(),
                  "accepted": accepted, "reason": reason.strip()},
    )
    _event(registration, kind=RegistrationEvent.Kind.VAE, actor=actor,
           message=(_("VAE recevable (%(m)s mois d'expérience).") if accepted
                    else _("VAE non recevable : %(reason)s"))
           % {"m": experience_months, "reason": reason.strip()})
    return decision


# ---------------------------------------------------------------------------
# Documents
# ---------------------------------------------------------------------------
@transaction.atomic
def upload_document(*, registration: Registration, kind: str, uploaded, actor=None,
                    via_link: bool = False, replaces: Document | None = None) -> Document:
    """Store a document checked by its content. A new rapport d'activités replaces the
    current one; the old version is kept, marked superseded."""
    checked = uploads.check_upload(uploaded)
    registration = _lock(registration)
    if not registration.is_open:
        raise ValidationError(_("Ce dossier est clos : il n'accepte plus de document."))
    if kind == DocumentKind.ACTIVITY_REPORT and replaces is None:
        replaces = registration.documents.filter(kind=kind, superseded_at__isnull=True).first()
    if replaces is not None and (replaces.registration_id != registration.pk
                                 or replaces.kind != kind):
        raise ValidationError(_("Le document remplacé n'appartient pas à ce dossier."))
    last = registration.documents.filter(kind=kind).aggregate(n=Max("version_number"))["n"] or 0
    now = timezone.now()
    if replaces is not None:
        Document.objects.filter(pk=replaces.pk).update(superseded_at=now)
    name = (getattr(uploaded, "name", "") or "document").replace("\\", "/").rsplit("/", 1)[-1]
    document = Document(
        registration=registration, kind=kind, original_name=name[:200],
        content_type=checked.content_type, size=checked.size, sha256=checked.sha256,
        version_number=last + 1, uploaded_at=now, uploaded_by=actor, uploaded_via_link=via_link,
    )
    document.file.save("document", uploaded, save=False)
    document.save()
    _event(registration, kind=RegistrationEvent.Kind.DOCUMENT, actor=actor,
           actor_label=_("candidat (lien personnel)") if via_link else "",
           message=_("%(kind)s déposé : %(name)s (version %(n)s).")
           % {"kind": document.get_kind_display(), "name": document.original_name,
              "n": document.version_number})
    return document


# ---------------------------------------------------------------------------
# Personal links and the company's avis
# ---------------------------------------------------------------------------
LINK_DAYS_SETTING = {
    LinkPurpose.CANDIDATE_UPLOAD: "CANDIDATE_LINK_DAYS",
    LinkPurpose.COMPANY_OPINION: "OPINION_LINK_DAYS",
}


@transaction.atomic
def issue_link(*, registration: Registration, purpose: str, actor) -> AccessLink:
    """Create a personal link (revoking earlier active ones of the same purpose) and have it
    e-mailed by a Celery task after commit."""
    registration = _lock(registration)
    if not registration.is_open:
        raise ValidationError(_("Ce dossier est clos."))
    if purpose == LinkPurpose.COMPANY_OPINION:
        if not registration.company_opinion_applies:
            raise ValidationError(_(
                "L'avis de l'entreprise n'est pas recueilli pour cette inscription (CCPM, CCPI "
                "ou VAE)."))
        if registration.tutor is None:
            raise ValidationError(_("Désignez d'abord le tuteur qui donnera l'avis."))
        if hasattr(registration, "company_opinion"):
            raise ValidationError(_("L'avis de l'entreprise a déjà été reçu."))
        email = registration.tutor.email
    else:
        email = registration.candidate.email
        if not email:
            raise ValidationError(_("Le candidat n'a pas d'adresse e-mail."))
    now = timezone.now()
    registration.links.filter(purpose=purpose, revoked_at__isnull=True,
                              used_at__isnull=True).update(revoked_at=now)
    days = settings.CANDIDATES[LINK_DAYS_SETTING[purpose]]
    link = AccessLink.objects.create(
        registration=registration, purpose=purpose, email=email, created_by=actor,
        expires_at=now + datetime.timedelta(days=days),
    )
    _event(registration, kind=RegistrationEvent.Kind.LINK, actor=actor,
           message=_("%(purpose)s : lien envoyé à %(email)s, valable jusqu'au %(date)s.")
           % {"purpose": link.get_purpose_display(), "email": email,
              "date": date_format(timezone.localtime(link.expires_at), "SHORT_DATETIME_FORMAT")})
    from candidates.tasks import send_link_email

    send_on_commit(send_link_email, link_id=link.pk)
    return link


@transaction.atomic
def revoke_link(*, link: AccessLink, actor) -> AccessLink:
    link = AccessLink.objects.select_for_update().get(pk=link.pk)
    if link.revoked_at is None:
        link.revoked_at = timezone.now()
        link.save(update_fields=["revoked_at"])
        _event(link.registration, kind=RegistrationEvent.Kind.LINK, actor=actor,
               message=_("Lien révoqué : %(purpose)s.") % {"purpose": link.get_purpose_display()})
    return link


def resolve_link(token: str, *, purpose: str) -> AccessLink:
    """The link behind ``token`` if it may be used now; otherwise LinkError in French.
    A token signed for another purpose is unknown here (no re-targeting)."""
    payload = read_token(token, purpose=purpose)
    unknown = LinkError(_("Ce lien n'est pas valide. Vérifiez qu'il a été copié en entier, ou "
                          "demandez-en un nouveau au centre de certification."))
    if payload is None:
        raise unknown
    link = (AccessLink.objects.select_related("registration__candidate",
                                              "registration__version__certification")
            .filter(pk=payload["i"], purpose=purpose).first())
    if link is None or link.nonce != payload["n"]:
        raise unknown
    if link.revoked_at is not None:
        raise LinkError(_("Ce lien a été remplacé ou révoqué. Utilisez le lien le plus récent "
                          "reçu par e-mail, ou contactez le centre."), reason=LinkError.REVOKED)
    if link.used_at is not None:
        raise LinkError(_("Ce lien a déjà été utilisé le %(date)s : l'avis a bien été transmis.")
                        % {"date": date_format(timezone.localtime(link.used_at),
                                               "SHORT_DATETIME_FORMAT")},
                        reason=LinkError.USED)
    if link.expires_at <= timezone.now():
        raise LinkError(_("Ce lien a expiré le %(date)s. Demandez-en un nouveau au centre de "
                          "certification.")
                        % {"date": date_format(timezone.localtime(link.expires_at),
                                               "SHORT_DATETIME_FORMAT")},
                        reason=LinkError.EXPIRED)
    if not link.registration.is_open:
        raise LinkError(_("Ce dossier est clos."), reason=LinkError.CLOSED)
    return link


@transaction.atomic
def submit_company_opinion(*, link: AccessLink, given_by_name: str, given_by_function: str,
                           overall: str, comment: str, items: dict[int, tuple[str, str]]
                           ) -> CompanyOpinion:
    """Record the tutor's avis, once, for every competence of the referential."""
    link = AccessLink.objects.select_for_update().get(pk=link.pk)
    if not link.is_active or link.purpose != LinkPurpose.COMPANY_OPINION:
        raise LinkError(_("Ce lien ne permet plus de donner l'avis."), reason=LinkError.USED)
    registration = link.registration
    if CompanyOpinion.objects.filter(registration=registration).exists():
        raise LinkError(_("L'avis de l'entreprise a déjà été reçu pour ce candidat."),
                        reason=LinkError.USED)
    competences = list(registration.version.competences.all())
    missing = [c.code for c in competences if not items.get(c.pk, ("", ""))[0]]
    if missing:
        raise ValidationError(_("Donnez une appréciation pour : %(codes)s.")
                              % {"codes": ", ".join(missing)})
    if any(items[c.pk][0] not in OpinionLevel.values for c in competences):
        raise ValidationError(_("Appréciation inconnue."))
    if not given_by_name.strip() or not given_by_function.strip():
        raise ValidationError(_("Indiquez le nom et la fonction du signataire."))
    opinion = CompanyOpinion.objects.create(
        registration=registration, link=link, given_by_name=given_by_name.strip(),
        given_by_function=given_by_function.strip(), overall=overall, comment=comment.strip(),
    )
    CompanyOpinionItem.objects.bulk_create(
        CompanyOpinionItem(opinion=opinion, competence=c, level=items[c.pk][0],
                           comment=(items[c.pk][1] or "").strip())
        for c in competences
    )
    link.used_at = timezone.now()
    link.save(update_fields=["used_at"])
    _event(registration, kind=RegistrationEvent.Kind.OPINION,
           actor_label=f"{opinion.given_by_name} ({opinion.given_by_function})",
           message=_("Avis de l'entreprise reçu : %(overall)s.")
           % {"overall": opinion.get_overall_display()})
    return opinion


# ---------------------------------------------------------------------------
# Results (step 4, DOMAIN.md §6)
# ---------------------------------------------------------------------------
def record_results_sent(*, registration: Registration, email: str, documents: list[str],
                        actor_label: str = "") -> RegistrationEvent:
    """The jury's results were e-mailed to the candidate: the timeline says when, to which
    address, and which documents (with their verification codes)."""
    return _event(registration, kind=RegistrationEvent.Kind.DOCUMENT, actor_label=actor_label,
                  message=_("Résultats envoyés à %(email)s : %(documents)s.")
                  % {"email": email, "documents": ", ".join(documents)})
