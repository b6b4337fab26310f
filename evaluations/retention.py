"""The retention of personal data (DOMAIN.md §8): once a dossier has been kept as long as the
settings say (``settings.RETENTION``), what it holds about the person is effaced, while the
fact of certification stays.

Effaced, per dossier (a registration): the candidate's dossier fields and the people named in
it (tutor, referent trainer, manager), the uploaded documents (rows cleared, files deleted),
the company avis, the personal links' addresses, the free text of the timeline, the grids'
content (levels, comments, observations, incidents), their signed snapshots and the
signatures' snapshots and connection data, the grid PDFs and commission ZIPs, the free text
and values of the grid journal, and the django-simple-history rows that copied any of it.
Once every registration of a candidate is effaced, their contact details too — and, when no
jury ever decided on them, their identity (nothing is left to attest).

Kept without limit: the candidate's identity as DOMAIN.md §7 needs it, the registration
(reference, certification, path, company, dates, states), the jury's decisions, the PV, the
results letters, attestations and relevés with their files and verification codes (the
public verify page still answers), the hashes of what was signed and who signed when.

Each dossier is purged in its own transaction: one that fails is left untouched and reported,
the others proceed. Signed rows and audit rows refuse writes (model guards, PostgreSQL
triggers): this module writes through them explicitly — base ``QuerySet`` updates under
``purge_allowed()`` — and nowhere else does. A purged dossier is recorded once in the register
(``PersonalDataEvent``): a second run finds nothing to do.
"""

import datetime
import logging
from collections import Counter
from dataclasses import dataclass, field

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.db import models, transaction
from django.db.models import Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from candidates.models import (
    OPEN_STATES,
    AccessLink,
    Candidate,
    CompanyOpinion,
    CompanyOpinionItem,
    Document,
    Registration,
    RegistrationEvent,
    RegistrationState,
    TrainingRecord,
    Tutor,
    VaeAdmissibility,
)
from evaluations.models import (
    BatchExport,
    CompetenceResult,
    CriterionResult,
    Decision,
    GeneratedDocument,
    Grid,
    GridEvent,
    Incident,
    PersonalDataEvent,
    Signature,
)
from evaluations.protection import purge_allowed
from evaluations.services import summary_of

logger = logging.getLogger(__name__)

DECIDED, UNDECIDED = "decided", "undecided"

# Grid journal entries whose values are evidence, not content: the hashes a signature, a lock
# or a rendered document recorded. Every other entry loses its values and its text.
EVIDENCE_ACTIONS = (GridEvent.Action.SIGNED, GridEvent.Action.LOCKED,
                    GridEvent.Action.DOCUMENT)


def _base(model):
    """The plain QuerySet of ``model``: the one deliberate way past the managers that refuse
    updates of signed and audit rows (GridQuerySet, GridContentQuerySet, AppendOnlyQuerySet)."""
    return models.QuerySet(model=model)


# ---------------------------------------------------------------------------
# What is due
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Due:
    registration_id: int
    reference: str
    reason: str  # DECIDED or UNDECIDED
    since: datetime.date  # the latest final decision, or the abandonment


def _start_of_day_after(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day + datetime.timedelta(days=1),
                                                         datetime.time.min))


def cutoffs(today: datetime.date) -> dict[str, datetime.date]:
    """The last day whose dossiers are due on ``today``, per rule."""
    retention = settings.RETENTION
    return {DECIDED: today - relativedelta(years=retention["DECIDED_YEARS"]),
            UNDECIDED: today - relativedelta(years=retention["UNDECIDED_YEARS"])}


def _purged_ids():
    return (PersonalDataEvent.objects.filter(action=PersonalDataEvent.Action.PURGED)
            .values("registration_id"))


def due_dossiers(*, today: datetime.date) -> list[Due]:
    """Dossiers past their retention on ``today`` and not purged yet: deliberated ones whose
    latest final decision (a correction restarts the count) is old enough, and abandoned ones
    whose abandonment is. A registration still open, or with a decision not yet final, is
    never due."""
    limits = cutoffs(today)
    decided = (Registration.objects.filter(state=RegistrationState.DELIBERE)
               .exclude(pk__in=_purged_ids())
               .exclude(decisions__final_at__isnull=True)
               .annotate(since=Max("decisions__final_at"))
               .filter(since__lt=_start_of_day_after(limits[DECIDED]))
               .values_list("pk", "reference", "since"))
    # An abandoned registration is closed: nothing happens to it after its abandonment.
    undecided = (Registration.objects.filter(
        state=RegistrationState.ABANDON,
        state_changed_at__lt=_start_of_day_after(limits[UNDECIDED]))
        .exclude(pk__in=_purged_ids())
        .values_list("pk", "reference", "state_changed_at"))
    due = [Due(pk, reference, DECIDED, timezone.localdate(since))
           for pk, reference, since in decided]
    due += [Due(pk, reference, UNDECIDED, timezone.localdate(since))
            for pk, reference, since in undecided]
    return sorted(due, key=lambda d: d.registration_id)


def dormant_open_registrations(*, today: datetime.date) -> int:
    """Registrations still open without any activity for the undecided retention: never
    purged while open — the summary asks staff to close them."""
    cutoff = _start_of_day_after(cutoffs(today)[UNDECIDED])
    return (Registration.objects.filter(state__in=OPEN_STATES, state_changed_at__lt=cutoff)
            .annotate(last=Max("events__at"))
            .filter(Q(last__isnull=True) | Q(last__lt=cutoff)).count())


# ---------------------------------------------------------------------------
# Purging one dossier
# ---------------------------------------------------------------------------
def purged_snapshot(snapshot: dict | None) -> dict | None:
    """What stays of a signed grid snapshot: its frame — centre, certification, referential,
    commission and members, the candidate's name and reference (the fact, as the verify page
    shows it) — without anything the commission recorded about the candidate. Applied twice,
    it gives the same."""
    if not snapshot:
        return snapshot
    return {
        "format": snapshot.get("format"),
        "purged": True,
        "grid": snapshot.get("grid"),
        "centre": snapshot.get("centre", ""),
        "certification": snapshot.get("certification", {}),
        "version": snapshot.get("version", ""),
        "rating_scale": snapshot.get("rating_scale", []),
        "candidate": {key: snapshot.get("candidate", {}).get(key, "")
                      for key in ("name", "reference")},
        "company": "",
        "commission": snapshot.get("commission", {}),
        "attendance": "",
        "competences": [
            {key: item.get(key) for key in ("bloc", "code", "title", "planned_modality",
                                            "modality_used", "modality_label")}
            | {"level": None, "comment": "", "criteria": []}
            for item in snapshot.get("competences", [])
        ],
        "incidents": [],
    }


class _Files:
    """Files to delete once the dossier's transaction has committed (never before: a dossier
    rolled back keeps its files)."""

    def __init__(self):
        self.names: list[tuple[object, str]] = []

    def add(self, field_file) -> None:
        if field_file:
            self.names.append((field_file.storage, field_file.name))

    def delete_on_commit(self) -> None:
        names = list(self.names)

        def delete():
            for storage, name in names:
                storage.delete(name)

        transaction.on_commit(delete, robust=True)


def _clear_history(model, filters: dict, **values) -> int:
    """Apply ``values`` to the django-simple-history rows of ``model`` matching ``filters``
    (they copy every value the row ever held)."""
    return _base(model.history.model).filter(**filters).update(history_change_reason=None,
                                                               **values)


def _purge_registration(registration: Registration, files: _Files) -> Counter:
    counts = Counter()
    dossier = {"referent_trainer_name": "", "referent_trainer_email": "", "manager_name": "",
               "manager_email": "", "job_title": "", "career_summary": "",
               "dossier_notes": "", "training_decision_reason": ""}
    tutor_id = registration.tutor_id
    counts["dossiers"] += _base(Registration).filter(pk=registration.pk).update(
        tutor=None, **dossier)
    counts["history"] += _clear_history(Registration, {"id": registration.pk}, tutor=None,
                                        **dossier)
    # The tutor is the company's: their row goes once no registration names them any more.
    if tutor_id and not Registration.objects.filter(tutor_id=tutor_id).exists():
        counts["tutors"] += Tutor.objects.filter(pk=tutor_id).delete()[1].get(
            Tutor._meta.label, 0)

    documents = list(Document.objects.filter(registration=registration).exclude(
        file="", original_name=""))
    for document in documents:
        files.add(document.file)
    counts["documents"] += _base(Document).filter(pk__in=[d.pk for d in documents]).update(
        file="", original_name="")
    counts["links"] += _base(AccessLink).filter(registration=registration).exclude(
        email="").update(email="")

    opinion = {"given_by_name": "", "given_by_function": "", "overall": "", "comment": ""}
    opinions = _base(CompanyOpinion).filter(registration=registration)
    counts["opinions"] += opinions.update(**opinion)
    counts["history"] += _clear_history(CompanyOpinion, {"registration_id": registration.pk},
                                        **opinion)
    _base(CompanyOpinionItem).filter(opinion__registration=registration).delete()

    admissibility = {"experience_description": "", "reason": ""}
    _base(VaeAdmissibility).filter(registration=registration).update(**admissibility)
    counts["history"] += _clear_history(VaeAdmissibility, {"registration_id": registration.pk},
                                        **admissibility)
    _base(TrainingRecord).filter(registration=registration).update(notes="")

    events = _base(RegistrationEvent).filter(registration=registration)
    counts["timeline"] += events.exclude(message="").update(message="")
    # The avis's event names its signatory; the other labels name the system or the jury.
    events.filter(kind=RegistrationEvent.Kind.OPINION).update(actor_label="")
    return counts


def _purge_grids(registration: Registration, files: _Files, now) -> Counter:
    counts = Counter()
    grids = list(Grid.objects.filter(scheduled__registration=registration,
                                     purged_at__isnull=True))
    for grid in grids:
        _base(CompetenceResult).filter(grid=grid).update(level=None, comment="")
        _base(CriterionResult).filter(competence_result__grid=grid).update(
            satisfied=None, notes="", concerned=False)
        _base(Incident).filter(grid=grid).update(description="", resolution="")
        for signature in Signature.objects.filter(grid=grid):
            counts["signatures"] += _base(Signature).filter(pk=signature.pk).update(
                snapshot=purged_snapshot(signature.snapshot) or {}, ip_address=None,
                user_agent="", void_reason="")
        journal = _base(GridEvent).filter(grid=grid)
        journal.exclude(action__in=EVIDENCE_ACTIONS).update(before=None, after=None)
        journal.exclude(message="").update(message="")
        snapshot = purged_snapshot(grid.snapshot)
        _base(Grid).filter(pk=grid.pk).update(
            snapshot=snapshot, summary=summary_of(snapshot) if snapshot else None,
            purged_at=now)
        pdfs = list(GeneratedDocument.objects.filter(grid=grid).exclude(file=""))
        for document in pdfs:
            files.add(document.file)
        counts["grid_pdfs"] += _base(GeneratedDocument).filter(
            pk__in=[d.pk for d in pdfs]).update(file="")
        GridEvent.objects.create(grid=grid, action=GridEvent.Action.PURGED, at=now,
                                 after={"signatures": grid.signatures.count(),
                                        "pdfs": len(pdfs)})
        counts["grids"] += 1
    # A commission's ZIP holds these grids' PDFs: it can be asked for again.
    exports = list(BatchExport.objects.filter(
        commission__scheduled__grid__in=grids).exclude(file="").distinct())
    for export in exports:
        files.add(export.file)
    counts["exports"] += BatchExport.objects.filter(pk__in=[e.pk for e in exports]).update(
        file="")
    return counts


def _purge_candidate(candidate: Candidate) -> Counter:
    """Once every dossier of the candidate is purged: their contact details; and, when no jury
    ever decided on them, their identity too (only the birth year stays, for statistics)."""
    counts = Counter()
    values = {"email": "", "phone": "", "address": "", "employer": None}
    decided = Decision.objects.filter(registration__candidate=candidate,
                                      final_at__isnull=False).exists()
    if not decided:
        # The birth date is required: only its year stays.
        values |= {"birth_name": str(_("Anonyme")), "usage_name": "", "first_names": "",
                   "birth_date": datetime.date(candidate.birth_date.year, 1, 1), "sex": "",
                   "birth_commune_code": "", "birth_commune_name": "",
                   "birth_country_code": ""}
        counts["identities"] += 1
    counts["candidates"] += _base(Candidate).filter(pk=candidate.pk).update(**values)
    counts["history"] += _clear_history(Candidate, {"id": candidate.pk}, **values)
    return counts


@transaction.atomic
def purge_dossier(*, due: Due, now: datetime.datetime) -> Counter | None:
    """Efface what one dossier holds about its candidate (module docstring), record it in the
    register and the timeline, and delete its files after commit. None when another run
    purged it meanwhile."""
    registration = (Registration.objects.select_for_update(of=("self",))
                    .select_related("candidate").get(pk=due.registration_id))
    if PersonalDataEvent.objects.filter(registration=registration,
                                        action=PersonalDataEvent.Action.PURGED).exists():
        return None
    files = _Files()
    with purge_allowed():
        counts = _purge_registration(registration, files)
        counts += _purge_grids(registration, files, now)
        others = (Registration.objects.filter(candidate_id=registration.candidate_id)
                  .exclude(pk=registration.pk).exclude(pk__in=_purged_ids()))
        if not others.exists():
            counts += _purge_candidate(registration.candidate)
        counts["files"] = len(files.names)
        PersonalDataEvent.objects.create(
            candidate_id=registration.candidate_id, registration=registration, at=now,
            action=PersonalDataEvent.Action.PURGED,
            data={"rule": due.reason, "since": due.since.isoformat(),
                  "counts": dict(sorted(counts.items()))})
        rule = (_("décision du %(date)s") if due.reason == DECIDED
                else _("abandon du %(date)s")) % {"date": due.since.strftime("%d/%m/%Y")}
        RegistrationEvent.objects.create(
            registration=registration, at=now, kind=RegistrationEvent.Kind.DOSSIER,
            actor_label=_("Conservation des données"),
            message=_("Données personnelles du dossier effacées au terme de la durée de "
                      "conservation (%(rule)s).") % {"rule": rule})
    files.delete_on_commit()
    return counts


# ---------------------------------------------------------------------------
# The whole run
# ---------------------------------------------------------------------------
class _DryRun(Exception):
    """Raised inside a dossier's transaction to roll it back after counting (--dry-run)."""

    def __init__(self, counts):
        super().__init__()
        self.counts = counts


# What the summary counts, in its order.
COUNT_LABELS = {
    "dossiers": gettext_lazy("dossiers (parcours, personnes citées, observations)"),
    "documents": gettext_lazy("documents déposés"),
    "opinions": gettext_lazy("avis d'entreprise"),
    "links": gettext_lazy("adresses des liens personnels"),
    "timeline": gettext_lazy("textes de la chronologie"),
    "tutors": gettext_lazy("tuteurs supprimés"),
    "grids": gettext_lazy("grilles d'évaluation"),
    "signatures": gettext_lazy("signatures (contenu signé, IP, navigateur)"),
    "grid_pdfs": gettext_lazy("PDF de grilles"),
    "exports": gettext_lazy("exports ZIP de commissions"),
    "candidates": gettext_lazy("candidats (coordonnées)"),
    "identities": gettext_lazy("identités anonymisées (aucune décision)"),
    "history": gettext_lazy("lignes d'historique"),
    "files": gettext_lazy("fichiers supprimés"),
}


@dataclass
class Report:
    today: datetime.date
    dry_run: bool
    purged: list[Due] = field(default_factory=list)
    failed: list[tuple[Due, str]] = field(default_factory=list)
    counts: Counter = field(default_factory=Counter)
    dormant: int = 0

    def lines(self) -> list[str]:
        limits = cutoffs(self.today)
        lines = [_("Conservation des données personnelles au %(today)s : dossiers décidés "
                   "jusqu'au %(decided)s, abandonnés jusqu'au %(undecided)s.")
                 % {"today": self.today.strftime("%d/%m/%Y"),
                    "decided": limits[DECIDED].strftime("%d/%m/%Y"),
                    "undecided": limits[UNDECIDED].strftime("%d/%m/%Y")}]
        if self.purged:
            by_rule = Counter(d.reason for d in self.purged)
            verb = _("à anonymiser") if self.dry_run else _("anonymisé(s)")
            lines.append(_("%(n)s dossier(s) %(verb)s : %(decided)s après décision, "
                           "%(undecided)s après abandon.")
                         % {"n": len(self.purged), "verb": verb,
                            "decided": by_rule[DECIDED], "undecided": by_rule[UNDECIDED]})
            lines += [f"  - {label} : {self.counts[key]}"
                      for key, label in COUNT_LABELS.items() if self.counts[key]]
        elif not self.failed:
            lines.append(_("Aucun dossier n'a atteint la fin de sa durée de conservation."))
        for due, message in self.failed:
            lines.append(_("Échec, dossier laissé intact : %(reference)s — %(message)s")
                         % {"reference": due.reference, "message": message})
        if self.dormant:
            lines.append(_("%(n)s inscription(s) encore ouverte(s) sans activité depuis la "
                           "durée de conservation : à clore (abandon) pour qu'elle s'applique.")
                         % {"n": self.dormant})
        if self.dry_run:
            lines.append(_("Simulation (--dry-run) : aucune donnée n'a été modifiée."))
        return lines


def apply_retention(*, today: datetime.date | None = None, dry_run: bool = False) -> Report:
    """Purge every dossier past its retention on ``today``, each in its own transaction.
    ``dry_run``: each purge is carried out then rolled back, so the counts are exact and
    nothing changes (files are deleted only after a commit)."""
    today = today or timezone.localdate()
    report = Report(today=today, dry_run=dry_run,
                    dormant=dormant_open_registrations(today=today))
    now = timezone.now()
    for due in due_dossiers(today=today):
        try:
            with transaction.atomic():
                counts = purge_dossier(due=due, now=now)
                if dry_run:
                    raise _DryRun(counts)
        except _DryRun as rolled_back:
            counts = rolled_back.counts
        except Exception as exc:  # reported, never hidden: the next dossiers still go
            logger.exception("Retention: dossier %s (registration %s) failed", due.reference,
                             due.registration_id)
            report.failed.append((due, str(exc) or exc.__class__.__name__))
            continue
        if counts is not None:
            report.purged.append(due)
            report.counts += counts
    return report
