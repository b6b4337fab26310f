"""The right of access (RGPD art. 15, DOMAIN.md §8): everything the centre holds about one
candidate, as one ZIP the staff hand over — ``donnees.json`` (identity, registrations and their
dossier, timeline, commissions, grid results, decisions, documents, personal links, and the
field history django-simple-history kept) and the files themselves: the uploaded documents
and the generated PDFs (grids, results letters, attestations, relevés).

It lives in the rightmost app because it reads across all of them. The data is read in a fixed
number of queries whatever the number of registrations, grids or documents; the archive is
written to a temporary file, the stored files copied into it in chunks.
"""

import json
import shutil
import tempfile
import zipfile

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Prefetch
from django.utils import timezone
from django.utils.text import get_valid_filename
from django.utils.translation import gettext as _

from candidates.models import (
    Candidate,
    CompanyOpinion,
    CompanyOpinionItem,
    PlannedModality,
    Registration,
    RegistrationEvent,
    TrainingRecord,
    VaeAdmissibility,
)
from commissions.models import CommissionMember, ScheduledCandidate
from evaluations.models import (
    CompetenceResult,
    CriterionResult,
    Decision,
    GeneratedDocument,
    PersonalDataEvent,
)

FORMAT = "donnees-personnelles/1"
JSON_NAME = "donnees.json"


# ---------------------------------------------------------------------------
# Reading (a fixed number of queries)
# ---------------------------------------------------------------------------
def candidate_for_export(pk: int) -> Candidate:
    """The candidate with every row the export reads, prefetched (raises DoesNotExist)."""
    criteria = CriterionResult.objects.select_related("criterion").order_by("criterion__order")
    results = (CompetenceResult.objects.select_related("competence", "level")
               .prefetch_related(Prefetch("criterion_results", queryset=criteria))
               .order_by("competence__order", "pk"))
    members = CommissionMember.objects.select_related("evaluator__user")
    schedulings = (ScheduledCandidate.objects.select_related("commission", "grid")
                   .prefetch_related(Prefetch("commission__members", queryset=members),
                                     Prefetch("grid__competence_results", queryset=results),
                                     "grid__incidents", "grid__signatures",
                                     "grid__documents")
                   .order_by("commission__date", "pk"))
    decisions = (Decision.objects.select_related("session_candidate__session__minutes")
                 .prefetch_related("documents", "session_candidate__session__minutes__documents")
                 .order_by("decided_at", "pk"))
    registrations = (Registration.objects
                     .select_related("version__certification", "company", "tutor",
                                     "vae_admissibility", "company_opinion")
                     .order_by("registered_on", "pk"))
    return (
        Candidate.objects.select_related("centre", "employer")
        .prefetch_related(
            Prefetch("registrations", queryset=registrations),
            Prefetch("registrations__planned_modalities",
                     queryset=PlannedModality.objects.select_related("competence")),
            Prefetch("registrations__trainings",
                     queryset=TrainingRecord.objects.select_related("organisation")),
            Prefetch("registrations__events", queryset=RegistrationEvent.objects
                     .select_related("actor").order_by("at", "pk")),
            "registrations__documents",
            "registrations__links",
            Prefetch("registrations__company_opinion__items",
                     queryset=CompanyOpinionItem.objects.select_related("competence")),
            Prefetch("registrations__schedulings", queryset=schedulings),
            Prefetch("registrations__decisions", queryset=decisions),
        )
        .get(pk=pk)
    )


def _history(model, **filters) -> list[dict]:
    """Every version of the rows django-simple-history kept (what each field held, when)."""
    fields = model.history.model._meta.fields
    rows = model.history.model.objects.filter(**filters).order_by("history_date", "history_id")
    return [{f.attname: getattr(row, f.attname) for f in fields} for row in rows]


# ---------------------------------------------------------------------------
# The JSON
# ---------------------------------------------------------------------------
def _who(user) -> str:
    return (user.get_full_name() or user.get_username()) if user else ""


def _identity(candidate: Candidate) -> dict:
    return {
        "birth_name": candidate.birth_name, "usage_name": candidate.usage_name,
        "first_names": candidate.first_names, "birth_date": candidate.birth_date,
        "sex": candidate.sex, "birth_commune_code": candidate.birth_commune_code,
        "birth_commune_name": candidate.birth_commune_name,
        "birth_country_code": candidate.birth_country_code,
        "email": candidate.email, "phone": candidate.phone, "address": candidate.address,
        "employer": candidate.employer.name if candidate.employer_id else "",
        "centre": candidate.centre.name,
    }


def _document_path(registration: Registration, name: str) -> str:
    return f"fichiers/{get_valid_filename(registration.reference)}/{name}"


def _generated(document: GeneratedDocument, registration: Registration, files: list) -> dict:
    path = None
    if document.file:
        path = _document_path(registration, f"{document.kind}-{document.verification_code}.pdf")
        files.append((path, document.file))
    return {"kind": document.kind, "label": document.get_kind_display(),
            "verification_code": document.verification_code,
            "content_sha256": document.content_sha256, "created_at": document.created_at,
            "file": path}


def _opinion(registration: Registration) -> dict | None:
    opinion = getattr(registration, "company_opinion", None)
    if opinion is None:
        return None
    return {"given_by_name": opinion.given_by_name,
            "given_by_function": opinion.given_by_function, "given_at": opinion.given_at,
            "overall": opinion.overall, "comment": opinion.comment,
            "items": [{"competence": item.competence.code, "level": item.level,
                       "comment": item.comment} for item in opinion.items.all()]}


def _admissibility(registration: Registration) -> dict | None:
    decision = getattr(registration, "vae_admissibility", None)
    if decision is None:
        return None
    return {"decided_on": decision.decided_on, "experience_months": decision.experience_months,
            "experience_description": decision.experience_description,
            "accepted": decision.accepted, "reason": decision.reason}


def _grid(scheduled: ScheduledCandidate, registration: Registration, files: list) -> dict | None:
    grid = getattr(scheduled, "grid", None)
    if grid is None:
        return None
    return {
        "state": grid.state, "locked_at": grid.locked_at, "reopened_at": grid.reopened_at,
        "purged_at": grid.purged_at, "snapshot_sha256": grid.snapshot_sha256,
        "competences": [
            {"code": r.competence.code, "title": r.competence.title,
             "planned_modality": r.planned_modality, "modality_used": r.modality_used,
             "level": r.level.label if r.level_id else None, "comment": r.comment,
             "criteria": [{"code": c.criterion.code, "text": c.criterion.text,
                           "satisfied": c.satisfied, "notes": c.notes,
                           "concerned": c.concerned} for c in r.criterion_results.all()]}
            for r in grid.competence_results.all()],
        "incidents": [{"kind": i.kind, "description": i.description,
                       "reported_at": i.reported_at, "resolution": i.resolution,
                       "resolved_at": i.resolved_at} for i in grid.incidents.all()],
        "signatures": [{"signer": s.signer_name, "signed_at": s.signed_at,
                        "consent_version": s.consent_version, "voided_at": s.voided_at}
                       for s in grid.signatures.all()],
        "documents": [_generated(d, registration, files) for d in grid.documents.all()],
    }


def _decision(decision: Decision, registration: Registration, files: list) -> dict:
    session = decision.session_candidate.session
    minutes = getattr(session, "minutes", None)
    pv = next((d for d in minutes.documents.all() if d.kind == GeneratedDocument.Kind.PV),
              None) if minutes else None
    return {
        "outcome": decision.outcome, "acquired_blocs": decision.acquired_blocs,
        "motive": decision.motive, "decided_at": decision.decided_at,
        "final_at": decision.final_at, "correction_reason": decision.correction_reason,
        "corrects": decision.supersedes_id is not None,
        "session": {"date": session.date, "place": session.place},
        "pv_verification_code": pv.verification_code if pv else None,
        "documents": [_generated(d, registration, files) for d in decision.documents.all()],
    }


def _registration(registration: Registration, files: list) -> dict:
    certification = registration.version.certification
    tutor = registration.tutor
    documents = []
    for document in registration.documents.all():
        path = None
        if document.file:
            path = _document_path(registration, f"{document.pk}-"
                                  f"{get_valid_filename(document.original_name or 'document')}")
            files.append((path, document.file))
        documents.append({
            "kind": document.kind, "original_name": document.original_name,
            "content_type": document.content_type, "size": document.size,
            "sha256": document.sha256, "version": document.version_number,
            "uploaded_at": document.uploaded_at, "superseded_at": document.superseded_at,
            "file": path})
    return {
        "reference": registration.reference,
        "external_reference": registration.external_reference,
        "certification": {"kind": certification.kind, "code": certification.code,
                          "title": certification.title},
        "version": registration.version.label,
        "path": registration.path, "state": registration.state,
        "outcome": registration.outcome, "registered_on": registration.registered_on,
        "planned_evaluation_on": registration.planned_evaluation_on,
        "company": ({"name": registration.company.name, "siret": registration.company.siret}
                    if registration.company_id else None),
        "tutor": ({"first_name": tutor.first_name, "last_name": tutor.last_name,
                   "email": tutor.email, "phone": tutor.phone, "job_title": tutor.job_title}
                  if tutor else None),
        "referent_trainer": {"name": registration.referent_trainer_name,
                             "email": registration.referent_trainer_email},
        "manager": {"name": registration.manager_name, "email": registration.manager_email},
        "dossier": {"job_title": registration.job_title,
                    "career_summary": registration.career_summary,
                    "dossier_notes": registration.dossier_notes,
                    "modalities_agreed_on": registration.modalities_agreed_on,
                    "training_decision": registration.training_decision,
                    "training_decision_reason": registration.training_decision_reason,
                    "vae_collective": registration.vae_collective},
        "planned_modalities": [{"competence": p.competence.code, "modality": p.modality}
                               for p in registration.planned_modalities.all()],
        "trainings": [{"organisation": t.organisation.name, "start_on": t.start_on,
                       "end_on": t.end_on, "hours": t.hours, "notes": t.notes}
                      for t in registration.trainings.all()],
        "vae_admissibility": _admissibility(registration),
        "documents": documents,
        "links": [{"purpose": link.purpose, "email": link.email, "created_at": link.created_at,
                   "expires_at": link.expires_at, "sent_at": link.sent_at,
                   "used_at": link.used_at, "revoked_at": link.revoked_at}
                  for link in registration.links.all()],
        "company_opinion": _opinion(registration),
        "timeline": [{"at": e.at, "kind": e.kind, "by": e.who, "from_state": e.from_state,
                      "to_state": e.to_state, "message": e.message}
                     for e in registration.events.all()],
        "commissions": [{"date": s.commission.date, "place": s.commission.location_label,
                         "start_time": s.start_time, "attendance": s.attendance,
                         "members": [str(m.evaluator) for m in s.commission.members.all()],
                         "grid": _grid(s, registration, files)}
                        for s in registration.schedulings.all()],
        "decisions": [_decision(d, registration, files) for d in registration.decisions.all()],
    }


def personal_data(candidate: Candidate) -> tuple[dict, list]:
    """(the JSON document, the files to join as (path in the archive, stored file)) of a
    candidate read by ``candidate_for_export``."""
    files: list = []
    registrations = list(candidate.registrations.all())
    ids = [r.pk for r in registrations]
    data = {
        "format": FORMAT,
        "generated_at": timezone.now(),
        "identity": _identity(candidate),
        "registrations": [_registration(r, files) for r in registrations],
        "history": {
            "candidate": _history(Candidate, id=candidate.pk),
            "registrations": _history(Registration, id__in=ids),
            "company_opinions": _history(CompanyOpinion, registration_id__in=ids),
            "vae_admissibility": _history(VaeAdmissibility, registration_id__in=ids),
        },
        "register": [{"at": e.at, "action": e.action, "data": e.data}
                     for e in PersonalDataEvent.objects.filter(candidate=candidate)],
    }
    return data, files


# ---------------------------------------------------------------------------
# The archive and its audit
# ---------------------------------------------------------------------------
def write_archive(candidate: Candidate):
    """The ZIP in a temporary file (positioned at its start), and how many files it joins.
    A stored file gone missing from the storage is listed under ``missing_files``."""
    data, files = personal_data(candidate)
    archive_file = tempfile.TemporaryFile()  # noqa: SIM115 — handed to the response
    joined = 0
    with zipfile.ZipFile(archive_file, "w", zipfile.ZIP_DEFLATED) as archive:
        missing = []
        for path, stored in files:
            try:
                with stored.open("rb") as source, archive.open(path, "w") as target:
                    shutil.copyfileobj(source, target)
                joined += 1
            except FileNotFoundError:
                missing.append(path)
        data["missing_files"] = missing
        archive.writestr(JSON_NAME, json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False,
                                               indent=2))
    archive_file.seek(0)
    return archive_file, joined


@transaction.atomic
def record_export(*, candidate: Candidate, actor, files: int) -> PersonalDataEvent:
    """The export is a processing of the person's data: recorded in the register and in the
    timeline of each of their registrations (who, when — never what)."""
    registrations = list(candidate.registrations.all())
    event = PersonalDataEvent.objects.create(
        candidate=candidate, actor=actor, action=PersonalDataEvent.Action.EXPORTED,
        data={"registrations": len(registrations), "files": files})
    RegistrationEvent.objects.bulk_create(
        RegistrationEvent(registration=registration, actor=actor,
                          kind=RegistrationEvent.Kind.DOSSIER,
                          message=_("Export des données personnelles du candidat (droit "
                                    "d'accès, RGPD)."))
        for registration in registrations)
    return event
