"""Documents of the jury paritaire (DOMAIN.md §6, DESIGN.md §4b–§5): procès-verbal de
délibération, feuille d'émargement, results letter, attestation de réussite, relevé of the
competences and blocs validated, and the bundle for the CPNE.

Signed content is frozen when it is signed: the PV prints ``Minutes.snapshot`` (the content the
president signed); a letter, attestation or relevé prints its own ``GeneratedDocument.snapshot``,
the projection of its decision taken when the PV is signed (or the decision corrected), hashed
into ``content_sha256``. Templates receive plain data prepared here and make no query; a
document is rendered in French and in the centre's time zone whoever asks for it, so that
regenerating it gives the same text.
"""

import datetime

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from certifications.models import KINDS_WITH_BLOCS, CertificationKind, Registry
from commissions import juries
from commissions.models import College, JurySession, SessionStatus
from config.choices import label_of
from config.pdf import qr_svg_data_uri, render_pdf
from config.tasks import send_on_commit
from evaluations.acquired import carried_over
from evaluations.deliberation import FAILED, PARTIAL, PASSED, propose
from evaluations.models import OUTCOME_LABELS, Decision, GeneratedDocument, Minutes
from evaluations.pdf import verify_url
from evaluations.services import sha256_of

Kind = GeneratedDocument.Kind
DECISION_KINDS = (Kind.LETTER, Kind.CERTIFICATE, Kind.PARTIAL)
SESSION_KINDS = (Kind.PV, Kind.ATTENDANCE)


def _college_labels() -> dict[str, str]:
    return {College.EMPLOYERS: str(College.EMPLOYERS.label),
            College.EMPLOYEES: str(College.EMPLOYEES.label)}


def _date(value: str | None) -> datetime.date | None:
    return datetime.date.fromisoformat(value) if value else None


def _datetime(value: str | None) -> datetime.datetime | None:
    return datetime.datetime.fromisoformat(value) if value else None


def _president(members: list[dict]) -> str:
    return next((m["name"] for m in members if m.get("president")), "")


# ---------------------------------------------------------------------------
# Snapshots: what each document prints, frozen when it is issued
# ---------------------------------------------------------------------------
def attendance_snapshot(session: JurySession) -> dict:
    """The attendance sheet's content: the session, its members per collège (with their
    presence once recorded) and its candidates. Not signed content."""
    seats = session.seats.select_related("member__user")
    candidates = (session.candidates.select_related("registration__candidate",
                                                    "registration__version__certification")
                  .order_by("registration__reference"))
    return {
        "format": "emargement/1",
        "centre": session.centre.name,
        "session": {"id": session.pk, "date": session.date.isoformat(),
                    "start_time": session.start_time.strftime("%H:%M"),
                    "place": session.place},
        "certifications": [f"{c.kind} {c.code} — {c.title}"
                           for c in session.certifications.order_by("kind", "code")],
        "members": [{"name": str(s.member), "college": s.member.college,
                     "organisation": s.member.organisation, "president": s.is_president,
                     "present": s.present} for s in seats],
        "candidates": [{"reference": c.registration.reference,
                        "name": c.registration.candidate.full_name,
                        "certification": f"{c.registration.version.certification.kind} "
                                         f"{c.registration.version.certification.code}"}
                       for c in candidates],
    }


def _president_name(session: JurySession) -> str:
    seat = session.seats.select_related("member__user").filter(is_president=True).first()
    return str(seat.member) if seat else ""


def _carried_from(item) -> dict:
    """The « carried » key of a competence validated by an earlier jury (absent otherwise, so
    that a relevé without carried-over results keeps its former shape)."""
    if item is None:
        return {}
    return {"carried": {"session_date": item.session_date.isoformat(),
                        "until": item.until.isoformat()}}


def results_snapshot(decision: Decision) -> dict:
    """The projection of a decision that its letter, attestation and relevé print: outcome,
    blocs and competences validated and until when (DOMAIN.md §6 — competences 24 months from
    the deliberation, blocs 5 years when the certification is on the RNCP; settings.RESULTS).

    A competence is validated when the signed grids found it mastered, when it belongs to a bloc
    the jury validated, or when the candidate is admis."""
    decision = (Decision.objects
                .select_related("registration__candidate", "registration__centre",
                                "registration__version__certification",
                                "session_candidate__session__centre", "supersedes")
                .get(pk=decision.pk))
    registration = decision.registration
    session = decision.session_candidate.session
    version = registration.version
    certification = version.certification
    blocs = list(version.blocs.order_by("order"))
    passed = decision.outcome == PASSED
    acquired = {b.code for b in blocs} if passed else set(decision.acquired_blocs)
    # Results of an earlier jury still valid on this jury's date count (DOMAIN.md §6); the
    # relevé says where they come from and until when they last.
    carried = carried_over(registration, at=session.date)
    mastered = propose(registration, carried=carried).mastered
    competences = [
        {"code": c.code, "title": c.title, "bloc": c.bloc.code if c.bloc_id else None,
         "validated": passed or bool(mastered.get(c.code))
         or bool(c.bloc_id and c.bloc.code in acquired),
         **_carried_from(carried.competences.get(c.code))}
        for c in version.competences.select_related("bloc").order_by("bloc__order", "order")
    ]
    bloc_rule = (certification.registry == Registry.RNCP
                 and certification.kind in KINDS_WITH_BLOCS)
    competences_until = session.date + relativedelta(
        months=settings.RESULTS["COMPETENCE_VALIDITY_MONTHS"])
    blocs_until = (session.date + relativedelta(years=settings.RESULTS["BLOC_VALIDITY_YEARS"])
                   if bloc_rule else None)
    previous = decision.supersedes
    issued_at = decision.final_at or timezone.now()
    return {
        "format": "resultats/1",
        "decision": decision.pk,
        "issued_at": issued_at.isoformat(),
        "centre": {"name": registration.centre.name, "address": registration.centre.address},
        "session": {"id": session.pk, "date": session.date.isoformat(), "place": session.place},
        "president": _president_name(session),
        "candidate": {"name": registration.candidate.full_name,
                      "reference": registration.reference,
                      "birth_date": registration.candidate.birth_date.isoformat()},
        "certification": {"kind": certification.kind, "code": certification.code,
                          "title": certification.title, "level": certification.level,
                          "registry": certification.registry,
                          "registry_number": certification.registry_number,
                          "issuing_body": certification.issuing_body},
        "version": version.label,
        "outcome": decision.outcome,
        "blocs": [{"code": b.code, "title": b.title, "acquired": b.code in acquired}
                  for b in blocs],
        "competences": competences,
        "validity": {"competence_months": settings.RESULTS["COMPETENCE_VALIDITY_MONTHS"],
                     "competences_until": competences_until.isoformat(),
                     "bloc_years": (settings.RESULTS["BLOC_VALIDITY_YEARS"]
                                    if bloc_rule else None),
                     "blocs_until": blocs_until.isoformat() if blocs_until else None},
        "correction": ({"decided_at": decision.decided_at.isoformat(),
                        "reason": decision.correction_reason,
                        "previous_outcome": previous.outcome} if previous else None),
    }


def decision_kinds(snapshot: dict) -> list[str]:
    """A letter for everyone; the attestation when admis; the relevé signed by the president
    when not admis but something was validated (DOMAIN.md §6 « partial results last »)."""
    if snapshot["outcome"] == PASSED:
        return [Kind.LETTER, Kind.CERTIFICATE]
    validated = (any(b["acquired"] for b in snapshot["blocs"])
                 or any(c["validated"] for c in snapshot["competences"]))
    return [Kind.LETTER, Kind.PARTIAL] if validated else [Kind.LETTER]


# ---------------------------------------------------------------------------
# Issuing (inside the signing or correcting transaction)
# ---------------------------------------------------------------------------
def issue_decision_documents(*, decision: Decision) -> list[GeneratedDocument]:
    """The documents notifying a final decision, with their codes and content hashes. Called
    when the PV is signed and when a decision is corrected; issuing twice changes nothing."""
    base = results_snapshot(decision)
    session_id = base["session"]["id"]
    documents = []
    for kind in decision_kinds(base):
        snapshot = {**base, "document": str(kind)}
        document, _created = GeneratedDocument.objects.get_or_create(
            decision=decision, kind=kind,
            defaults={"session_id": session_id, "snapshot": snapshot,
                      "content_sha256": sha256_of(snapshot)})
        documents.append(document)
    return documents


def issue_minutes_documents(*, minutes: Minutes) -> list[GeneratedDocument]:
    """When the president signs: the PV (its content is the signed snapshot), the attendance
    as recorded, and every decision's letter, attestation or relevé."""
    session = minutes.session
    pv, _created = GeneratedDocument.objects.get_or_create(
        minutes=minutes, kind=Kind.PV,
        defaults={"session": session, "content_sha256": minutes.snapshot_sha256})
    attendance = attendance_snapshot(session)
    sheet, _created = GeneratedDocument.objects.get_or_create(
        minutes=minutes, kind=Kind.ATTENDANCE,
        defaults={"session": session, "snapshot": attendance,
                  "content_sha256": sha256_of(attendance)})
    documents = [pv, sheet]
    for decision in (Decision.objects.filter(session_candidate__session=session,
                                             superseded_by__isnull=True)
                     .order_by("registration__reference")):
        documents += issue_decision_documents(decision=decision)
    return documents


# ---------------------------------------------------------------------------
# Template contexts (plain data; the templates make no query)
# ---------------------------------------------------------------------------
def _verification(document: GeneratedDocument) -> dict:
    url = verify_url(document.verification_code)
    return {"document": {"kind_label": document.get_kind_display(),
                         "code": document.verification_code,
                         "content_sha256": document.content_sha256,
                         "issued_at": document.created_at},
            "verify_url": url, "qr": qr_svg_data_uri(url)}


def _colleges(members: list[dict]) -> list[dict]:
    """Members per collège (employers first), the president first, with the counts."""
    labels = _college_labels()
    colleges = []
    for college in (College.EMPLOYERS, College.EMPLOYEES):
        rows = sorted((m for m in members if m["college"] == college),
                      key=lambda m: (not m.get("president"), m["name"]))
        colleges.append({
            "code": str(college), "label": labels[college], "members": rows,
            "present": [m for m in rows if m.get("present")],
            "absent": [m for m in rows if m.get("present") is False],
        })
    return colleges


def pv_context(document: GeneratedDocument) -> dict:
    minutes = document.minutes
    snapshot = minutes.snapshot
    colleges = _colleges(snapshot["members"])
    employers, employees = (len(c["present"]) for c in colleges)
    decisions = [{
        **d,
        "outcome_label": label_of(OUTCOME_LABELS, d["outcome"]),
        "blocs": [{"code": code, "title": d.get("acquired_bloc_titles", {}).get(code, "")}
                  for code in d["acquired_blocs"]],
    } for d in snapshot["decisions"]]
    totals = [{"label": label_of(OUTCOME_LABELS, o),
               "count": sum(d["outcome"] == o for d in decisions)}
              for o in (PASSED, PARTIAL, FAILED)]
    return {
        "snapshot": snapshot,
        "session": {**snapshot["session"], "date": _date(snapshot["session"]["date"])},
        "colleges": colleges,
        "present_counts": {"employers": employers, "employees": employees},
        "parity": employers == employees,
        "decisions": decisions,
        "totals": totals,
        "certifications": sorted({f"{d['certification']} — {d.get('certification_title', '')}"
                                  .rstrip(" —") for d in decisions}),
        "president": _president(snapshot["members"]),
        "signature": {"signed_at": minutes.signed_at, "sha256": minutes.snapshot_sha256},
        **_verification(document),
    }


def attendance_context(snapshot: dict) -> dict:
    members = snapshot["members"]
    return {
        "snapshot": snapshot,
        "session": {**snapshot["session"], "date": _date(snapshot["session"]["date"])},
        "colleges": _colleges(members),
        "presence_recorded": any(m.get("present") is not None for m in members),
        "president": _president(members),
    }


def results_context(document: GeneratedDocument) -> dict:
    snapshot = document.snapshot
    certification = snapshot["certification"]
    blocs = [{**b, "competences": [c for c in snapshot["competences"] if c["bloc"] == b["code"]]}
             for b in snapshot["blocs"]]
    loose = [c for c in snapshot["competences"] if not c["bloc"]]
    correction = snapshot.get("correction")
    return {
        "snapshot": snapshot,
        "outcome": snapshot["outcome"],
        "outcome_label": label_of(OUTCOME_LABELS, snapshot["outcome"]),
        "certification": {**certification,
                          "kind_label": str(CertificationKind(certification["kind"]).label)},
        "candidate": {**snapshot["candidate"],
                      "birth_date": _date(snapshot["candidate"].get("birth_date"))},
        "session": {**snapshot["session"], "date": _date(snapshot["session"]["date"])},
        "issued_at": _datetime(snapshot["issued_at"]),
        "blocs": blocs,
        "acquired_blocs": [b for b in blocs if b["acquired"]],
        "loose_competences": loose,
        "validated_competences": [
            {**c, "carried": ({"session_date": _date(c["carried"]["session_date"]),
                               "until": _date(c["carried"]["until"])}
                              if c.get("carried") else None)}
            for c in snapshot["competences"] if c["validated"]],
        "remaining_competences": [c for c in snapshot["competences"] if not c["validated"]],
        "has_blocs": bool(blocs),
        "validity": {**snapshot["validity"],
                     "competences_until": _date(snapshot["validity"]["competences_until"]),
                     "blocs_until": _date(snapshot["validity"]["blocs_until"])},
        "correction": ({**correction, "decided_at": _datetime(correction["decided_at"]),
                        "previous_label": str(OUTCOME_LABELS.get(
                            correction["previous_outcome"], ""))}
                       if correction else None),
        **_verification(document),
    }


TEMPLATES = {
    Kind.PV: "documents/pv.html",
    Kind.ATTENDANCE: "documents/attendance.html",
    Kind.LETTER: "documents/results_letter.html",
    Kind.CERTIFICATE: "documents/certificate.html",
    Kind.PARTIAL: "documents/partial_notice.html",
}


def _context(document: GeneratedDocument) -> dict:
    if document.kind == Kind.PV:
        return pv_context(document)
    if document.kind == Kind.ATTENDANCE:
        return attendance_context(document.snapshot)
    return results_context(document)


def _render(template: str, build) -> bytes:
    with translation.override(settings.LANGUAGE_CODE), timezone.override(settings.TIME_ZONE):
        return render_pdf(template, build())


def document_pdf(document: GeneratedDocument) -> bytes:
    """The PDF of a PV, attendance record, letter, attestation or relevé."""
    return _render(TEMPLATES[document.kind], lambda: _context(document))


def attendance_pdf(session: JurySession) -> bytes:
    """The sheet printed before the jury and signed by hand on the day (rendered on demand,
    never stored: it is not signed content and carries no verification code)."""
    return _render("documents/attendance.html",
                   lambda: attendance_context(attendance_snapshot(session)))


def download_name(document: GeneratedDocument) -> str:
    reference = (document.snapshot or {}).get("candidate", {}).get("reference", "")
    day = document.session.date.isoformat() if document.session_id else ""
    names = {
        Kind.GRID: f"grille-{document.grid_id}.pdf",
        Kind.PV: f"proces-verbal-jury-{day}.pdf",
        Kind.ATTENDANCE: f"emargement-jury-{day}.pdf",
        Kind.LETTER: f"lettre-resultats-{reference}.pdf",
        Kind.CERTIFICATE: f"attestation-{reference}.pdf",
        Kind.PARTIAL: f"releve-competences-{reference}.pdf",
        Kind.CPNE: f"dossier-cpne-jury-{day}.zip",
    }
    return names[document.kind]


def results_email(letter: GeneratedDocument, documents: list[GeneratedDocument]
                  ) -> tuple[str, str, str]:
    """(subject, body, sender label) of the e-mail carrying the results to the candidate."""
    with translation.override(settings.LANGUAGE_CODE), timezone.override(settings.TIME_ZONE):
        context = results_context(letter)
        sender = _("Jury paritaire du %(date)s") % {
            "date": context["session"]["date"].strftime("%d/%m/%Y")}
        context.update({
            "documents": [{"label": d.get_kind_display(), "code": d.verification_code}
                          for d in documents],
            "verify_form_url": settings.SITE_URL + reverse("verify_form"),
        })
        subject = render_to_string("documents/email/results_subject.txt", context)
        body = render_to_string("documents/email/results.txt", context)
    return " ".join(subject.split()), body, sender


# ---------------------------------------------------------------------------
# The bundle for the CPNE (GTP « Certifications », DOMAIN.md §6)
# ---------------------------------------------------------------------------
def _corrections(session: JurySession) -> list[dict]:
    corrected = (Decision.objects.filter(session_candidate__session=session,
                                         supersedes__isnull=False)
                 .select_related("registration__candidate", "supersedes")
                 .order_by("decided_at", "pk"))
    return [{"reference": d.registration.reference,
             "candidate": d.registration.candidate.full_name,
             "from": d.supersedes.outcome, "to": d.outcome,
             "acquired_blocs": d.acquired_blocs,
             "decided_at": d.decided_at.isoformat(), "reason": d.correction_reason}
            for d in corrected]


def cpne_snapshot(session: JurySession, *, actor) -> dict:
    """Everything the bundle prints. ``content`` is what the bundle attests (hashed: asking
    again for the same content gives the same bundle); ``prepared`` says by whom, when."""
    minutes = session.minutes
    pv = GeneratedDocument.objects.get(minutes=minutes, kind=Kind.PV)
    sheet = GeneratedDocument.objects.filter(minutes=minutes, kind=Kind.ATTENDANCE).first()
    seats = session.seats.select_related("member__user")
    invitations = session.invitations.select_related("designated__user").order_by(
        "organisation")
    content = {
        "session": {**minutes.snapshot["session"],
                    "deadline": juries.cpne_deadline(session).isoformat()},
        "pv": {"code": pv.verification_code, "sha256": minutes.snapshot_sha256,
               "signed_at": minutes.signed_at.isoformat(),
               "president": _president(minutes.snapshot["members"])},
        "attendance": ({"sha256": sheet.content_sha256} if sheet else None),
        "decisions": [{key: d[key] for key in ("reference", "candidate", "certification",
                                               "outcome", "acquired_blocs",
                                               "evaluation_conform",
                                               "admission_conditions_met")}
                      for d in minutes.snapshot["decisions"]],
        "corrections": _corrections(session),
        "seats": [{"name": str(s.member), "college": s.member.college,
                   "organisation": s.member.organisation, "president": s.is_president,
                   "present": s.present,
                   "convocation_sent_at": (s.convocation_sent_at.isoformat()
                                           if s.convocation_sent_at else None)}
                  for s in seats],
        "invitations": [{"organisation": i.organisation, "email": i.email,
                         "sent_at": i.sent_at.isoformat() if i.sent_at else None,
                         "designated": str(i.designated) if i.designated_id else "",
                         "designated_at": (i.designated_at.isoformat()
                                           if i.designated_at else None)}
                        for i in invitations],
    }
    return {"format": "dossier_cpne/1", "content": content,
            "prepared": {"by": actor.get_full_name() or actor.get_username(),
                         "on": timezone.localdate().isoformat()}}


def latest_cpne_bundle(session: JurySession) -> GeneratedDocument | None:
    return (GeneratedDocument.objects.filter(session=session, kind=Kind.CPNE)
            .order_by("-created_at", "-pk").first())


@transaction.atomic
def request_cpne_bundle(*, session: JurySession, actor) -> GeneratedDocument:
    """Prepare the bundle for the GTP « Certifications » (after the PV is signed): the
    conformity letter, the PV, the composition of the jury with the invitations sent to the
    unions, and the attendance sheet, as one ZIP built by a task. Asking again while nothing
    changed returns the same bundle."""
    session = JurySession.objects.select_for_update().get(pk=session.pk)
    if session.status != SessionStatus.CLOSED or not Minutes.objects.filter(
            session=session).exists():
        raise ValidationError(_("Le dossier CPNE se prépare après la signature du PV."))
    snapshot = cpne_snapshot(session, actor=actor)
    digest = sha256_of(snapshot["content"])
    bundle = latest_cpne_bundle(session)
    if bundle is None or bundle.content_sha256 != digest:
        bundle = GeneratedDocument.objects.create(kind=Kind.CPNE, session=session,
                                                  snapshot=snapshot, content_sha256=digest)
    if not bundle.file:
        from evaluations.tasks import build_cpne_bundle

        send_on_commit(build_cpne_bundle, document_id=bundle.pk)
    return bundle


def _cpne_context(document: GeneratedDocument) -> dict:
    content = document.snapshot["content"]
    session = content["session"]
    decisions = [{**d, "outcome_label": label_of(OUTCOME_LABELS, d["outcome"])}
                 for d in content["decisions"]]
    return {
        "content": content,
        "session": {**session, "date": _date(session["date"]),
                    "deadline": _date(session["deadline"])},
        "pv": {**content["pv"], "signed_at": _datetime(content["pv"]["signed_at"])},
        "decisions": decisions,
        "all_conform": all(d["evaluation_conform"] and d["admission_conditions_met"]
                           for d in decisions),
        "corrections": [{**c, "from_label": label_of(OUTCOME_LABELS, c["from"]),
                         "to_label": label_of(OUTCOME_LABELS, c["to"]),
                         "decided_at": _datetime(c["decided_at"])}
                        for c in content["corrections"]],
        "colleges": _colleges([{**seat, "convocation_sent_at": _datetime(
            seat["convocation_sent_at"])} for seat in content["seats"]]),
        "invitations": [{**i, "sent_at": _datetime(i["sent_at"]),
                         "designated_at": _datetime(i["designated_at"])}
                        for i in content["invitations"]],
        "prepared": {**document.snapshot["prepared"],
                     "on": _date(document.snapshot["prepared"]["on"])},
    }


def cpne_letter_pdf(document: GeneratedDocument) -> bytes:
    return _render("documents/cpne_letter.html", lambda: _cpne_context(document))


def composition_pdf(document: GeneratedDocument) -> bytes:
    return _render("documents/jury_composition.html", lambda: _cpne_context(document))


# ---------------------------------------------------------------------------
# Selectors for the pages
# ---------------------------------------------------------------------------
def _status(session: JurySession, bundle: GeneratedDocument | None) -> dict:
    deadline = juries.cpne_deadline(session)
    sent_on = session.cpne_bundle_sent_on
    return {"deadline": deadline, "sent_on": sent_on,
            "overdue": sent_on is None and timezone.localdate() > deadline,
            "bundle_ready": bool(bundle and bundle.file), "bundle": bundle}


def cpne_status(session: JurySession) -> dict:
    """The 3-month deadline of the CPNE bundle (setting), shown until it is marked sent:
    ``deadline``, ``sent_on``, ``overdue``, ``bundle_ready`` (and the ``bundle`` itself)."""
    return _status(session, latest_cpne_bundle(session))


def cpne_statuses(sessions: list[JurySession]) -> dict[int, dict]:
    """``cpne_status`` of many sessions (an overview) in one query, by session id."""
    latest: dict[int, GeneratedDocument] = {}
    for bundle in (GeneratedDocument.objects
                   .filter(session__in=sessions, kind=Kind.CPNE).order_by("created_at", "pk")):
        latest[bundle.session_id] = bundle
    return {session.pk: _status(session, latest.get(session.pk)) for session in sessions}


def session_documents(session: JurySession) -> dict:
    """The session's documents for its page: the PV and attendance record, and the current
    documents of each registration (those of a corrected decision are left out)."""
    documents = list(GeneratedDocument.objects.filter(session=session)
                     .exclude(kind=Kind.CPNE)
                     .select_related("decision").order_by("kind", "pk"))
    superseded = set(Decision.objects.filter(session_candidate__session=session,
                                             supersedes__isnull=False)
                     .values_list("supersedes_id", flat=True))
    by_registration: dict[int, list[GeneratedDocument]] = {}
    for document in documents:
        if document.decision_id and document.decision_id not in superseded:
            by_registration.setdefault(document.decision.registration_id, []).append(document)
    return {
        "pv": next((d for d in documents if d.kind == Kind.PV), None),
        "attendance": next((d for d in documents if d.kind == Kind.ATTENDANCE), None),
        "by_registration": by_registration,
    }


def verification(document: GeneratedDocument) -> dict:
    """What the public verify page shows for a jury document (the minimum): its type, the
    jury's date, the certification, the candidate's name for a letter, attestation or relevé,
    the president's name — or that a corrected decision replaced it."""
    if document.kind == Kind.PV:
        snapshot = document.minutes.snapshot
        corrected = Decision.objects.filter(session_candidate__session_id=document.session_id,
                                            supersedes__isnull=False).exists()
        return {
            "status": "valid",
            "session_date": _date(snapshot["session"]["date"]),
            "centre": snapshot["session"]["centre"],
            "certifications": sorted({d["certification"] for d in snapshot["decisions"]}),
            "candidate_name": "",
            "president": _president(snapshot["members"]),
            "signed_at": document.minutes.signed_at,
            "later_corrections": corrected,
        }
    snapshot = document.snapshot
    replacement = Decision.objects.filter(supersedes_id=document.decision_id).first()
    certification = snapshot["certification"]
    return {
        "status": "replaced" if replacement else "valid",
        "replaced_on": replacement.decided_at if replacement else None,
        "session_date": _date(snapshot["session"]["date"]),
        "centre": snapshot["centre"]["name"],
        "certifications": [f"{certification['kind']} {certification['code']} — "
                           f"{certification['title']}"],
        "candidate_name": snapshot["candidate"]["name"],
        "president": snapshot["president"],
        "signed_at": None,
        "later_corrections": False,
    }
