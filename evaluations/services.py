"""Business writes on evaluation grids (DOMAIN.md §5, DESIGN.md §4–§4b).

Every change is one transaction with its audit row. A change of content after a signature
voids that signature visibly; the last valid signature locks the grid, stores its canonical
snapshot and schedules the PDF after commit.
"""

import hashlib
import json
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Exists, F, OuterRef, Prefetch, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from candidates import services as candidate_services
from candidates.models import RegistrationState
from certifications.models import Modality, RatingLevel
from commissions import impartiality
from commissions.models import CommissionMember, ScheduledCandidate
from config.tasks import send_on_commit
from evaluations import acquired
from evaluations.consent import CURRENT_CONSENT_VERSION
from evaluations.models import (
    LOCKED_MESSAGE,
    CompetenceResult,
    CriterionResult,
    GeneratedDocument,
    Grid,
    GridEvent,
    GridLocked,
    GridState,
    Incident,
)

A = GridEvent.Action


class StaleEdit(ValidationError):
    """Someone else saved this field since it was read: nothing is overwritten, and the
    second writer is told what the field now holds."""

    def __init__(self, message, *, current_value, revision, who, when):
        super().__init__(message)
        self.current_value = current_value
        self.revision = revision
        self.who = who
        self.when = when


class SignatureRefused(ValidationError):
    pass


def _event(grid, action, *, actor=None, target="", before=None, after=None, message=""):
    return GridEvent.objects.create(grid=grid, action=action, actor=actor, target=target,
                                    before=before, after=after, message=message)


def _lock_grid(grid: Grid) -> Grid:
    return Grid.objects.select_for_update().get(pk=grid.pk)


def _guard(grid: Grid) -> None:
    if grid.state == GridState.SIGNED:
        raise GridLocked(LOCKED_MESSAGE)


# ---------------------------------------------------------------------------
# Creation
# ---------------------------------------------------------------------------
@transaction.atomic
def ensure_grid(*, scheduled: ScheduledCandidate, actor=None) -> Grid:
    """The grid of a scheduled candidate, created on first use from the referential version
    and the dossier (planned modality per competence). A competence validated by an earlier
    jury and still valid on the commission's date is not evaluated again (DOMAIN.md §6): it
    has no row, so it is neither filled, nor signed, nor in the signed snapshot; the grid
    page shows it read-only. An expired one is evaluated again."""
    existing = Grid.objects.filter(scheduled=scheduled).first()
    if existing is not None:
        return existing
    scheduled = ScheduledCandidate.objects.select_for_update().get(pk=scheduled.pk)
    existing = Grid.objects.filter(scheduled=scheduled).first()
    if existing is not None:
        return existing
    registration = scheduled.registration
    grid = Grid.objects.create(scheduled=scheduled)
    planned = dict(registration.planned_modalities.values_list("competence_id", "modality"))
    carried = acquired.carried_over(registration, at=scheduled.commission.date).competences
    competences = [c for c in registration.version.competences.prefetch_related("criteria")
                   if c.code not in carried]
    results = CompetenceResult.objects.bulk_create(
        CompetenceResult(
            grid=grid, competence=c,
            planned_modality=planned.get(c.pk, c.modalities[0]),
            modality_used=planned.get(c.pk, c.modalities[0]),
        )
        for c in competences
    )
    CriterionResult.objects.bulk_create(
        CriterionResult(competence_result=result, criterion=criterion)
        for result, competence in zip(results, competences, strict=True)
        for criterion in competence.criteria.all()
    )
    _event(grid, A.CREATED, actor=actor)
    return grid


# ---------------------------------------------------------------------------
# Filling: one field at a time, with a revision check
# ---------------------------------------------------------------------------
CRITERION_FIELDS = {"satisfied", "notes", "concerned"}
COMPETENCE_FIELDS = {"level", "comment", "modality_used"}


def _clean_value(row, field: str, raw):
    if field == "satisfied":
        return {"oui": True, "non": False, "": None, None: None, True: True,
                False: False}.get(raw, "invalid")
    if field == "concerned":
        return raw in (True, "on", "true", "1", "oui")
    if field in ("notes", "comment"):
        return (raw or "").strip()
    if field == "modality_used":
        if raw not in row.competence.modalities:
            raise ValidationError(_("Le référentiel n'autorise pas cette modalité pour %(code)s.")
                                  % {"code": row.competence.code})
        return raw
    if field == "level":
        if raw in ("", None):
            return None
        level = RatingLevel.objects.filter(pk=raw, version_id=row.competence.version_id).first()
        if level is None:
            raise ValidationError(_("Niveau inconnu pour ce référentiel."))
        return level
    raise ValidationError(_("Champ inconnu."))


def _plain(value):
    if isinstance(value, RatingLevel):
        return value.code
    return value


def _void_signatures(grid: Grid, *, actor, reason: str, signatures=None) -> int:
    voided = 0
    if signatures is None:
        signatures = grid.signatures.filter(voided_at__isnull=True)
    for signature in signatures:
        signature.voided_at = timezone.now()
        signature.void_reason = reason
        signature.save()
        _event(grid, A.SIGNATURE_VOIDED, actor=actor, target=signature.signer_name,
               message=reason)
        voided += 1
    return voided


@transaction.atomic
def save_field(*, grid: Grid, row_kind: str, row_id: int, field: str, value, revision: int,
               actor) -> CompetenceResult | CriterionResult:
    """Save one field of one row of the grid (autosave). ``revision`` is the row revision the
    writer read: if someone saved the row since, raise StaleEdit and change nothing."""
    grid = _lock_grid(grid)
    _guard(grid)
    # The row with what the save reads: a criterion's code; a competence's referential
    # entry (modalities, version) and level. Who saved last (updated_by) is read only for a
    # conflict's message. of=("self",): PostgreSQL refuses FOR UPDATE on the nullable side
    # of an outer join (the level).
    if row_kind == "criterion" and field in CRITERION_FIELDS:
        row = (CriterionResult.objects.select_for_update(of=("self",))
               .select_related("criterion")
               .get(pk=row_id, competence_result__grid=grid))
        target = row.criterion.code if row.criterion_id else ""
    elif row_kind == "competence" and field in COMPETENCE_FIELDS:
        row = (CompetenceResult.objects.select_for_update(of=("self",))
               .select_related("competence", "level")
               .get(pk=row_id, grid=grid))
        target = row.competence.code
    else:
        raise ValidationError(_("Champ inconnu."))
    new = _clean_value(row, field, value)
    if new == "invalid":
        raise ValidationError(_("Valeur invalide."))
    old = getattr(row, field)
    if row.revision != revision:
        who = (row.updated_by.get_full_name() or row.updated_by.get_username()
               if row.updated_by else _("un autre membre"))
        raise StaleEdit(
            _("%(who)s a modifié cet élément à %(when)s : « %(value)s ». Votre saisie n'a pas "
              "été enregistrée ; vérifiez puis saisissez à nouveau.")
            % {"who": who, "when": timezone.localtime(row.updated_at).strftime("%H:%M:%S"),
               "value": _plain(old) if old not in (None, "") else "—"},
            current_value=_plain(old), revision=row.revision, who=who, when=row.updated_at,
        )
    if _plain(old) == _plain(new):
        return row
    setattr(row, field, new)
    row.updated_by = actor
    # The grid and the row are locked (FOR UPDATE) and the grid checked unsigned above: the
    # model's own check and a re-read of the revision would only repeat those queries.
    row.revision = revision + 1
    row._grid_checked = True
    row.save(update_fields=[field, "revision", "updated_by", "updated_at"])
    _event(grid, A.CHANGED, actor=actor, target=f"{target}.{field}",
           before={field: _plain(old)}, after={field: _plain(new)})
    signatures = list(grid.signatures.filter(voided_at__isnull=True))
    if signatures:
        _void_signatures(grid, actor=actor, signatures=signatures,
                         reason=_("Contenu de la grille modifié après cette signature."))
    return row


# ---------------------------------------------------------------------------
# Completeness (DOMAIN.md §5)
# ---------------------------------------------------------------------------
@dataclass
class Missing:
    anchor: str
    code: str
    message: str


def grid_content(grid: Grid) -> list[CompetenceResult]:
    """The grid's competences in referential order with their criteria and levels (3 queries)."""
    return list(
        grid.competence_results.select_related("competence__bloc", "level")
        .prefetch_related(Prefetch("criterion_results", queryset=CriterionResult.objects
                                   .select_related("criterion").order_by("criterion__order")))
        .order_by("competence__bloc__order", "competence__order")
    )


def completeness_content(grid: Grid) -> list[CompetenceResult]:
    """The grid's competences in referential order with what ``missing_items``,
    ``progress`` and the autosave's fragments read — each competence's code, level and
    comment, and of its criteria how many there are, how many are answered and whether one
    is concerned by the comment — and nothing else, in one query. An autosave that changes
    a level or a criterion sends these back after every save: through ``grid_content`` that
    read cost ≈ 8 ms of its 30 ms budget at N=20; with the criteria as instances, ≈ 2 ms
    more than as counts."""
    criteria = CriterionResult.objects.filter(competence_result=OuterRef("pk"))
    return list(
        grid.competence_results.select_related("competence", "level")
        .only("grid", "comment", "competence__code", "level__label", "level__mastered")
        .annotate(criteria_count=Count("criterion_results"),
                  criteria_done=Count("criterion_results",
                                      filter=Q(criterion_results__satisfied__isnull=False)),
                  any_concerned=Exists(criteria.filter(concerned=True)))
        .order_by("competence__bloc__order", "competence__order")
    )


def criteria_figures(result: CompetenceResult) -> tuple[int, int, bool]:
    """Of the criteria of ``result``: how many, how many answered, whether one is concerned
    by the comment — as ``completeness_content`` counted them, else from its criterion
    results (``grid_content``)."""
    if hasattr(result, "criteria_count"):
        return result.criteria_count, result.criteria_done, result.any_concerned
    criteria = result.criterion_results.all()
    return (len(criteria), sum(1 for c in criteria if c.satisfied is not None),
            any(c.concerned for c in criteria))


def missing_items(results: list[CompetenceResult]) -> list[Missing]:
    """What prevents signature, and where: a level for every competence; for a competence not
    mastered in full autonomy, a comment and the criteria it concerns."""
    missing = []
    for result in results:
        code = result.competence.code
        anchor = f"competence-{result.pk}"
        if result.level is None:
            missing.append(Missing(anchor, code, _("%(code)s : niveau de maîtrise à indiquer.")
                                   % {"code": code}))
            continue
        if not result.level.mastered:
            if not result.comment:
                missing.append(Missing(anchor, code, _(
                    "%(code)s : compétence non maîtrisée en toute autonomie — un commentaire "
                    "est obligatoire.") % {"code": code}))
            if not criteria_figures(result)[2]:
                missing.append(Missing(anchor, code, _(
                    "%(code)s : cochez le ou les critères auxquels se rapporte le commentaire."
                ) % {"code": code}))
    return missing


def progress(results: list[CompetenceResult]) -> dict:
    figures = [criteria_figures(r) for r in results]
    return {
        "competences_done": sum(1 for r in results if r.level_id),
        "competences": len(results),
        "criteria_done": sum(done for _count, done, _concerned in figures),
        "criteria": sum(count for count, _done, _concerned in figures),
    }


@transaction.atomic
def submit_for_signature(*, grid: Grid, actor) -> Grid:
    grid = _lock_grid(grid)
    _guard(grid)
    problems = missing_items(grid_content(grid))
    if problems:
        raise ValidationError([p.message for p in problems])
    if grid.state == GridState.DRAFT:
        grid.state = GridState.TO_SIGN
        grid.save(update_fields=["state"])
        _event(grid, A.SUBMITTED, actor=actor)
    return grid


# ---------------------------------------------------------------------------
# Snapshot and signatures (DESIGN.md §4b)
# ---------------------------------------------------------------------------
def canonical_json(data) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def sha256_of(data) -> str:
    return hashlib.sha256(canonical_json(data).encode()).hexdigest()


def _site_language(label) -> str:
    """A label as stored in a snapshot: a plain string in the site's language, so that the
    hash does not depend on the language each signer reads the site in."""
    with translation.override(settings.LANGUAGE_CODE):
        return str(label)


def build_snapshot(grid: Grid) -> dict:
    """Everything that is signed: referential version and labels, levels, comments, identities."""
    scheduled = (ScheduledCandidate.objects.select_related(
        "commission__centre", "registration__candidate", "registration__company",
        "registration__version__certification").get(pk=grid.scheduled_id))
    version = scheduled.registration.version
    members = scheduled.commission.members.select_related("evaluator__user").order_by("role", "pk")
    return snapshot_of(
        grid_pk=grid.pk, scheduled=scheduled, members=list(members),
        rating_levels=list(version.rating_levels.order_by("order")),
        results=[(r, list(r.criterion_results.all())) for r in grid_content(grid)],
        incidents=list(grid.incidents.order_by("reported_at", "pk")))


def snapshot_of(*, grid_pk: int, scheduled: ScheduledCandidate, members: list,
                rating_levels: list, results: list[tuple], incidents: list) -> dict:
    """The signed content from rows already loaded (the one definition of a grid's snapshot,
    also used by the volume seeder). ``members`` in (role, pk) order, ``results`` as pairs
    (competence result, its criterion results) in referential order, as ``grid_content``."""
    registration = scheduled.registration
    commission = scheduled.commission
    version = registration.version
    certification = version.certification
    return {
        "format": "grille/1",
        "grid": grid_pk,
        "centre": commission.centre.name,
        "certification": {"kind": certification.kind, "code": certification.code,
                          "title": certification.title,
                          "registry": f"{certification.registry} {certification.registry_number}"
                          .strip()},
        "version": version.label,
        "rating_scale": [{"code": lv.code, "label": lv.label, "mastered": lv.mastered}
                         for lv in rating_levels],
        "candidate": {"name": registration.candidate.full_name,
                      "birth_date": registration.candidate.birth_date.isoformat(),
                      "reference": registration.reference},
        "company": registration.company.name if registration.company_id else "",
        "commission": {"date": commission.date.isoformat(),
                       "place": commission.location_label,
                       "members": [{"name": str(m.evaluator), "role": m.role} for m in members]},
        "attendance": scheduled.attendance,
        "competences": [
            {
                "bloc": ({"code": r.competence.bloc.code, "title": r.competence.bloc.title}
                         if r.competence.bloc_id else None),
                "code": r.competence.code,
                "title": r.competence.title,
                "planned_modality": r.planned_modality,
                "modality_used": r.modality_used,
                "modality_label": _site_language(Modality(r.modality_used).label),
                "level": ({"code": r.level.code, "label": r.level.label,
                           "mastered": r.level.mastered} if r.level_id else None),
                "comment": r.comment,
                "criteria": [{"code": c.criterion.code, "text": c.criterion.text,
                              "satisfied": c.satisfied, "notes": c.notes,
                              "concerned": c.concerned}
                             for c in criteria],
            }
            for r, criteria in results
        ],
        "incidents": [
            {"kind": i.kind, "description": i.description,
             "reported_at": i.reported_at.isoformat(), "resolution": i.resolution}
            for i in incidents
        ],
    }


SUMMARY_KEYS = ("code", "modality_used", "modality_label", "comment")


def summary_of(snapshot: dict) -> dict:
    """The part of a signed snapshot the jury's proposal and conformity check read: per
    competence its code, bloc, level (mastered or not), modality and comment."""
    return {"competences": [
        {**{key: item[key] for key in SUMMARY_KEYS},
         "bloc": {"code": item["bloc"]["code"]} if item["bloc"] else None,
         "level": {"mastered": item["level"]["mastered"]} if item["level"] else None}
        for item in snapshot["competences"]]}


def signature_problems(grid: Grid, member: CommissionMember) -> list[str]:
    """The impartiality check runs again at signature (data may have changed, DOMAIN.md §4)."""
    registration = grid.scheduled.registration
    commission = grid.scheduled.commission
    problems = [p.message for p in impartiality.conflicts(member.evaluator, registration)]
    if member.override_justification:
        problems = []
    problems += [p.message for p in impartiality.eligibility_problems(
        member.evaluator, certifications=[registration.version.certification],
        on=commission.date)]
    return problems


@transaction.atomic
def sign_grid(*, grid: Grid, member: CommissionMember, password: str, consent: bool,
              ip: str | None, user_agent: str = "") -> "SignResult":
    """Record one member's signature; the last one locks the grid (DESIGN.md §4b)."""
    grid = _lock_grid(grid)
    _guard(grid)
    if member.commission_id != grid.scheduled.commission_id:
        raise SignatureRefused(_("Vous ne siégez pas dans la commission de cette grille."))
    user = member.evaluator.user
    if not user.check_password(password):
        raise SignatureRefused(_("Mot de passe incorrect : la signature n'est pas enregistrée."))
    if not consent:
        raise SignatureRefused(_("Cochez la déclaration pour signer."))
    if grid.state != GridState.TO_SIGN:
        raise SignatureRefused(_("La grille doit d'abord être complétée et passée à la "
                                 "signature."))
    problems = missing_items(grid_content(grid))
    if problems:
        raise SignatureRefused([p.message for p in problems])
    refusals = signature_problems(grid, member)
    if refusals:
        raise SignatureRefused(refusals)
    snapshot = build_snapshot(grid)
    digest = sha256_of(snapshot)
    # A signature of another content (candidate, company or commission data changed since)
    # no longer counts: void it visibly so that its signer can sign what is now shown.
    _void_signatures(grid, actor=user, reason=_("Le contenu de la grille a changé depuis "
                                                "cette signature."),
                     signatures=grid.signatures.filter(voided_at__isnull=True)
                     .exclude(snapshot_sha256=digest))
    if grid.signatures.filter(member=member, voided_at__isnull=True).exists():
        raise SignatureRefused(_("Vous avez déjà signé cette grille."))
    from evaluations.models import Signature

    signature = Signature.objects.create(
        grid=grid, member=member, signer_name=str(member.evaluator), ip_address=ip,
        user_agent=user_agent[:400], consent_version=CURRENT_CONSENT_VERSION,
        snapshot_sha256=digest, snapshot=snapshot,
    )
    _event(grid, A.SIGNED, actor=user, target=str(member.evaluator),
           after={"sha256": digest, "consent": CURRENT_CONSENT_VERSION})
    signed_members = set(grid.signatures.filter(voided_at__isnull=True, snapshot_sha256=digest)
                         .values_list("member_id", flat=True))
    all_members = set(grid.scheduled.commission.members.values_list("pk", flat=True))
    locked = all_members <= signed_members
    document = None
    if locked:
        document = _lock(grid, snapshot=snapshot, digest=digest, actor=user)
    return SignResult(signature=signature, locked=locked, document=document)


@dataclass
class SignResult:
    signature: object
    locked: bool
    document: GeneratedDocument | None


def _lock(grid: Grid, *, snapshot: dict, digest: str, actor) -> GeneratedDocument:
    grid.state = GridState.SIGNED
    grid.locked_at = timezone.now()
    grid.snapshot = snapshot
    grid.snapshot_sha256 = digest
    grid.summary = summary_of(snapshot)
    grid._allow_locked_write = True
    grid.save(update_fields=["state", "locked_at", "snapshot", "snapshot_sha256", "summary"])
    _event(grid, A.LOCKED, actor=actor, after={"sha256": digest})
    # Each signing round issues its own document and code, even for identical content: the
    # code of a reopened round stays « no longer valid » on the verify page.
    document = GeneratedDocument.objects.create(kind=GeneratedDocument.Kind.GRID, grid=grid,
                                                content_sha256=digest)
    registration = grid.scheduled.registration
    if registration.state == RegistrationState.PRET_EVALUATION:
        candidate_services.transition(
            registration=registration, to_state=RegistrationState.EVALUE, system=True,
            actor_label=_("Commission d'évaluation (grille signée)"))
    from evaluations.tasks import render_grid_pdf

    send_on_commit(render_grid_pdf, document_id=document.pk)
    return document


@transaction.atomic
def reopen_grid(*, grid: Grid, actor, reason: str) -> Grid:
    """A staff act with a reason: voids the signatures, keeps everything in the audit trail,
    and the documents of the old content are no longer valid on the verify page."""
    grid = _lock_grid(grid)
    if grid.state != GridState.SIGNED:
        raise ValidationError(_("Seule une grille signée peut être rouverte."))
    if not reason.strip():
        raise ValidationError(_("Indiquez le motif de la réouverture."))
    grid.state = GridState.DRAFT
    grid.reopened_at = timezone.now()
    grid.reopen_count = F("reopen_count") + 1
    grid.snapshot = None
    grid.snapshot_sha256 = ""
    grid.summary = None
    grid._allow_locked_write = True
    grid.save(update_fields=["state", "reopened_at", "reopen_count", "snapshot",
                             "snapshot_sha256", "summary"])
    grid.refresh_from_db()
    _void_signatures(grid, actor=actor, reason=_("Grille rouverte : %(reason)s")
                     % {"reason": reason.strip()})
    _event(grid, A.REOPENED, actor=actor, message=reason.strip())
    registration = grid.scheduled.registration
    if registration.state == RegistrationState.EVALUE:
        candidate_services.transition(
            registration=registration, to_state=RegistrationState.PRET_EVALUATION,
            actor=actor, reason=_("Grille d'évaluation rouverte : %(reason)s")
            % {"reason": reason.strip()})
    return grid


# ---------------------------------------------------------------------------
# Attendance and incidents (DOMAIN.md §5)
# ---------------------------------------------------------------------------
@transaction.atomic
def record_attendance(*, grid: Grid, attendance: str, actor) -> ScheduledCandidate:
    grid = _lock_grid(grid)
    _guard(grid)
    if attendance not in ("present", "excuse", "absent"):
        raise ValidationError(_("Présence inconnue."))
    scheduled = ScheduledCandidate.objects.select_for_update().get(pk=grid.scheduled_id)
    before = scheduled.attendance
    scheduled.attendance = attendance
    scheduled.save(update_fields=["attendance"])
    _event(grid, A.ATTENDANCE, actor=actor, before={"attendance": before},
           after={"attendance": attendance})
    # The attendance is part of the signed snapshot: a change voids the signatures.
    if before != attendance and grid.signatures.filter(voided_at__isnull=True).exists():
        _void_signatures(grid, actor=actor,
                         reason=_("Présence du candidat modifiée après cette signature."))
    return scheduled


@transaction.atomic
def report_incident(*, grid: Grid, kind: str, description: str, actor) -> Incident:
    grid = _lock_grid(grid)
    _guard(grid)
    if not description.strip():
        raise ValidationError(_("Décrivez l'incident."))
    incident = Incident.objects.create(grid=grid, kind=kind, description=description.strip(),
                                       reported_by=actor)
    _event(grid, A.INCIDENT, actor=actor, after={"kind": kind, "description": description})
    if grid.signatures.filter(voided_at__isnull=True).exists():
        _void_signatures(grid, actor=actor, reason=_("Incident ajouté après cette signature."))
    return incident


@transaction.atomic
def resolve_incident(*, incident: Incident, resolution: str, actor) -> Incident:
    """Staff resolve an incident with a reason (an unresolved one is a red line for the jury)."""
    grid = Grid.objects.select_for_update().get(pk=incident.grid_id)
    incident = Incident.objects.select_for_update().get(pk=incident.pk)
    if incident.is_resolved:
        raise ValidationError(_("Cet incident est déjà résolu."))
    if not resolution.strip():
        raise ValidationError(_("Indiquez comment l'incident a été résolu."))
    incident.resolution = resolution.strip()
    incident.resolved_by = actor
    incident.resolved_at = timezone.now()
    incident.save()
    _event(grid, A.INCIDENT_RESOLVED, actor=actor, message=resolution.strip())
    # The resolution is part of the snapshot: before the lock, it voids the signatures given
    # (a signed grid keeps its snapshot; the jury reads the resolution from the incident).
    if not grid.is_locked and grid.signatures.filter(voided_at__isnull=True).exists():
        _void_signatures(grid, actor=actor, reason=_("Incident résolu après cette signature."))
    return incident

