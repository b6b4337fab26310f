"""Partial results that last (DOMAIN.md §6): the blocs and competences a candidate validated
before, kept with their expiry, and carried over to a new registration for the same
certification.

The source is what the candidate was notified: the results letter of each final, current (not
superseded) decision — its frozen snapshot (evaluations.documents_jury.results_snapshot) says
which blocs and competences were validated and until when (competences 24 months from the
deliberation, blocs 5 years when the certification is on the RNCP; settings.RESULTS at the time
of the deliberation). A later change of the settings does not rewrite what was notified.

One query whatever the number of registrations (``carried_over_many``), so that a jury session
page of many candidates does not grow with them.
"""

import datetime
from dataclasses import dataclass, field

from django.db.models import F
from django.utils import timezone

from evaluations.models import GeneratedDocument


@dataclass(frozen=True)
class AcquiredItem:
    """One validated bloc or competence with its source jury and its expiry."""

    code: str
    title: str
    bloc: str | None  # a competence's bloc code (None for a bloc or a loose competence)
    decision_id: int
    session_id: int
    session_date: datetime.date
    until: datetime.date

    def valid_on(self, day: datetime.date) -> bool:
        return day <= self.until


@dataclass
class AcquiredResults:
    """The results valid on ``at`` (by code), and those that expired (evaluated again)."""

    at: datetime.date
    blocs: dict[str, AcquiredItem] = field(default_factory=dict)
    competences: dict[str, AcquiredItem] = field(default_factory=dict)
    expired_blocs: dict[str, AcquiredItem] = field(default_factory=dict)
    expired_competences: dict[str, AcquiredItem] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.blocs or self.competences)

    @property
    def competence_list(self) -> list[AcquiredItem]:
        return sorted(self.competences.values(), key=lambda i: i.code)

    @property
    def bloc_list(self) -> list[AcquiredItem]:
        return sorted(self.blocs.values(), key=lambda i: i.code)

    @property
    def expired_list(self) -> list[AcquiredItem]:
        return sorted([*self.expired_blocs.values(), *self.expired_competences.values()],
                      key=lambda i: i.code)


def _date(value: str | None) -> datetime.date | None:
    return datetime.date.fromisoformat(value) if value else None


def _items(row: dict) -> tuple[list[AcquiredItem], list[AcquiredItem]]:
    """(blocs, competences) a results letter validated, each with its expiry. A competence of
    a validated bloc lasts as long as the bloc; a bloc of a certification off the RNCP lasts as
    long as its competences."""
    snapshot = row["snapshot"] or {}
    validity = snapshot.get("validity") or {}
    session = snapshot.get("session") or {}
    competences_until = _date(validity.get("competences_until"))
    session_date = _date(session.get("date"))
    if competences_until is None or session_date is None:
        return [], []  # not a results projection (or anonymised): nothing to carry
    blocs_until = _date(validity.get("blocs_until")) or competences_until
    source = {"decision_id": row["decision_id"], "session_id": row["session_id"],
              "session_date": session_date}
    acquired = {b["code"] for b in snapshot.get("blocs", []) if b.get("acquired")}
    blocs = [AcquiredItem(code=b["code"], title=b["title"], bloc=None, until=blocs_until,
                          **source)
             for b in snapshot.get("blocs", []) if b["code"] in acquired]
    competences = []
    for c in snapshot.get("competences", []):
        if not c.get("validated"):
            continue
        until = (max(competences_until, blocs_until) if c.get("bloc") in acquired
                 else competences_until)
        carried = c.get("carried")
        if carried and c.get("bloc") not in acquired:
            # Carried over from an earlier jury: a later decision does not extend its life.
            competences.append(AcquiredItem(
                code=c["code"], title=c["title"], bloc=c.get("bloc"),
                decision_id=row["decision_id"], session_id=row["session_id"],
                session_date=_date(carried["session_date"]), until=_date(carried["until"])))
            continue
        competences.append(AcquiredItem(code=c["code"], title=c["title"], bloc=c.get("bloc"),
                                        until=until, **source))
    return blocs, competences


def _keep_latest(target: dict, item: AcquiredItem) -> None:
    if item.code not in target or target[item.code].until < item.until:
        target[item.code] = item


def _results(rows: list[dict], at: datetime.date) -> AcquiredResults:
    results = AcquiredResults(at=at)
    for row in rows:
        blocs, competences = _items(row)
        for item in blocs:
            _keep_latest(results.blocs if item.valid_on(at) else results.expired_blocs, item)
        for item in competences:
            _keep_latest(results.competences if item.valid_on(at)
                         else results.expired_competences, item)
    # An expired result renewed by a later jury is not « expired » any more.
    for valid, expired in ((results.blocs, results.expired_blocs),
                           (results.competences, results.expired_competences)):
        for code in set(valid) & set(expired):
            del expired[code]
    return results


def _letters(candidate_ids, certification_ids, before: datetime.date):
    return (GeneratedDocument.objects
            .filter(kind=GeneratedDocument.Kind.LETTER,
                    decision__final_at__isnull=False,
                    decision__superseded_by__isnull=True,
                    decision__registration__candidate_id__in=candidate_ids,
                    decision__registration__version__certification_id__in=certification_ids,
                    session__date__lte=before)
            .values("snapshot", "decision_id", "session_id",
                    registration_id=F("decision__registration_id"),
                    candidate_id=F("decision__registration__candidate_id"),
                    certification_id=F(
                        "decision__registration__version__certification_id"))
            .order_by("session__date", "pk"))


def acquired_results(candidate, certification, *, at: datetime.date | None = None,
                     excluding_registration=None) -> AcquiredResults:
    """The blocs and competences of ``certification`` that ``candidate`` validated before
    (final, current decisions), valid on ``at`` (today by default), with their source jury
    and expiry; those that expired are listed apart. ``excluding_registration``: a
    registration whose own decisions do not count (its results are not « carried over »)."""
    at = at or timezone.localdate()
    rows = [row for row in _letters([candidate.pk], [certification.pk], at)
            if excluding_registration is None
            or row["registration_id"] != excluding_registration.pk]
    return _results(rows, at)


def carried_over(registration, *, at: datetime.date | None = None) -> AcquiredResults:
    """What a registration starts from: the candidate's earlier results for the same
    certification still valid on ``at`` (the commission's or the jury's date)."""
    return carried_over_many([registration], at=at)[registration.pk]


def carried_over_many(registrations, *, at: datetime.date | None = None
                      ) -> dict[int, AcquiredResults]:
    """``carried_over`` of many registrations in one query, by registration id."""
    at = at or timezone.localdate()
    registrations = list(registrations)
    if not registrations:
        return {}
    certification_of = {r.pk: r.version.certification_id for r in registrations}
    rows = list(_letters({r.candidate_id for r in registrations},
                         set(certification_of.values()), at))
    return {r.pk: _results([row for row in rows
                            if row["candidate_id"] == r.candidate_id
                            and row["certification_id"] == certification_of[r.pk]
                            and row["registration_id"] != r.pk], at)
            for r in registrations}
