"""Impartiality and eligibility of an evaluator (DOMAIN.md §4) — one service used by every
path that assigns an evaluator (staff page, admin, services) and again at signature.

Each check explains itself in French.
"""

import datetime
from collections import defaultdict
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext as _

from candidates.models import Registration
from certifications.models import Certification
from commissions.models import (
    CharterAcceptance,
    CharterVersion,
    ConflictDeclaration,
    Evaluator,
    Habilitation,
    Unavailability,
)


@dataclass(frozen=True)
class Problem:
    code: str
    message: str

    def __str__(self) -> str:
        return self.message


def _same(a: str, b: str) -> bool:
    return bool(a) and bool(b) and a.strip().lower() == b.strip().lower()


def _sirens_of(registration: Registration) -> set[str]:
    sirens = set()
    if registration.company_id:
        sirens.add(registration.company.siren)
    employer = registration.candidate.employer
    if employer is not None:
        sirens.add(employer.siren)
    return {s for s in sirens if s}


def conflicts(evaluator: Evaluator, registration: Registration,
              declared: list[ConflictDeclaration] | None = None) -> list[Problem]:
    """Every hierarchical, functional or contractual link between the evaluator and the
    candidate, and every declared conflict. ``declared`` may be passed prefetched."""
    problems = []
    name = registration.candidate.full_name
    email = evaluator.user.email
    if evaluator.employer_siren and evaluator.employer_siren in _sirens_of(registration):
        problems.append(Problem("same_company", _(
            "%(evaluator)s travaille dans la même entreprise (même SIREN) que %(candidate)s."
        ) % {"evaluator": evaluator, "candidate": name}))
    if registration.tutor_id and _same(registration.tutor.email, email):
        problems.append(Problem("tutor", _("%(evaluator)s est le tuteur de %(candidate)s.")
                                % {"evaluator": evaluator, "candidate": name}))
    if _same(registration.referent_trainer_email, email):
        problems.append(Problem("trainer", _(
            "%(evaluator)s est le formateur référent de %(candidate)s."
        ) % {"evaluator": evaluator, "candidate": name}))
    if _same(registration.manager_email, email):
        problems.append(Problem("manager", _(
            "%(evaluator)s est le responsable hiérarchique de %(candidate)s."
        ) % {"evaluator": evaluator, "candidate": name}))
    if declared is None:
        declared = list(evaluator.conflicts.select_related("company"))
    sirens = _sirens_of(registration)
    for declaration in declared:
        if declaration.candidate_id == registration.candidate_id or (
            declaration.company_id and declaration.company.siren in sirens
        ):
            problems.append(Problem("declared", _(
                "%(evaluator)s a déclaré un conflit d'intérêts concernant %(candidate)s : "
                "%(reason)s."
            ) % {"evaluator": evaluator, "candidate": name, "reason": declaration.reason}))
    return problems


def has_accepted_current_charter(evaluator: Evaluator | int) -> bool:
    """Has ``evaluator`` (or the evaluator of that id) accepted the charter in force? One
    query: the current version and the acceptance together. No charter published: False."""
    accepted = CharterAcceptance.objects.filter(evaluator=evaluator, charter=OuterRef("pk"))
    return bool(CharterVersion.in_force_first().annotate(accepted=Exists(accepted))
                .values_list("accepted", flat=True).first())


def charter_pending_for_user(user) -> bool:
    """Must ``user``, an evaluator, still accept the charter in force? One query: the current
    version, its acceptance by the user's evaluator profile, and that the profile exists (no
    profile, or no charter published: nothing pending)."""
    accepted = CharterAcceptance.objects.filter(evaluator__user=user, charter=OuterRef("pk"))
    status = (CharterVersion.in_force_first()
              .annotate(accepted=Exists(accepted),
                        evaluator=Exists(Evaluator.objects.filter(user=user)))
              .values_list("accepted", "evaluator").first())
    return status is not None and status[1] and not status[0]


@dataclass
class EligibilityData:
    """What the eligibility and conflict checks read, loaded once for many evaluators so that
    a page listing them (composition checklist, suggestions) runs a fixed number of queries."""

    charter_accepted: set[int] = field(default_factory=set)  # evaluator ids
    covered: dict[int, set[int]] = field(default_factory=dict)  # evaluator id -> certif. ids
    unavailable: set[int] = field(default_factory=set)  # evaluator ids
    parents: dict[int, int | None] = field(default_factory=dict)  # certif. id -> parent id
    declared: dict[int, list[ConflictDeclaration]] = field(default_factory=dict)


def _parent_ids(certifications) -> dict[int, int | None]:
    """Each certification's parent (a bloc's CQPM), in one query."""
    wanted = {(c.parent_kind, c.parent_code) for c in certifications if c.parent_code}
    found = {}
    if wanted:
        query = Q()
        for kind, code in wanted:
            query |= Q(kind=kind, code=code)
        found = {(kind, code): pk for pk, kind, code in
                 Certification.objects.filter(query).values_list("pk", "kind", "code")}
    return {c.pk: found.get((c.parent_kind, c.parent_code)) for c in certifications}


def load_eligibility(evaluator_ids, *, certifications, on: datetime.date) -> EligibilityData:
    ids = list(evaluator_ids)
    charter = CharterVersion.current()
    accepted = set() if charter is None else set(
        CharterAcceptance.objects.filter(charter=charter, evaluator_id__in=ids)
        .values_list("evaluator_id", flat=True))
    covered = defaultdict(set)
    links = Habilitation.certifications.through.objects.filter(
        habilitation__evaluator_id__in=ids, habilitation__valid_from__lte=on,
        habilitation__valid_until__gte=on,
    ).values_list("habilitation__evaluator_id", "certification_id")
    for evaluator_id, certification_id in links:
        covered[evaluator_id].add(certification_id)
    unavailable = set(Unavailability.objects.filter(
        evaluator_id__in=ids, start_on__lte=on, end_on__gte=on,
    ).values_list("evaluator_id", flat=True))
    declared = defaultdict(list)
    for declaration in ConflictDeclaration.objects.filter(
            evaluator_id__in=ids).select_related("company"):
        declared[declaration.evaluator_id].append(declaration)
    return EligibilityData(charter_accepted=accepted, covered=dict(covered),
                           unavailable=unavailable, parents=_parent_ids(certifications),
                           declared=dict(declared))


def eligibility_problems(evaluator: Evaluator, *, certifications, on: datetime.date,
                         data: EligibilityData | None = None) -> list[Problem]:
    """Whether the evaluator may sit on ``on`` for ``certifications``: active, current
    charter accepted, a valid habilitation covering each certification, available.
    ``data`` may be passed preloaded (``load_eligibility``) for many evaluators."""
    certifications = list(certifications)
    if data is None:
        data = load_eligibility([evaluator.pk], certifications=certifications, on=on)
    problems = []
    if not evaluator.is_active:
        problems.append(Problem("inactive", _("%(e)s n'est pas actif dans le réseau.")
                                % {"e": evaluator}))
    if evaluator.pk not in data.charter_accepted:
        problems.append(Problem("charter", _(
            "%(e)s n'a pas accepté la version en vigueur de la charte de déontologie."
        ) % {"e": evaluator}))
    covered = data.covered.get(evaluator.pk, set())
    for certification in certifications:
        parent_id = data.parents.get(certification.pk)
        if certification.pk not in covered and not (parent_id and parent_id in covered):
            problems.append(Problem("habilitation", _(
                "%(e)s n'a pas d'habilitation valide le %(date)s pour %(cert)s."
            ) % {"e": evaluator, "date": on.strftime("%d/%m/%Y"),
                 "cert": f"{certification.kind} {certification.code}"}))
    if evaluator.pk in data.unavailable:
        problems.append(Problem("unavailable", _("%(e)s est indisponible le %(date)s.")
                                % {"e": evaluator, "date": on.strftime("%d/%m/%Y")}))
    return problems


# Links an evaluator may be allowed to sit despite, with a written justification, when the
# centre allows overrides (DOMAIN.md §4); every other problem is never overridden.
OVERRIDABLE_CODES = frozenset({"same_company", "tutor", "trainer", "manager", "declared"})


def override_allowed() -> bool:
    return settings.COMMISSIONS["IMPARTIALITY_OVERRIDE_ALLOWED"]


def overridable(problems) -> bool:
    """Whether staff may assign despite ``problems`` with a written justification."""
    return override_allowed() and all(p.code in OVERRIDABLE_CODES for p in problems)
