"""Reads of candidates' data that need care: scoped to the user's centres, planned so that
a page's query count does not grow with its rows (STYLE.md §9)."""

import datetime
from dataclasses import dataclass, field

from django.db.models import Count, Exists, F, Max, Min, OuterRef, Prefetch, Q, QuerySet
from django.db.models.functions import Upper
from django.utils import timezone

from candidates.models import (
    DOSSIER_STATES,
    STEP_OF_STATE,
    Candidate,
    Company,
    Document,
    Registration,
    RegistrationEvent,
    RegistrationState,
    TrainingDecision,
    TrainingRecord,
)
from candidates.rules import STAFF_ROLES
from certifications.models import Competence
from certifications.scoping import scope_to_centres
from config.planning import InArray, joins_as_written
from config.unaccent import Unaccent, strip_accents

S = RegistrationState


def registrations_visible_to(user) -> QuerySet[Registration]:
    return scope_to_centres(Registration.objects.all(), user, roles=STAFF_ROLES)


def candidates_visible_to(user) -> QuerySet[Candidate]:
    return scope_to_centres(Candidate.objects.all(), user, roles=STAFF_ROLES)


def companies_visible_to(user) -> QuerySet[Company]:
    return scope_to_centres(Company.objects.all(), user, roles=STAFF_ROLES)


# The list's commission filter offers the commissions of the last four months and the coming
# ones (a centre holds hundreds a year); an older one stays reachable from its own page.
COMMISSION_FILTER_DAYS = 120
# At most this many (the latest dates): a user of many centres would otherwise get a select of
# a thousand commissions, unusable and ~40 ms to render.
COMMISSION_FILTER_MAX = 150


def commission_choices(user, selected=None) -> list[tuple[int, str]]:
    """The commissions where the user's registrations are scheduled, recent and coming, for
    the list filter (plus ``selected``). Read through the relation the commissions app
    declares (its models are taken from the fields: candidates never imports them).

    A commission schedules only registrations of its own centre (commissions.services), so
    the user's centres are those of the commissions. The read takes the centres' recent
    commissions and asks of each whether anyone is scheduled there (an index probe), rather
    than making every scheduling of the period distinct: for the 1 300 commissions of four
    months in every centre at N=20, ≈ 4.5 ms against ≈ 8 ms; ≈ 1 ms for one centre. Over
    several centres the newest are read through the (date, id) index, which stops at the
    limit (0.3 ms against 1.3)."""
    scheduling = Registration._meta.get_field("schedulings").related_model
    commission = scheduling._meta.get_field("commission").related_model
    scheduled = (scope_to_centres(commission.objects.all(), user, roles=STAFF_ROLES)
                 .filter(Exists(scheduling.objects.filter(commission=OuterRef("pk"))))
                 .values_list("pk", "date"))
    since = timezone.localdate() - datetime.timedelta(days=COMMISSION_FILTER_DAYS)
    rows = list(scheduled.filter(date__gte=since)
                .order_by("-date", "-pk")[:COMMISSION_FILTER_MAX])
    selected = int(selected) if str(selected or "").isdigit() else None
    if selected is not None and selected not in {pk for pk, _day in rows}:
        rows += list(scheduled.filter(pk=selected)[:1])
    # Under the label « Commission », the date alone: it fits the filter's column.
    return [(pk, day.strftime("%d/%m/%Y")) for pk, day in rows]


def registration_years(user) -> list[int]:
    """Years of registration, newest first, from the first and last dates (two index reads
    rather than a scan of every registration)."""
    bounds = registrations_visible_to(user).aggregate(first=Min("registered_on"),
                                                      last=Max("registered_on"))
    if bounds["first"] is None:
        return []
    return list(range(bounds["last"].year, bounds["first"].year - 1, -1))


def filter_form(user, data):
    """The list's filter form with the choices the user may see (list page and export)."""
    from candidates.forms import RegistrationFilterForm
    from certifications.models import Certification

    visible = registrations_visible_to(user)
    return RegistrationFilterForm(
        data,
        # One indexed probe per certification, not a scan of the centre's registrations.
        certifications=Certification.objects.filter(Exists(
            visible.filter(version__certification=OuterRef("pk")))).order_by("kind", "code"),
        years=registration_years(user),
        commissions=commission_choices(user, selected=(data or {}).get("commission")),
    )


# What the staff list and its export read of each registration's relations.
LIST_RELATED = ("candidate", "company", "version__certification")
# What a row of the list page shows (candidates/registration_list.html), and no more: the
# page builds 100 model instances, and a registration or a candidate has some twenty
# columns each (25 rows read in ≈ 4.5 ms instead of ≈ 7.6 at N=20). The export reads more.
LIST_PAGE_COLUMNS = (
    "reference", "state", "registered_on",
    "candidate__birth_name", "candidate__usage_name", "candidate__first_names",
    "company__name",
    "version__certification__kind", "version__certification__code",
    "version__certification__title",
)


def registration_list(user, *, search: str = "", certification=None, state: str = "",
                      step: int | None = None, year: int | None = None,
                      commission: int | None = None) -> QuerySet[Registration]:
    """The staff list and its filters. ``search``: every word must be found in a name of the
    candidate or company, or in the reference (``matching``)."""
    queryset = registrations_visible_to(user).select_related(*LIST_RELATED)
    for term in search.split():
        queryset = queryset.filter(matching(term))
    if certification:
        queryset = queryset.filter(version__certification=certification)
    if state:
        queryset = queryset.filter(state=state)
    if step:
        states = [state for state, number in STEP_OF_STATE.items() if number == step]
        queryset = queryset.filter(state__in=states)
    if year:
        queryset = queryset.filter(registered_on__year=year)
    if commission:
        queryset = queryset.filter(schedulings__commission_id=commission).distinct()
    return queryset.order_by("-registered_on", "-pk")


def list_page(registrations: QuerySet[Registration]) -> QuerySet[Registration]:
    """``registrations`` (from ``registration_list``) read for the list page's rows."""
    return registrations.only(*LIST_PAGE_COLUMNS)


def list_rows(user) -> QuerySet[Registration]:
    """The list page's rows, before any filter (read by key after a search)."""
    return list_page(registration_list(user))


def search_key(field: str) -> Upper:
    """A name as the search compares it: without accents, in upper case. On PostgreSQL a
    trigram index is built on exactly this expression (candidates migration 0003)."""
    return Upper(Unaccent(field))


def matching(term: str) -> Q:
    """The registrations one search term finds: in a name of the candidate (birth, usage or
    first names) or of the registration's company — accents and case ignored — or in the
    reference. Each table is searched on its own, so that PostgreSQL reads the trigram index
    of each column instead of scanning the joins, and the registrations are then found by
    their indexes (``InArray``), not by testing each of them."""
    key = strip_accents(term).upper()
    candidates = (Candidate.objects
                  .alias(birth=search_key("birth_name"), usage=search_key("usage_name"),
                         first=search_key("first_names"))
                  .filter(Q(birth__contains=key) | Q(usage__contains=key)
                          | Q(first__contains=key))
                  .values("pk"))
    companies = (Company.objects.alias(key=search_key("name")).filter(key__contains=key)
                 .values("pk"))
    references = Registration.objects.filter(reference__icontains=term).values("pk")
    return Q(InArray(F("candidate_id"), candidates), InArray(F("company_id"), companies),
             InArray(F("pk"), references), _connector=Q.OR)


def state_counts(user) -> list[tuple[str, str, int]]:
    """Registrations per state in the user's centres, every state listed (dashboard): one
    aggregate query."""
    # COUNT(*) lets PostgreSQL answer from the (centre, state) index alone.
    counts = dict(registrations_visible_to(user).order_by().values_list("state")
                  .annotate(n=Count("*")))
    return [(state, label, counts.get(state, 0)) for state, label in S.choices]


def registration_detail(user, pk: int) -> Registration:
    """One registration with everything its page shows, in a fixed number of queries."""
    competences = Competence.objects.select_related("bloc").order_by("bloc__order", "order")
    with joins_as_written():  # twelve tables joined on unique keys from one row
        registration = (
            registrations_visible_to(user)
            .select_related("candidate__employer", "company", "tutor", "centre",
                            "version__certification", "vae_admissibility__decided_by",
                            "company_opinion", "created_by")
            .prefetch_related(
                Prefetch("version__competences", queryset=competences),
                "planned_modalities",
                Prefetch("documents", queryset=Document.objects.select_related("uploaded_by")
                         .order_by("kind", "-version_number")),
                Prefetch("events", queryset=RegistrationEvent.objects.select_related("actor")
                         .order_by("at", "pk")),
                Prefetch("trainings", queryset=TrainingRecord.objects
                         .select_related("organisation").prefetch_related("competences")),
                "links",
                "company_opinion__items",
            )
            .get(pk=pk)
        )
    # The avis names each competence: those of the version, already read above.
    opinion = getattr(registration, "company_opinion", None)
    if opinion is not None:
        by_pk = {competence.pk: competence for competence in registration.version.competences.all()}
        for item in opinion.items.all():
            if item.competence_id in by_pk:
                item.competence = by_pk[item.competence_id]
    return registration


# ---------------------------------------------------------------------------
# The four steps at a glance
# ---------------------------------------------------------------------------
@dataclass
class StepStatus:
    number: int
    title: str
    status: str  # "done", "current", "todo", "skipped"
    done: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    next: str = ""


def progress(registration: Registration) -> list[StepStatus]:
    """The progress line of the registration page (DOMAIN.md §2), computed from prefetched
    data: what is done, what is missing, what comes next."""
    from django.utils.translation import gettext as _

    from candidates.services import readiness_problems

    state = registration.state
    problems = readiness_problems(registration) if state in DOSSIER_STATES else []
    planned = list(registration.planned_modalities.all())
    competences = list(registration.version.competences.all())

    step1 = StepStatus(1, _("Inscription et dossier"), "done")
    step1.done.append(_("Inscrit le %(d)s")
                      % {"d": registration.registered_on.strftime("%d/%m/%Y")})
    if len(planned) == len(competences):
        step1.done.append(_("Modalités choisies pour les %(n)s compétences")
                          % {"n": len(competences)})
    step1.missing = [p for p in problems if "Modalité" in p or "rapport" in p or "VAE" in p]
    if step1.missing:
        step1.status = "current"
        step1.next = _("Compléter le dossier")

    step2 = StepStatus(2, _("Formation (facultative)"), "todo")
    decision = registration.training_decision
    if decision == TrainingDecision.NO_TRAINING:
        step2.status = "skipped"
        step2.done.append(_("Sans formation"))
    elif decision == TrainingDecision.TRAINING:
        trainings = list(registration.trainings.all())
        step2.done += [f"{t.organisation} — {t.hours} h" for t in trainings]
        unfinished = any(t.end_on is None for t in trainings)
        step2.status = "current" if unfinished else "done"
        if unfinished:
            step2.missing.append(_("Date de fin de formation"))
    else:
        step2.status = "current" if not step1.missing else "todo"
        step2.missing.append(_("Formation suivie ou décision « sans formation »"))
        step2.next = _("Enregistrer la formation ou « sans formation »")

    step3 = StepStatus(3, _("Évaluation des compétences"), "todo")
    step4 = StepStatus(4, _("Délibération du jury"), "todo")
    if state == S.PRET_EVALUATION:
        step3.status = "current"
        step3.next = _("Programmer le candidat dans une commission d'évaluation")
    elif state in (S.EVALUE, S.DELIBERE):
        step3.status = "done"
        step4.status = "done" if state == S.DELIBERE else "current"
        if state == S.DELIBERE:
            step4.done.append(registration.get_outcome_display() or _("Délibéré"))
    elif state in DOSSIER_STATES and not problems:
        step3.next = _("Passer à « Prêt pour l'évaluation »")
    if registration.company_opinion_applies:
        if hasattr(registration, "company_opinion"):
            step3.done.append(_("Avis de l'entreprise reçu"))
        else:
            step3.missing.append(_("Avis de l'entreprise"))
    return [step1, step2, step3, step4]
