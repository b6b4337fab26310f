"""What the jury reads and decides (DOMAIN.md §6): the proposal the signed grids imply, the
conformity check, decisions and their corrections, and the procès-verbal signature."""

import datetime
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from candidates import services as candidate_services
from candidates.models import (
    MODALITIES_NEEDING_ACTIVITY_REPORT,
    DocumentKind,
    Registration,
    RegistrationState,
)
from certifications.models import KINDS_WITH_BLOCS, CertificationKind
from commissions import impartiality, juries
from commissions.models import JurySession, SessionCandidate, SessionStatus
from config.prefetch import prefetched
from config.tasks import send_on_commit
from evaluations import acquired
from evaluations.acquired import AcquiredResults
from evaluations.models import Decision, DecisionLocked, Grid, GridState, Minutes
from evaluations.services import sha256_of

PASSED, PARTIAL, FAILED = "admis", "admis_partiel", "non_admis"


# ---------------------------------------------------------------------------
# Proposal (art. 55.3)
# ---------------------------------------------------------------------------
@dataclass
class Proposal:
    outcome: str
    acquired_blocs: list[str]
    mastered: dict[str, bool]  # competence code → mastered
    # Competence codes taken from an earlier jury, still valid (DOMAIN.md §6).
    carried_over: list[str] = field(default_factory=list)


def signed_grids(registration: Registration) -> list[Grid]:
    return list(Grid.objects.filter(scheduled__registration=registration,
                                    state=GridState.SIGNED).order_by("locked_at"))


def signed_competences(grid: Grid) -> list[dict]:
    """The signed competences as the proposal and the conformity check read them: from the
    grid's summary (a page may defer the full snapshot), else from its snapshot."""
    summary = grid.summary
    return summary["competences"] if summary else grid.snapshot["competences"]


def propose(registration: Registration, grids: list[Grid] | None = None, *,
            carried: AcquiredResults | None = None, at: datetime.date | None = None
            ) -> Proposal:
    """A full CQPM/CQPI only if every competence is acquired (a branch rule); otherwise the
    blocs whose competences are all acquired (validation partielle). A bloc, CCPM or CCPI is
    obtained when all its competences are mastered. The latest signed grid counts.

    Results of an earlier jury still valid on ``at`` (the jury's date; DOMAIN.md §6 « partial
    results last ») count as mastered; an expired one counts only if evaluated again."""
    grids = signed_grids(registration) if grids is None else grids
    carried = acquired.carried_over(registration, at=at) if carried is None else carried
    mastered: dict[str, bool] = {}
    bloc_of: dict[str, str | None] = {}  # competence code → bloc code, as signed or notified
    for item in carried.competence_list:
        mastered[item.code] = True
        bloc_of[item.code] = item.bloc
    for grid in grids:
        for item in signed_competences(grid):
            level = item["level"] or {}
            # A carried-over competence evaluated again anyway keeps the better of the two:
            # a valid result is not lost by a later attempt (DOMAIN.md §6).
            mastered[item["code"]] = (bool(level.get("mastered"))
                                      or item["code"] in carried.competences)
            bloc_of[item["code"]] = item["bloc"]["code"] if item["bloc"] else None
    # A bloc is acquired when every competence the referential puts in it is mastered (one
    # neither evaluated nor carried over — an expired one not evaluated again — is not).
    version_competences = prefetched(registration.version, "competences")
    expected = [c.code for c in version_competences]
    per_bloc: dict[int, list[str]] = {}
    for competence in version_competences:
        if competence.bloc_id:
            per_bloc.setdefault(competence.bloc_id, []).append(competence.code)
    acquired_blocs = [bloc_of[codes[0]] for codes in per_bloc.values()
                      if all(mastered.get(code) for code in codes) and bloc_of.get(codes[0])]
    all_mastered = bool(expected) and all(mastered.get(code) for code in expected)
    kind = registration.version.certification.kind
    carried_codes = sorted(carried.competences)
    if all_mastered:
        return Proposal(PASSED, sorted(acquired_blocs), mastered, carried_codes)
    if kind in (CertificationKind.CQPM, CertificationKind.CQPI) and acquired_blocs:
        return Proposal(PARTIAL, sorted(acquired_blocs), mastered, carried_codes)
    return Proposal(FAILED, sorted(acquired_blocs) if kind in KINDS_WITH_BLOCS else [],
                    mastered, carried_codes)


# ---------------------------------------------------------------------------
# Conformity check (what the synthesis page shows, each line green or red with why)
# ---------------------------------------------------------------------------
# The checks' labels, translated when a page shows them: the session page computes every
# candidate's checks but shows only their counts (≈ 700 translations for 100 candidates).
CHECK_MODALITIES = gettext_lazy("Chaque compétence évaluée selon une modalité autorisée")
CHECK_CARRIED = gettext_lazy("Résultats d'un jury antérieur en cours de validité (reportés)")
CHECK_SIGNED = gettext_lazy("Grilles signées par toute la commission")
CHECK_COMMENTS = gettext_lazy("Commentaires obligatoires présents")
CHECK_REPORT = gettext_lazy("Rapport d'activités reçu (présentation de projets)")
CHECK_OPINION = gettext_lazy("Avis de l'entreprise recueilli")
CHECK_NO_OPINION = gettext_lazy("Avis de l'entreprise non requis (CCPM, CCPI ou VAE)")
CHECK_IMPARTIALITY = gettext_lazy("Aucun manquement à l'impartialité")
CHECK_INCIDENTS = gettext_lazy("Incidents d'évaluation résolus")


@dataclass
class Check:
    label: str  # lazy: see CHECK_*
    ok: bool
    details: list[str] = field(default_factory=list)


def conformity(registration: Registration, grids: list[Grid] | None = None, *,
               carried: AcquiredResults | None = None, at: datetime.date | None = None
               ) -> list[Check]:
    grids = signed_grids(registration) if grids is None else grids
    carried = acquired.carried_over(registration, at=at) if carried is None else carried
    checks = []
    # Every competence evaluated with a modality the referential allows — or validated by an
    # earlier jury and still valid (an expired result must be evaluated again).
    allowed = {c.code: c.modalities for c in prefetched(registration.version, "competences")}
    evaluated = {item["code"]: item for g in grids for item in signed_competences(g)}
    problems = [_("%(code)s n'a pas été évaluée.") % {"code": code}
                for code in allowed if code not in evaluated and code not in carried.competences]
    problems += [_("%(code)s : modalité « %(m)s » non prévue par le référentiel.")
                 % {"code": code, "m": item["modality_label"]}
                 for code, item in evaluated.items()
                 if item["modality_used"] not in allowed.get(code, [])]
    checks.append(Check(CHECK_MODALITIES, not problems, problems))
    if carried:
        checks.append(Check(
            CHECK_CARRIED, True,
            [_("%(code)s : acquise au jury du %(date)s, valable jusqu'au %(until)s.")
             % {"code": item.code, "date": item.session_date.strftime("%d/%m/%Y"),
                "until": item.until.strftime("%d/%m/%Y")}
             for item in carried.competence_list if item.code not in evaluated]))
    # Every grid signed by the whole commission.
    problems = []
    if not grids:
        problems.append(_("Aucune grille signée."))
    for grid in grids:
        # Reads go through config.prefetch so that a page listing many candidates can read
        # them in advance.
        members = {m.pk for m in prefetched(grid.scheduled.commission, "members")}
        signed = {s.member_id for s in prefetched(grid, "signatures")
                  if s.voided_at is None and s.snapshot_sha256 == grid.snapshot_sha256}
        if not members <= signed:
            problems.append(_("La grille du %(date)s n'est pas signée par tous les membres.")
                            % {"date": grid.scheduled.commission.date.strftime("%d/%m/%Y")})
    checks.append(Check(CHECK_SIGNED, not problems, problems))
    # Required comments present.
    problems = [_("%(code)s : commentaire manquant pour une compétence non maîtrisée.")
                % {"code": item["code"]}
                for item in evaluated.values()
                if item["level"] and not item["level"]["mastered"] and not item["comment"]]
    checks.append(Check(CHECK_COMMENTS, not problems, problems))
    # Rapport d'activités received where the modality needs it.
    needs_report = any(item["modality_used"] in MODALITIES_NEEDING_ACTIVITY_REPORT
                       for item in evaluated.values())
    has_report = any(d.kind == DocumentKind.ACTIVITY_REPORT
                     for d in prefetched(registration, "documents"))
    checks.append(Check(CHECK_REPORT,
                        has_report or not needs_report,
                        [] if has_report or not needs_report
                        else [_("Le rapport d'activités n'a pas été reçu.")]))
    # Company avis where required.
    if registration.company_opinion_applies:
        has_opinion = hasattr(registration, "company_opinion")
        checks.append(Check(CHECK_OPINION, has_opinion,
                            [] if has_opinion else [_("L'avis de l'entreprise manque.")]))
    else:
        checks.append(Check(CHECK_NO_OPINION, True))
    # No impartiality breach (checked again on today's data).
    problems = []
    for grid in grids:
        for member in prefetched(grid.scheduled.commission, "members"):
            if member.override_justification:
                continue
            problems += [p.message for p in impartiality.conflicts(
                member.evaluator, registration,
                declared=prefetched(member.evaluator, "conflicts"))]
    checks.append(Check(CHECK_IMPARTIALITY, not problems, problems))
    # Incidents resolved (DOMAIN.md §5).
    problems = [_("Incident non résolu : %(kind)s — %(text)s")
                % {"kind": i.get_kind_display(), "text": i.description}
                for g in grids for i in prefetched(g, "incidents") if i.resolved_at is None]
    checks.append(Check(CHECK_INCIDENTS, not problems, problems))
    return checks


# ---------------------------------------------------------------------------
# Decisions
# ---------------------------------------------------------------------------
def checked_blocs(registration: Registration, outcome: str, acquired_blocs: list[str]
                  ) -> list[str]:
    """The blocs an outcome carries: every bloc for « admis »; at least one for a validation
    partielle, which only a CQPM or CQPI knows; never a bloc of another referential."""
    if outcome not in (PASSED, PARTIAL, FAILED):
        raise ValidationError(_("Résultat inconnu."))
    kind = registration.version.certification.kind
    if outcome == PARTIAL and kind not in (CertificationKind.CQPM, CertificationKind.CQPI):
        raise ValidationError(_("La validation partielle ne concerne que les CQPM et CQPI."))
    known_blocs = set(registration.version.blocs.values_list("code", flat=True))
    if set(acquired_blocs) - known_blocs:
        raise ValidationError(_("Bloc inconnu pour ce référentiel."))
    if outcome == PARTIAL and not acquired_blocs:
        raise ValidationError(_("Indiquez les blocs acquis."))
    if outcome == PASSED:
        return sorted(known_blocs)
    return sorted(acquired_blocs)


def _deliberation_context(session: JurySession, registration: Registration):
    seats = juries.present_seats(session)
    deliberating, abstaining = juries.deliberating_seats(seats, registration)
    problems = juries.quorum_problems(deliberating)
    return deliberating, abstaining, problems


def _may_decide(user, session: JurySession) -> bool:
    from certifications.scoping import staff_centre_ids

    if session.centre_id in staff_centre_ids(user):
        return True
    return session.seats.filter(member__user=user, is_president=True, present=True).exists()


@transaction.atomic
def record_decision(*, session_candidate: SessionCandidate, actor, outcome: str,
                    acquired_blocs: list[str], evaluation_conform: bool,
                    admission_conditions_met: bool, motive: str = "") -> Decision:
    """Record (or replace, before the PV is signed) the decision on one candidate. Only the
    president or staff decide; the quorum and parity are checked on those who deliberate."""
    session = JurySession.objects.select_for_update().get(pk=session_candidate.session_id)
    registration = session_candidate.registration
    if session.status != SessionStatus.OPEN:
        raise ValidationError(_("La session doit être ouverte pour délibérer."))
    if not _may_decide(actor, session):
        raise ValidationError(_("Seul le président du jury (ou un gestionnaire) enregistre les "
                                "décisions."))
    deliberating, abstaining, problems = _deliberation_context(session, registration)
    if problems:
        raise juries.JuryRuleError(problems)
    acquired_blocs = checked_blocs(registration, outcome, acquired_blocs)
    proposal = propose(registration, at=session.date)
    differs = (outcome != proposal.outcome
               or sorted(acquired_blocs) != sorted(proposal.acquired_blocs))
    if differs and not motive.strip():
        raise ValidationError(_("Le jury s'écarte de la proposition (%(p)s) : un motif écrit est "
                                "obligatoire.") % {"p": proposal.outcome})
    existing = (Decision.objects.select_for_update(of=("self",))
                .filter(session_candidate=session_candidate, final_at__isnull=True,
                        superseded_by__isnull=True).first())
    data = {
        "session_candidate": session_candidate, "registration": registration,
        "proposed_outcome": proposal.outcome, "proposed_blocs": proposal.acquired_blocs,
        "outcome": outcome, "acquired_blocs": sorted(acquired_blocs),
        "motive": motive.strip() if differs else "",
        "evaluation_conform": evaluation_conform,
        "admission_conditions_met": admission_conditions_met,
        "deliberating": [str(s.member) for s in deliberating],
        "abstentions": [{"member": str(s.member), "reasons": r} for s, r in abstaining],
        "decided_by": actor, "decided_at": timezone.now(),
    }
    if existing is not None:
        for key, value in data.items():
            setattr(existing, key, value)
        existing.save()
        return existing
    return Decision.objects.create(**data)


def current_decisions(session: JurySession) -> list[Decision]:
    return list(Decision.objects.filter(session_candidate__session=session,
                                        superseded_by__isnull=True)
                .select_related("registration__candidate",
                                "registration__version__certification")
                .prefetch_related("registration__version__blocs"))


def _acquired_bloc_titles(decision: Decision) -> dict[str, str]:
    """Code → title of the blocs the decision acquires, in the referential's order (from the
    prefetched blocs: one query for the whole session)."""
    return {bloc.code: bloc.title for bloc in decision.registration.version.blocs.all()
            if bloc.code in decision.acquired_blocs}


def minutes_snapshot(session: JurySession) -> dict:
    """The content of the PV the president signs (hashed: any change of its shape changes
    the hash of every PV signed before)."""
    seats = list(session.seats.select_related("member__user"))
    decisions = current_decisions(session)
    return {
        "format": "pv/1",
        "session": {"id": session.pk, "date": session.date.isoformat(), "place": session.place,
                    "centre": session.centre.name,
                    "start_time": session.start_time.strftime("%H:%M")},
        "members": [{"name": str(s.member), "college": s.member.college,
                     "organisation": s.member.organisation, "president": s.is_president,
                     "present": bool(s.present)} for s in seats],
        "decisions": [
            {"reference": d.registration.reference,
             "candidate": d.registration.candidate.full_name,
             "certification": f"{d.registration.version.certification.kind} "
                              f"{d.registration.version.certification.code}",
             "certification_title": d.registration.version.certification.title,
             "outcome": d.outcome, "acquired_blocs": d.acquired_blocs, "motive": d.motive,
             # Titles of the blocs acquired, so that the PV prints them from what was signed.
             "acquired_bloc_titles": _acquired_bloc_titles(d),
             "evaluation_conform": d.evaluation_conform,
             "admission_conditions_met": d.admission_conditions_met,
             "deliberating": d.deliberating,
             "abstentions": d.abstentions}
            for d in sorted(decisions, key=lambda d: d.registration.reference)
        ],
    }


@transaction.atomic
def sign_minutes(*, session: JurySession, actor, password: str, ip: str | None = None
                 ) -> Minutes:
    """The president signs the PV: decisions become final, registrations are deliberated
    with their outcome, and the documents are produced after commit."""
    session = JurySession.objects.select_for_update().get(pk=session.pk)
    if session.status != SessionStatus.OPEN:
        raise ValidationError(_("La session doit être ouverte."))
    if not session.seats.filter(member__user=actor, is_president=True, present=True).exists():
        raise ValidationError(_("Le procès-verbal est signé par le président du jury."))
    if not actor.check_password(password):
        raise ValidationError(_("Mot de passe incorrect : le PV n'est pas signé."))
    candidates = list(session.candidates.select_related("registration"))
    decided = {d.session_candidate_id for d in current_decisions(session)}
    missing = [c.registration.reference for c in candidates if c.pk not in decided]
    if missing:
        raise ValidationError(_("Décision manquante pour : %(refs)s.")
                              % {"refs": ", ".join(missing)})
    problems = juries.quorum_problems(juries.present_seats(session))
    if problems:
        raise juries.JuryRuleError(problems)
    snapshot = minutes_snapshot(session)
    minutes = Minutes.objects.create(session=session, signed_by=actor, ip_address=ip,
                                     snapshot=snapshot, snapshot_sha256=sha256_of(snapshot))
    now = timezone.now()
    for decision in current_decisions(session):
        decision.final_at = now
        decision._allow_final_write = True
        decision.save(update_fields=["final_at"])
        registration = decision.registration
        if registration.state == RegistrationState.EVALUE:
            candidate_services.transition(
                registration=registration, to_state=RegistrationState.DELIBERE, system=True,
                outcome=decision.outcome, actor=actor,
                actor_label=_("Jury paritaire du %(date)s") % {
                    "date": session.date.strftime("%d/%m/%Y")})
    session.status = SessionStatus.CLOSED
    session.save(update_fields=["status"])
    # The PV, the attendance record, the results letters, attestations and relevés are issued
    # now (codes and content hashes), their PDFs rendered and e-mailed after commit.
    from evaluations import documents_jury
    from evaluations.tasks import render_session_documents

    documents_jury.issue_minutes_documents(minutes=minutes)
    send_on_commit(render_session_documents, minutes_id=minutes.pk)
    return minutes


@transaction.atomic
def correct_decision(*, decision: Decision, actor, outcome: str, acquired_blocs: list[str],
                     reason: str) -> Decision:
    """A final decision is never edited: the correction is a new decision linked to it."""
    decision = Decision.objects.select_for_update().get(pk=decision.pk)
    if not decision.is_final:
        raise ValidationError(_("Cette décision n'est pas encore définitive : modifiez-la "
                                "directement avant la signature du PV."))
    if hasattr(decision, "superseded_by"):
        raise DecisionLocked(_("Cette décision a déjà été corrigée."))
    if not reason.strip():
        raise ValidationError(_("Indiquez le motif de la correction."))
    acquired_blocs = checked_blocs(decision.registration, outcome, acquired_blocs)
    candidate_services.correct_outcome(registration=decision.registration, outcome=outcome,
                                       actor=actor, reason=reason)
    corrected = Decision.objects.create(
        session_candidate=decision.session_candidate, registration=decision.registration,
        proposed_outcome=decision.proposed_outcome, proposed_blocs=decision.proposed_blocs,
        outcome=outcome, acquired_blocs=sorted(acquired_blocs), motive=decision.motive,
        evaluation_conform=decision.evaluation_conform,
        admission_conditions_met=decision.admission_conditions_met,
        deliberating=decision.deliberating, abstentions=decision.abstentions,
        decided_by=actor, final_at=timezone.now(), supersedes=decision,
        correction_reason=reason.strip(),
    )
    # New letter (and attestation or relevé) for the corrected decision; the old ones are
    # « plus valides » on the verify page.
    from evaluations import documents_jury
    from evaluations.tasks import render_decision_documents

    documents_jury.issue_decision_documents(decision=corrected)
    send_on_commit(render_decision_documents, decision_id=corrected.pk)
    return corrected

