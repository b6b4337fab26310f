"""Reads of commissions that need care (scoping, prefetching)."""

from django.db.models import (
    Case,
    Count,
    DateField,
    F,
    IntegerField,
    Max,
    Prefetch,
    Q,
    QuerySet,
    Value,
    When,
)
from django.utils import timezone

from candidates.models import Document, PlannedModality, Registration, RegistrationState
from certifications.models import Competence, Role
from certifications.scoping import scope_to_centres
from commissions.models import (
    CharterAcceptance,
    Commission,
    CommissionMember,
    CommissionStatus,
    Evaluator,
    EvaluatorApplication,
    ScheduledCandidate,
)

UPCOMING = [CommissionStatus.DRAFT, CommissionStatus.CONFIRMED]


def commissions_managed_by(user) -> QuerySet[Commission]:
    return scope_to_centres(Commission.objects.all(), user, roles=[Role.STAFF])


def commissions_visible_to(user) -> QuerySet[Commission]:
    """Staff: their centres' commissions. Evaluators: the commissions they sit on."""
    managed = commissions_managed_by(user)
    sitting = Commission.objects.filter(members__evaluator__user=user)
    return Commission.objects.filter(
        Q(pk__in=managed.values("pk")) | Q(pk__in=sitting.values("pk"))
    )


def evaluator_commissions(user, *, upcoming_only: int | None = None
                          ) -> dict[str, list[Commission]]:
    """« Mes commissions »: upcoming and past, with counts, in a fixed number of queries.
    ``upcoming_only=N``: the next N commissions only (the dashboard), so that the read does
    not grow with the years an evaluator has served."""
    today = timezone.localdate()
    if upcoming_only is not None:
        return {"upcoming": _with_my_seat(user, today, upcoming_only), "past": []}
    commissions = (
        Commission.objects.filter(members__evaluator__user=user)
        .exclude(status="cancelled")
        .annotate(candidate_count=Count("scheduled", distinct=True))
        .order_by("date", "start_time")
    )
    commissions = list(commissions.prefetch_related(
        "certifications",
        Prefetch("members", queryset=CommissionMember.objects.filter(evaluator__user=user),
                 to_attr="mine")))
    return {
        "upcoming": [c for c in commissions if c.date >= today],
        "past": [c for c in commissions if c.date < today][::-1],
    }


def _with_my_seat(user, today, limit: int) -> list[Commission]:
    """The user's next ``limit`` commissions (not cancelled), each with ``mine``: the user's
    seat, read in the same query from the seat's side."""
    seats = (CommissionMember.objects.filter(evaluator__user=user, commission__date__gte=today)
             .exclude(commission__status=CommissionStatus.CANCELLED)
             .select_related("commission")
             .annotate(candidate_count=Count("commission__scheduled", distinct=True))
             .order_by("commission__date", "commission__start_time")[:limit])
    rows = []
    for seat in seats:
        commission = seat.commission
        commission.candidate_count, commission.mine = seat.candidate_count, [seat]
        rows.append(commission)
    return rows


def commission_detail(pk: int) -> Commission:
    return (
        Commission.objects.select_related("centre")
        .prefetch_related(
            "certifications",
            Prefetch("members",
                     queryset=CommissionMember.objects.select_related("evaluator__user")),
            Prefetch("scheduled", queryset=ScheduledCandidate.objects.select_related(
                "registration__candidate", "registration__company",
                "registration__version__certification")
                .prefetch_related(Prefetch(
                    "registration__planned_modalities",
                    queryset=PlannedModality.objects.select_related("competence")
                    # The page lists code, title and modality: the competence's texts and
                    # JSON (decoded for every row) stay in the database, and its bloc only
                    # orders the rows.
                    .defer("competence__conditions", "competence__expected_results",
                           "competence__knowledge", "competence__modalities")
                    .order_by("competence__bloc__order", "competence__order")))),
        )
        .get(pk=pk)
    )


def dossier_for_commission(registration_pk: int) -> Registration:
    """A read-only dossier as a commission member sees it: identity, referential, planned
    modalities, current documents (rapport d'activités), company avis."""
    return (
        Registration.objects.select_related(
            "candidate", "company", "tutor", "version__certification", "company_opinion")
        .prefetch_related(
            Prefetch("version__competences", queryset=Competence.objects
                     .select_related("bloc").order_by("bloc__order", "order")),
            "planned_modalities",
            Prefetch("documents", queryset=Document.objects.filter(superseded_at__isnull=True)),
            "company_opinion__items__competence",
        )
        .get(pk=registration_pk)
    )


def evaluators_of(user) -> QuerySet[Evaluator]:
    return scope_to_centres(Evaluator.objects.select_related("user"), user, roles=[Role.STAFF])


def commission_list(user, *, status: str = "", year: int | None = None) -> QuerySet[Commission]:
    """The staff list: upcoming commissions first (soonest first), then past ones (latest
    first), with their numbers of members and candidates."""
    today = timezone.localdate()
    queryset = commissions_managed_by(user)
    if status:
        queryset = queryset.filter(status=status)
    if year:
        queryset = queryset.filter(date__year=year)
    return (
        queryset.select_related("centre")
        .prefetch_related("certifications")
        .annotate(
            member_count=Count("members", distinct=True),
            candidate_count=Count("scheduled", distinct=True),
            past_rank=Case(When(date__lt=today, then=Value(1)), default=Value(0),
                         output_field=IntegerField()),
            upcoming_on=Case(When(date__gte=today, then=F("date")), output_field=DateField()),
            past_on=Case(When(date__lt=today, then=F("date")), output_field=DateField()),
        )
        .order_by("past_rank", F("upcoming_on").asc(nulls_last=True),
                  F("past_on").desc(nulls_last=True), "start_time", "pk")
    )


def schedulable_registrations(commission: Commission) -> QuerySet[Registration]:
    """Registrations of the commission's centre, ready for evaluation, for one of its
    certifications, not already scheduled in an upcoming commission."""
    return (
        Registration.objects.filter(
            centre_id=commission.centre_id, state=RegistrationState.PRET_EVALUATION,
            version__certification__in=commission.certifications.all(),
        )
        .exclude(schedulings__commission__status__in=UPCOMING)
        .select_related("candidate__employer", "company", "tutor", "version__certification")
        .order_by("candidate__birth_name", "candidate__first_names", "pk")
    )


def evaluator_list(user) -> QuerySet[Evaluator]:
    """The centre's network with what staff check at a glance: end of the habilitation valid
    today, latest charter accepted, commissions this year — in a fixed number of queries."""
    today = timezone.localdate()
    return (
        evaluators_of(user)
        .annotate(
            habilitation_until=Max("habilitations__valid_until",
                                   filter=Q(habilitations__valid_from__lte=today)),
            commissions_this_year=Count(
                "memberships", distinct=True,
                filter=Q(memberships__commission__date__year=today.year)
                & ~Q(memberships__commission__status=CommissionStatus.CANCELLED)),
        )
        .prefetch_related(Prefetch(
            "charter_acceptances",
            queryset=CharterAcceptance.objects.select_related("charter")
            .order_by("-charter__published_at"),
            to_attr="acceptances")
        )
        .order_by("-is_active", "user__last_name", "user__first_name")
    )


def applications_visible_to(user) -> QuerySet[EvaluatorApplication]:
    return scope_to_centres(EvaluatorApplication.objects.select_related("centre"), user,
                            roles=[Role.STAFF])
