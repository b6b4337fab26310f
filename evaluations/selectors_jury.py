"""Reads of the jury pages (DOMAIN.md §6) that need care: scoped to the user, and planned so
that the session page and the synthesis run a fixed number of queries whatever the number of
candidates, grids or competences (STYLE.md §9)."""

import datetime
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Case, Count, F, OuterRef, Prefetch, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from candidates.models import (
    CompanyOpinionItem,
    PlannedModality,
    Registration,
    RegistrationState,
    TrainingRecord,
)
from certifications.models import Competence, Modality
from certifications.scoping import staff_centre_ids
from commissions import juries
from commissions.models import (
    CommissionMember,
    ConflictDeclaration,
    JurySession,
    Seat,
    SessionCandidate,
    SessionStatus,
)
from config.planning import joins_as_written
from config.prefetch import loaded, prefetched
from evaluations import acquired, deliberation
from evaluations.models import Decision, Grid, GridState, Incident, Signature

# Sessions that hold their candidates: a registration presented to one of them is not
# « ready » for another jury.
ACTIVE_STATUSES = [SessionStatus.PLANNED, SessionStatus.OPEN]
OUTCOME_ORDER = {deliberation.PASSED: 0, deliberation.PARTIAL: 1, deliberation.FAILED: 2}


# ---------------------------------------------------------------------------
# Scope
# ---------------------------------------------------------------------------
def sessions_visible_to(user) -> QuerySet[JurySession]:
    """Sessions of the centres where the user is staff, and those the user sits on."""
    if not user.is_authenticated:
        return JurySession.objects.none()
    return JurySession.objects.filter(
        Q(centre_id__in=staff_centre_ids(user)) | Q(seats__member__user=user)
    ).distinct()


def session_for_page(user, pk: int) -> JurySession:
    """The session with its centre, certifications and seats (raises DoesNotExist)."""
    return (sessions_visible_to(user).select_related("centre")
            .prefetch_related("certifications",
                              Prefetch("seats", queryset=Seat.objects.select_related(
                                  "member__user")))
            .get(pk=pk))


def sessions_of_member(user, *, limit: int | None = None) -> list[JurySession]:
    """The sessions a jury member sits on, open and upcoming first, with their own seat.
    ``limit=N``: the first N of that order only (the dashboard), read in two bounded queries
    rather than every session of the member's years of service."""
    if not user.is_authenticated:
        return []
    today = timezone.localdate()
    # Read from the member's seats: each row brings its session (and centre) with it, where
    # reading sessions then prefetching the seat cost two more queries.
    seats = (
        Seat.objects.filter(member__user=user).select_related("session__centre")
        # A correlated count, computed for the rows returned only (a GROUP BY counted the
        # candidates of every session of the member's years before the LIMIT).
        .annotate(candidate_count=Coalesce(Subquery(
            SessionCandidate.objects.filter(session=OuterRef("session")).order_by()
            .values("session").annotate(n=Count("pk")).values("n")), 0)))
    is_current = (Q(session__status=SessionStatus.OPEN)
                  | Q(session__status=SessionStatus.PLANNED, session__date__gte=today))
    # One ordered read: current sessions first, soonest first, then past ones, latest first.
    ordered = seats.alias(rank=Case(When(is_current, then=Value(0)), default=Value(1))).order_by(
        "rank",
        Case(When(is_current, then=F("session__date"))).asc(),
        Case(When(~is_current, then=F("session__date"))).desc(),
        Case(When(is_current, then=F("session_id"))).asc(),
        Case(When(~is_current, then=F("session_id"))).desc())
    chosen = []
    for seat in ordered[:limit] if limit is not None else ordered:
        session = seat.session
        session.seat, session.mine, session.candidate_count = seat, [seat], seat.candidate_count
        chosen.append(session)
    return chosen


# ---------------------------------------------------------------------------
# Staff overview
# ---------------------------------------------------------------------------
def ready_registrations(centre_ids) -> QuerySet[Registration]:
    """Registrations « évalué » of the centres, every grid signed, in no active session."""
    return (Registration.objects
            .filter(centre_id__in=list(centre_ids), state=RegistrationState.EVALUE)
            .exclude(jury_sessions__session__status__in=ACTIVE_STATUSES)
            .exclude(schedulings__grid__state__in=[GridState.DRAFT, GridState.TO_SIGN]))


def ready_for_session(session: JurySession) -> list[Registration]:
    certification_ids = [c.pk for c in session.certifications.all()]
    return list(ready_registrations([session.centre_id])
                .filter(version__certification_id__in=certification_ids)
                .select_related("candidate", "company", "version__certification")
                .order_by("candidate__birth_name", "candidate__first_names"))


def unsigned_grid_exists(registration: Registration) -> bool:
    return Grid.objects.filter(scheduled__registration=registration).exclude(
        state=GridState.SIGNED).exists()


@dataclass
class Overview:
    to_prepare: list = field(default_factory=list)
    open: list = field(default_factory=list)
    held: list = field(default_factory=list)
    ready_total: int = 0
    outcomes: list = field(default_factory=list)
    cpne: list = field(default_factory=list)


def staff_overview(user) -> Overview:
    """Sessions to prepare (with the candidates ready for each), sessions held, outcomes per
    certification and the CPNE bundles still to send — in a fixed number of queries."""
    centre_ids = staff_centre_ids(user)
    sessions = list(
        JurySession.objects.filter(centre_id__in=centre_ids).select_related("centre")
        .annotate(candidate_count=Count("candidates", distinct=True),
                  seat_count=Count("seats", distinct=True))
        .prefetch_related("certifications").order_by("-date", "-start_time"))
    ready = defaultdict(int)
    for row in (ready_registrations(centre_ids)
                .values("centre_id", "version__certification_id").annotate(n=Count("pk"))):
        ready[(row["centre_id"], row["version__certification_id"])] += row["n"]
    overview = Overview(ready_total=sum(ready.values()))
    today = timezone.localdate()
    for session in sessions:
        session.ready_count = sum(ready[(session.centre_id, c.pk)]
                                  for c in session.certifications.all())
        if session.status == SessionStatus.PLANNED:
            overview.to_prepare.append(session)
        elif session.status == SessionStatus.OPEN:
            overview.open.append(session)
        elif session.status == SessionStatus.CLOSED:
            overview.held.append(session)
            if session.cpne_bundle_sent_on is None:
                session.cpne_deadline = juries.cpne_deadline(session)
                session.cpne_overdue = session.cpne_deadline < today
                overview.cpne.append(session)
    overview.to_prepare.reverse()  # the nearest first
    overview.cpne.sort(key=lambda s: s.cpne_deadline)
    overview.outcomes = outcomes_per_certification(centre_ids)
    return overview


def outcomes_per_certification(centre_ids) -> list[dict]:
    """Deliberated registrations per certification: admis, partiel, non admis (one query)."""
    rows = (Registration.objects
            .filter(centre_id__in=list(centre_ids), state=RegistrationState.DELIBERE)
            .values("version__certification__kind", "version__certification__code",
                    "version__certification__title")
            .annotate(total=Count("pk"),
                      passed=Count("pk", filter=Q(outcome=deliberation.PASSED)),
                      partial=Count("pk", filter=Q(outcome=deliberation.PARTIAL)),
                      failed=Count("pk", filter=Q(outcome=deliberation.FAILED)))
            .order_by("version__certification__kind", "version__certification__code"))
    return [{"kind": r["version__certification__kind"],
             "code": r["version__certification__code"],
             "title": r["version__certification__title"],
             "total": r["total"], "passed": r["passed"], "partial": r["partial"],
             "failed": r["failed"]} for r in rows]


# ---------------------------------------------------------------------------
# The session page: one row per candidate
# ---------------------------------------------------------------------------
REGISTRATION_RELATED = ["registration__candidate__employer", "registration__company",
                        "registration__tutor", "registration__version__certification",
                        "registration__company_opinion"]


def _grids_by_registration(registration_ids, *, snapshots: bool = False
                           ) -> dict[int, list[Grid]]:
    """Signed grids with what the conformity check reads, grouped per registration; their
    full snapshots only when asked (the synthesis shows every criterion; the session page
    reads the summaries)."""
    members = (CommissionMember.objects.select_related("evaluator__user")
               .prefetch_related(Prefetch("evaluator__conflicts",
                                          queryset=ConflictDeclaration.objects
                                          .select_related("company"),
                                          to_attr=loaded("conflicts"))))
    grids = (Grid.objects.filter(scheduled__registration_id__in=list(registration_ids),
                                 state=GridState.SIGNED)
             .select_related("scheduled__commission")
             .prefetch_related(
                 # What the conformity check reads of a signature; its copy of the signed
                 # content is not parsed (it was a third of the page's time at volume).
                 Prefetch("signatures", queryset=Signature.objects.only(
                     "id", "grid_id", "member_id", "voided_at", "snapshot_sha256"),
                     to_attr=loaded("signatures")),
                 Prefetch("incidents", queryset=Incident.objects
                          .select_related("reported_by", "resolved_by"),
                          to_attr=loaded("incidents")),
                 Prefetch("scheduled__commission__members", queryset=members,
                          to_attr=loaded("members")))
             .order_by("locked_at", "pk"))
    if not snapshots:
        grids = grids.defer("snapshot")
    grouped = defaultdict(list)
    for grid in grids:
        grouped[grid.scheduled.registration_id].append(grid)
    return grouped


@dataclass
class CandidateRow:
    session_candidate: SessionCandidate
    grids: list
    proposal: deliberation.Proposal
    checks: list
    carried: "acquired.AcquiredResults"
    decision: Decision | None
    deliberating: list
    abstaining: list
    quorum_problems: list

    @property
    def registration(self) -> Registration:
        return self.session_candidate.registration

    @property
    def checks_ok(self) -> int:
        return sum(1 for c in self.checks if c.ok)

    @property
    def checks_failed(self) -> int:
        return sum(1 for c in self.checks if not c.ok)

    @property
    def conform(self) -> bool:
        return self.checks_failed == 0

    @property
    def proposal_differs(self) -> bool:
        return self.decision is not None and (
            self.decision.outcome != self.proposal.outcome
            or sorted(self.decision.acquired_blocs) != sorted(self.proposal.acquired_blocs))


def _rows(session: JurySession, candidates: list[SessionCandidate], *,
          snapshots: bool = False, decisions: dict[int, Decision] | None = None
          ) -> list[CandidateRow]:
    """``decisions``: each candidate's current decision, when the caller has read them."""
    seats = [s for s in session.seats.all() if s.present]
    grids = _grids_by_registration((c.registration_id for c in candidates),
                                   snapshots=snapshots)
    if decisions is None:
        decisions = {d.session_candidate_id: d for d in Decision.objects.filter(
            session_candidate__in=candidates, superseded_by__isnull=True).select_related(
            "decided_by")}
    # Results of earlier juries still valid on this jury's date (DOMAIN.md §6), one query.
    carried = acquired.carried_over_many([c.registration for c in candidates],
                                         at=session.date)
    rows = []
    for candidate in candidates:
        registration = candidate.registration
        mine = grids.get(registration.pk, [])
        deliberating, abstaining = juries.deliberating_seats(seats, registration)
        rows.append(CandidateRow(
            session_candidate=candidate, grids=mine,
            proposal=deliberation.propose(registration, mine, carried=carried[registration.pk]),
            checks=deliberation.conformity(registration, mine,
                                           carried=carried[registration.pk]),
            carried=carried[registration.pk],
            decision=decisions.get(candidate.pk),
            deliberating=deliberating, abstaining=abstaining,
            quorum_problems=juries.quorum_problems(deliberating)))
    return rows


SORTS = {
    "nom": lambda row: (row.registration.candidate.last_name.lower(),
                        row.registration.candidate.first_names.lower()),
    "certification": lambda row: (row.registration.version.certification.code,
                                  row.registration.candidate.last_name.lower()),
    "proposition": lambda row: (OUTCOME_ORDER.get(row.proposal.outcome, 9),
                                row.registration.candidate.last_name.lower()),
    "conformite": lambda row: (-row.checks_failed, row.registration.candidate.last_name.lower()),
}


def session_rows(session: JurySession, sort: str = "nom") -> list[CandidateRow]:
    """Every candidate of the session with proposal, conformity, decision and abstentions.
    ``sort``: a key of SORTS, « - » first for the reverse order."""
    # The session's candidates, each joined on unique keys out of its row: searching other
    # join orders of the nine tables cost ≈ 3 ms of planning for ≈ 1 ms of reading.
    with joins_as_written():
        candidates = list(
            session.candidates.select_related(*REGISTRATION_RELATED)
            .prefetch_related(Prefetch("registration__version__competences",
                                       to_attr=loaded("competences")),
                              Prefetch("registration__documents",
                                       to_attr=loaded("documents"))))
    rows = _rows(session, candidates)
    key = sort.lstrip("-")
    rows.sort(key=SORTS.get(key, SORTS["nom"]), reverse=sort.startswith("-"))
    return rows


# ---------------------------------------------------------------------------
# The synthesis page of one candidate
# ---------------------------------------------------------------------------
@dataclass
class CompetenceLine:
    code: str
    title: str
    planned_modality: str  # the dossier's choice (DOMAIN.md §2)
    modality_used: str
    modality_label: str
    level: dict | None
    comment: str
    criteria: list
    commission_date: datetime.date | None
    opinion: CompanyOpinionItem | None
    # Validated by an earlier jury, still valid, not evaluated again (DOMAIN.md §6).
    carried: "acquired.AcquiredItem | None" = None

    @property
    def planned_label(self) -> str:
        return Modality(self.planned_modality).label if self.planned_modality else ""

    @property
    def mastered(self) -> bool:
        return bool(self.level and self.level.get("mastered"))

    @property
    def modality_changed(self) -> bool:
        return bool(self.planned_modality) and self.planned_modality != self.modality_used


@dataclass
class BlocLines:
    code: str
    title: str
    competences: list = field(default_factory=list)
    acquired: bool = False


def session_candidate_for_page(session: JurySession, pk: int) -> SessionCandidate:
    opinion_items = CompanyOpinionItem.objects.select_related("competence")
    with joins_as_written():  # one candidate, joined on unique keys
        return (session.candidates
                .select_related(*REGISTRATION_RELATED)
                .prefetch_related(
                    Prefetch("registration__version__competences",
                             queryset=Competence.objects.select_related("bloc")),
                    "registration__version__blocs",
                    "registration__documents",
                    Prefetch("registration__planned_modalities",
                             queryset=PlannedModality.objects.select_related("competence")),
                    # The page names each training's organisation and dates, not its
                    # competences (the registration page does).
                    Prefetch("registration__trainings", queryset=TrainingRecord.objects
                             .select_related("organisation")),
                    Prefetch("registration__company_opinion__items", queryset=opinion_items))
                .get(pk=pk))


def synthesis(session: JurySession, candidate: SessionCandidate) -> dict:
    """What the jury reads on one candidate: the row of the session page plus each bloc and
    competence from the signed grid snapshots, the dossier, the company avis, incidents and
    the decisions (with corrections)."""
    history = list(Decision.objects.filter(session_candidate=candidate)
                   .select_related("decided_by").order_by("decided_at", "pk"))
    # The current decision is the one no other supersedes; a correction stays with the
    # candidate it corrects (deliberation.correct_decision), so the history holds both.
    superseded = {d.supersedes_id for d in history if d.supersedes_id}
    current = {d.session_candidate_id: d for d in history if d.pk not in superseded}
    row = _rows(session, [candidate], snapshots=True, decisions=current)[0]
    registration = candidate.registration
    planned = {p.competence.code: p.modality for p in registration.planned_modalities.all()}
    opinion = getattr(registration, "company_opinion", None)
    opinion_items = {i.competence.code: i for i in opinion.items.all()} if opinion else {}
    evaluated = {}
    for grid in row.grids:  # the latest signed grid counts (deliberation.propose)
        for item in grid.snapshot["competences"]:
            evaluated[item["code"]] = (
                item, datetime.date.fromisoformat(grid.snapshot["commission"]["date"]))
    blocs: dict[str, BlocLines] = {}
    competences = sorted(prefetched(registration.version, "competences"),
                         key=lambda c: (c.bloc.order if c.bloc_id else 0, c.order))
    for competence in competences:
        bloc = competence.bloc
        key = bloc.code if bloc else ""
        lines = blocs.setdefault(key, BlocLines(key, bloc.title if bloc else ""))
        item, on = evaluated.get(competence.code, (None, None))
        lines.competences.append(CompetenceLine(
            code=competence.code, title=competence.title,
            planned_modality=planned.get(competence.code, ""),
            modality_used=item["modality_used"] if item else "",
            modality_label=item["modality_label"] if item else "",
            level=item["level"] if item else None, comment=item["comment"] if item else "",
            criteria=[c for c in item["criteria"] if c["concerned"]] if item else [],
            commission_date=on, opinion=opinion_items.get(competence.code),
            carried=None if item else row.carried.competences.get(competence.code)))
    for lines in blocs.values():
        lines.acquired = lines.code in row.proposal.acquired_blocs
    return {
        "row": row,
        "registration": registration,
        "blocs": list(blocs.values()),
        "opinion": opinion,
        "trainings": list(registration.trainings.all()),
        "incidents": [i for g in row.grids for i in prefetched(g, "incidents")],
        "history": history,
    }
