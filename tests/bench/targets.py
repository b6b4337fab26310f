"""What the bench measures, chosen by query so that the same code works on the plain demo and
on the volume data of ``seed_demo --scale N``: never a hard-coded id or username.

Preparation writes only what a real user would cause or what the bench needs to log in:
grids opened from the referential when no draft grid exists yet (as an evaluator opening the
grid page does), a national read-only account and a superuser when there are none."""

from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db.models import Count, F

from candidates.models import Registration
from certifications.models import Centre, CentreMembership, ReferentialVersion, Role
from commissions.models import (
    Commission,
    CommissionMember,
    CommissionStatus,
    JurySession,
    MemberRole,
    ScheduledCandidate,
    Seat,
    SessionCandidate,
    SessionStatus,
)
from evaluations import services
from evaluations.models import GeneratedDocument, Grid, GridState

BENCH_NATIONAL = "bench-national"
BENCH_ADMIN = "bench-admin"
BENCH_ALL_CENTRES = "bench-tous-centres"
OPEN_COMMISSIONS = [CommissionStatus.DRAFT, CommissionStatus.CONFIRMED]


@dataclass
class Targets:
    centre: Centre
    staff: object
    national: object
    admin: object
    evaluator: object | None = None
    jury_member: object | None = None
    grid: Grid | None = None
    grid_criteria: int = 0
    registration: Registration | None = None
    commission: Commission | None = None
    session: JurySession | None = None
    session_candidates: int = 0
    session_candidate: SessionCandidate | None = None
    verify_document: GeneratedDocument | None = None
    search_name: str = ""
    search_reference: str = ""
    filter_state: str = ""
    filter_certification_id: int | None = None
    notes: list[str] = field(default_factory=list)


def users_named(username: str):
    return get_user_model().objects.filter(username=username).first()


# ---------------------------------------------------------------------------
# Accounts
# ---------------------------------------------------------------------------
def centre_with_most_registrations() -> Centre:
    centre = (Centre.objects.annotate(n=Count("registrations")).order_by("-n", "pk").first())
    if centre is None:
        raise SystemExit("Aucun centre : chargez la démonstration (seed_demo) avant le banc.")
    return centre


def staff_of(centre: Centre):
    """The centre's first gestionnaire (not the bench's own account of every centre)."""
    user = (get_user_model().objects
            .filter(memberships__centre=centre, memberships__role=Role.STAFF)
            .exclude(username=BENCH_ALL_CENTRES).order_by("pk").first())
    if user is None:
        raise SystemExit(f"Aucun gestionnaire pour le centre {centre.code}.")
    return user


def national_user(centre: Centre):
    """The first national read-only account of the data; a bench one when it has none."""
    memberships = CentreMembership.objects.filter(role=Role.NATIONAL).select_related("user")
    membership = (memberships.exclude(user__username=BENCH_NATIONAL).order_by("pk").first()
                  or memberships.order_by("pk").first())
    if membership is not None:
        return membership.user
    user, _ = get_user_model().objects.get_or_create(
        username=BENCH_NATIONAL, defaults={"first_name": "Lecture", "last_name": "Nationale"})
    CentreMembership.objects.get_or_create(user=user, centre=centre, role=Role.NATIONAL)
    return user


def superuser():
    user = get_user_model().objects.filter(is_superuser=True, is_active=True).order_by("pk").first()
    if user is not None:
        return user
    user, created = get_user_model().objects.get_or_create(
        username=BENCH_ADMIN, defaults={"is_staff": True, "is_superuser": True})
    if created:
        user.set_unusable_password()
        user.save()
    return user


def all_centres_staff():
    """A gestionnaire of every centre: sees every registration through the staff list."""
    user, _ = get_user_model().objects.get_or_create(
        username=BENCH_ALL_CENTRES, defaults={"first_name": "Banc", "last_name": "Tous centres"})
    have = set(CentreMembership.objects.filter(user=user, role=Role.STAFF)
               .values_list("centre_id", flat=True))
    CentreMembership.objects.bulk_create(
        [CentreMembership(user=user, centre_id=pk, role=Role.STAFF)
         for pk in Centre.objects.exclude(pk__in=have).values_list("pk", flat=True)])
    return user


# ---------------------------------------------------------------------------
# Grids
# ---------------------------------------------------------------------------
def versions_by_criteria() -> list[tuple[int, int]]:
    """(version id, criteria count), the richest referential first."""
    return list(ReferentialVersion.objects.annotate(n=Count("competences__criteria"))
                .filter(n__gt=0).order_by("-n", "pk").values_list("pk", "n"))


def grid_with_most_criteria(state: str, *, open_only: bool = False) -> tuple[Grid | None, int]:
    """A grid in ``state`` of the richest referential that has one, and its criteria count
    (a grid is created from its registration's version: same criteria)."""
    grids = Grid.objects.filter(state=state)
    if open_only:
        grids = grids.filter(scheduled__commission__status__in=OPEN_COMMISSIONS)
    for version_id, criteria in versions_by_criteria():
        grid = (grids.filter(scheduled__registration__version_id=version_id)
                .order_by("-pk").first())
        if grid is not None:
            return grid, criteria
    return None, 0


def open_grids(limit: int) -> int:
    """Create the grids of up to ``limit`` scheduled candidates of commissions still to hold,
    richest referential first, as their evaluators would by opening the grid page."""
    created = 0
    for version_id, _criteria in versions_by_criteria():
        pending = (ScheduledCandidate.objects
                   .filter(grid__isnull=True, commission__status__in=OPEN_COMMISSIONS,
                           registration__version_id=version_id)
                   .select_related("commission").order_by("commission__date", "pk"))
        for scheduled in pending[:limit - created]:
            member = president_first(scheduled.commission)
            services.ensure_grid(scheduled=scheduled,
                                 actor=member.evaluator.user if member else None)
            created += 1
        if created >= limit:
            break
    return created


def president_first(commission) -> CommissionMember | None:
    members = sorted(CommissionMember.objects.filter(commission=commission)
                     .select_related("evaluator__user"),
                     key=lambda m: (m.role != MemberRole.PRESIDENT, m.pk))
    return members[0] if members else None


def draft_grid(notes: list[str]) -> tuple[Grid | None, int]:
    grid, criteria = grid_with_most_criteria(GridState.DRAFT, open_only=True)
    if grid is None:
        created = open_grids(limit=8)
        if created:
            notes.append(f"Aucune grille en brouillon : {created} grille(s) ouverte(s) pour "
                         "le banc (comme un évaluateur qui ouvre la page).")
        grid, criteria = grid_with_most_criteria(GridState.DRAFT, open_only=True)
    return grid, criteria


# ---------------------------------------------------------------------------
# Everything
# ---------------------------------------------------------------------------
def choose() -> Targets:
    centre = centre_with_most_registrations()
    targets = Targets(centre=centre, staff=staff_of(centre), national=national_user(centre),
                      admin=superuser())
    notes = targets.notes

    targets.grid, targets.grid_criteria = draft_grid(notes)
    if targets.grid is not None:
        member = president_first(targets.grid.scheduled.commission)
        targets.evaluator = member.evaluator.user if member else None
    else:
        notes.append("Aucune grille en brouillon ni candidat à évaluer : pages de grille et "
                     "enregistrement non mesurés.")

    registrations = Registration.objects.filter(centre=centre)
    targets.registration = (registrations.annotate(n=Count("events"))
                            .order_by("-n", "pk").first())
    total = registrations.count()
    if total:
        middle = (registrations.select_related("candidate").order_by("pk")[total // 2])
        targets.search_name = middle.candidate.birth_name
        targets.search_reference = middle.reference
        common = (registrations.order_by().values("state", "version__certification")
                  .annotate(n=Count("pk")).order_by("-n").first())
        targets.filter_state = common["state"]
        targets.filter_certification_id = common["version__certification"]

    targets.commission = (Commission.objects.filter(centre=centre)
                          .annotate(n=Count("scheduled")).order_by("-n", "pk").first())

    sessions = (JurySession.objects.exclude(status=SessionStatus.CANCELLED)
                .annotate(n=Count("candidates")))
    session = (sessions.filter(status=SessionStatus.OPEN).order_by("-n", "pk").first()
               or sessions.order_by("-n", "pk").first())
    if session is not None:
        if session.status != SessionStatus.OPEN:
            notes.append("Aucune session de jury ouverte : session mesurée dans l'état "
                         f"« {session.get_status_display()} ».")
        targets.session, targets.session_candidates = session, session.n
        seat = (Seat.objects.filter(session=session).select_related("member__user")
                .order_by("-is_president", "pk").first())
        targets.jury_member = seat.member.user if seat else None
        targets.session_candidate = session.candidates.order_by("pk").first()

    targets.verify_document = (
        GeneratedDocument.objects
        .filter(kind=GeneratedDocument.Kind.GRID, grid__state=GridState.SIGNED,
                content_sha256=F("grid__snapshot_sha256"))
        .order_by("-created_at", "-pk").first())
    return targets


def describe(targets: Targets) -> dict:
    """The targets, for the JSON report (ids and usernames only)."""
    def username(user):
        return user.get_username() if user is not None else None

    def pk(obj):
        return obj.pk if obj is not None else None

    return {
        "centre": targets.centre.code,
        "staff": username(targets.staff),
        "national": username(targets.national),
        "admin": username(targets.admin),
        "evaluator": username(targets.evaluator),
        "jury_member": username(targets.jury_member),
        "grid": pk(targets.grid),
        "grid_criteria": targets.grid_criteria,
        "registration": pk(targets.registration),
        "commission": pk(targets.commission),
        "session": pk(targets.session),
        "session_candidates": targets.session_candidates,
        "session_candidate": pk(targets.session_candidate),
        "verify_code": (targets.verify_document.verification_code
                        if targets.verify_document else None),
        "search_name": targets.search_name,
        "search_reference": targets.search_reference,
    }
