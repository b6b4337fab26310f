"""Query budgets of the evaluation and jury pages (STYLE.md §9, issue 7): the role dashboards,
the grid page and its autosave, the jury session page and the synthesis, the public verify
page of every kind of document and the admin of grids and jury sessions run the same number
of queries whatever the size of what they show — and never more than 25."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from candidates import services as candidate_services
from candidates.models import DocumentKind
from certifications.models import Role
from commissions import juries
from commissions.models import College, JurySession, MemberRole
from evaluations import deliberation, services
from evaluations.models import (
    CompetenceResult,
    CriterionResult,
    Decision,
    GeneratedDocument,
    Grid,
    GridState,
    IncidentKind,
)
from evaluations.services import sha256_of
from tests.budgets import assert_flat, page_queries
from tests.evaluations.conftest import PASSWORD, fill_grid, make_jury_member, sign
from tests.factories import (
    build_version,
    make_commission,
    make_evaluator,
    make_ready,
    make_registration,
    member,
)

pytestmark = pytest.mark.django_db


# ---------------------------------------------------------------------------
# Builders: every write through the services, as the pages do
# ---------------------------------------------------------------------------
def ready_registrations(count, *, centre, version, staff):
    return [make_ready(make_registration(centre=centre, version=version, actor=staff),
                       actor=staff) for _ in range(count)]


def evaluate(registrations, *, members, staff, date, non_mastered=(), incidents=0):
    """One confirmed commission of ``members`` on ``date`` for ``registrations``; every grid
    filled (``non_mastered`` competences not mastered, with their comment), ``incidents``
    reported and resolved, then signed by every member: the registrations become évalué."""
    commission = make_commission(
        centre=registrations[0].centre,
        certifications=list({r.version.certification for r in registrations}),
        actor=staff, members=members, registrations=registrations, confirm=True, date=date)
    grids = []
    for scheduled in commission.scheduled.all():
        grid = services.ensure_grid(scheduled=scheduled, actor=staff)
        fill_grid(grid, members[0].user, non_mastered=set(non_mastered))
        for number in range(incidents):
            incident = services.report_incident(
                grid=grid, kind=IncidentKind.EQUIPMENT, actor=members[0].user,
                description=f"Panne de la presse n° {number}")
            services.resolve_incident(incident=incident, actor=staff,
                                      resolution="Poste de secours, épreuve reprise.")
        services.submit_for_signature(grid=grid, actor=members[0].user)
        for commission_member in commission.members.all():
            sign(grid, commission_member)
        grids.append(Grid.objects.get(pk=grid.pk))
    for registration in registrations:
        registration.refresh_from_db()
    return grids


@pytest.fixture
def jury(centre) -> dict:
    """Two members per collège, the president from the employers' delegation."""
    def make(key, college, organisation):
        return key, make_jury_member(centre=centre, college=college, organisation=organisation,
                                     username=f"jury.{key}", first_name=key.title(),
                                     last_name="Jury")

    return dict([make("president", College.EMPLOYERS, "UIMM Loire-Atlantique"),
                 make("employer", College.EMPLOYERS, "Chantiers de l'Atlantique"),
                 make("cfdt", College.EMPLOYEES, "CFDT"),
                 make("cgt", College.EMPLOYEES, "CGT")])


@pytest.fixture
def session_factory(centre, staff, jury, president, assessor):
    """``create(registrations, decided=…, close=False)``: an open session of the jury for
    évalué ``registrations``, the first ``decided`` decided as proposed (all of them and the
    PV signed when ``close``)."""

    def create(registrations, *, decided=0, close=False):
        session = JurySession.objects.create(
            centre=centre, date=timezone.localdate() + datetime.timedelta(days=20),
            start_time=datetime.time(14, 0), place="UIMM, salle Vauban, Nantes",
            created_by=staff)
        session.certifications.set({r.version.certification for r in registrations})
        juries.add_seat(session=session, member=jury["president"], president=True)
        for key in ("employer", "cfdt", "cgt"):
            juries.add_seat(session=session, member=jury[key])
        for registration in registrations:
            juries.add_candidate(session=session, registration=registration)
        for seat in session.seats.all():
            juries.record_presence(seat=seat, present=True)
        juries.open_session(session=session, actor=staff)
        candidates = list(session.candidates.select_related("registration")
                          .order_by("registration__pk"))
        for candidate in candidates[:len(candidates) if close else decided]:
            proposal = deliberation.propose(candidate.registration)
            deliberation.record_decision(
                session_candidate=candidate, actor=jury["president"].user,
                outcome=proposal.outcome, acquired_blocs=proposal.acquired_blocs,
                evaluation_conform=True, admission_conditions_met=True)
        if close:
            deliberation.sign_minutes(session=session, actor=jury["president"].user,
                                      password=PASSWORD)
        session.refresh_from_db()
        return session

    return create


@pytest.fixture
def evaluated_session(centre, staff, president, assessor, small_version, session_factory):
    """``create(count, days, decided=…, close=…)``: ``count`` candidates evaluated by
    commissions in ``days`` days (every second one with C2, so bloc B2, not mastered: a
    validation partielle is proposed), presented to a session of the jury."""

    def create(count, days, *, decided=0, close=True):
        registrations = ready_registrations(count, centre=centre, version=small_version,
                                            staff=staff)
        evaluate(registrations[::2], members=[president, assessor], staff=staff,
                 date=in_days(days))
        if count > 1:
            evaluate(registrations[1::2], members=[president, assessor], staff=staff,
                     date=in_days(days + 1), non_mastered={"C2"})
        return session_factory(registrations, decided=decided, close=close)

    return create


@pytest.fixture
def small_version(certification):
    """A second referential version of the fixtures' certification: 2 blocs × 1 competence ×
    1 criterion — the evaluators are habilitated for it."""
    return build_version(certification=certification, blocs=2, competences=1, criteria=1,
                         label="2025-court")


@pytest.fixture
def large_version(certification):
    """4 blocs × 3 competences × 5 criteria: a grid of 60 criteria."""
    return build_version(certification=certification, blocs=4, competences=3, criteria=5,
                         label="2025-long")


def in_days(days: int) -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=days)


# ---------------------------------------------------------------------------
# Dashboards
# ---------------------------------------------------------------------------
DASHBOARD = reverse("dashboard")


def test_staff_dashboard_queries_do_not_grow_with_registrations_and_referentials(
        client, centre, staff, version):
    make_registration(centre=centre, version=version, actor=staff)
    client.force_login(staff)
    small = page_queries(client, DASHBOARD, warm=True)
    for _ in range(3):
        other = build_version(blocs=1, competences=1, criteria=1)
        for registration in ready_registrations(2, centre=centre, version=other, staff=staff):
            candidate_services.transition(registration=registration, to_state="abandon",
                                          actor=staff, reason="Démission")
        make_registration(centre=centre, version=other, actor=staff)
    assert_flat(small, page_queries(client, DASHBOARD))


def test_evaluator_dashboard_queries_do_not_grow_with_commissions(
        client, centre, certification, staff, president, assessor, registration):
    make_commission(centre=centre, certifications=[certification], actor=staff,
                    members=[president, assessor], registrations=[registration], confirm=True)
    client.force_login(president.user)
    small = page_queries(client, DASHBOARD, warm=True)
    for days in (-10, 5, 21, 28, 35, 60):
        make_commission(centre=centre, certifications=[certification], actor=staff,
                        members=[president, assessor], date=in_days(days),
                        registrations=ready_registrations(1, centre=centre,
                                                          version=registration.version,
                                                          staff=staff))
    assert_flat(small, page_queries(client, DASHBOARD))


def test_jury_dashboard_queries_do_not_grow_with_sessions(client, centre, certification, jury,
                                                          staff):
    def session(days):
        session = JurySession.objects.create(centre=centre, date=in_days(days),
                                             start_time=datetime.time(9, 0), place="Nantes")
        session.certifications.set([certification])
        juries.add_seat(session=session, member=jury["president"], president=True)
        juries.add_seat(session=session, member=jury["cfdt"])
        return session

    # One coming and one past session: the dashboard reads each kind in its own bounded
    # query (a kind with no session skips its prefetch, one query less).
    session(20)
    session(-10)
    client.force_login(jury["president"].user)
    small = page_queries(client, DASHBOARD, warm=True)
    for days in (-60, -30, 25, 40, 90):
        session(days)
    assert_flat(small, page_queries(client, DASHBOARD))


def test_national_dashboard_queries_do_not_grow_with_centres_and_referentials(
        client, centre, staff, version):
    national = member(Role.NATIONAL, centre=centre)
    make_registration(centre=centre, version=version, actor=staff)
    client.force_login(national)
    small = page_queries(client, DASHBOARD, warm=True)
    for _ in range(4):
        make_registration(version=build_version(blocs=1, competences=1, criteria=1))
    assert_flat(small, page_queries(client, DASHBOARD))


# ---------------------------------------------------------------------------
# The grid page and its autosave
# ---------------------------------------------------------------------------
@pytest.fixture
def grid_pair(centre, certification, staff, president, assessor, small_version,
              large_version):
    """``create(state)``: two grids of ``president`` and ``assessor``'s commissions, in
    ``state`` (draft, to_sign with the president's signature, signed): one of 2 criteria with
    one incident, one of 60 criteria with four incidents."""

    def create(state):
        grids = []
        for index, (version, incidents) in enumerate(((small_version, 1),
                                                      (large_version, 4))):
            registration = ready_registrations(1, centre=centre, version=version,
                                               staff=staff)[0]
            commission = make_commission(
                centre=centre, certifications=[certification], actor=staff,
                members=[president, assessor], registrations=[registration], confirm=True,
                date=in_days(14 + 7 * index))
            grid = services.ensure_grid(scheduled=commission.scheduled.get(), actor=staff)
            for number in range(incidents):
                services.report_incident(grid=grid, kind=IncidentKind.OTHER,
                                         description=f"Incident {number}",
                                         actor=president.user)
            if state != "draft":
                fill_grid(grid, president.user, non_mastered={"C2"})
                services.submit_for_signature(grid=grid, actor=president.user)
                members = {m.role: m for m in commission.members.all()}
                sign(grid, members[MemberRole.PRESIDENT])
                if state == "signed":
                    sign(grid, members[MemberRole.MEMBER])
            grids.append(Grid.objects.get(pk=grid.pk))
        assert [g.state for g in grids] == [{"draft": GridState.DRAFT,
                                             "to_sign": GridState.TO_SIGN,
                                             "signed": GridState.SIGNED}[state]] * 2
        return grids

    return create


@pytest.mark.parametrize("state", ["draft", "to_sign", "signed"])
@pytest.mark.parametrize("who", ["member", "staff"])
def test_grid_page_queries_do_not_grow_with_criteria_and_incidents(
        client, staff, president, grid_pair, state, who):
    small, large = grid_pair(state)
    assert large.competence_results.count() == 12
    client.force_login(president.user if who == "member" else staff)

    def url(grid):
        return reverse("grids:detail", args=[grid.pk])

    assert_flat(page_queries(client, url(small), warm=True), page_queries(client, url(large)))


def autosave(client, grid, field: str, *, warm=False) -> list[str]:
    """The POST static/js/grid.js sends for ``field`` of the first row, with the row's
    current revision and a value different from the stored one."""
    competence = (CompetenceResult.objects.filter(grid=grid)
                  .order_by("competence__bloc__order", "competence__order").first())
    if field in ("level", "comment"):
        row, row_kind = competence, "competence"
        levels = {level.code: level.pk
                  for level in grid.scheduled.registration.version.rating_levels.all()}
        value = {"level": levels["MA" if competence.level_id == levels["NM"] else "NM"],
                 "comment": f"Observation {competence.revision}"}[field]
    else:
        row = (CriterionResult.objects.filter(competence_result=competence)
               .order_by("criterion__order").first())
        row_kind = "criterion"
        value = {"notes": f"Élément de preuve {row.revision}",
                 "satisfied": "non" if row.satisfied else "oui",
                 "concerned": "" if row.concerned else "on"}[field]
    data = {"row_kind": row_kind, "row_id": row.pk, "field": field, "value": value,
            "revision": type(row).objects.get(pk=row.pk).revision}
    url = reverse("grids:save_field", args=[grid.pk])
    if warm:
        client.post(url, data, HTTP_HX_REQUEST="true")
        return autosave(client, grid, field)
    return page_queries(client, url, data=data, method="post", HTTP_HX_REQUEST="true")


@pytest.mark.parametrize("state", ["draft", "to_sign"])
@pytest.mark.parametrize("field", ["notes", "satisfied", "concerned", "level", "comment"])
def test_autosave_queries_do_not_grow_with_criteria(client, president, grid_pair, state,
                                                    field):
    small, large = grid_pair(state)
    client.force_login(president.user)
    small_queries = autosave(client, small, field, warm=True)
    if state == "to_sign":  # the warm-up voided the president's signature: sign again
        small.refresh_from_db()
        sign(small, small.scheduled.commission.members.get(role=MemberRole.PRESIDENT))
        small_queries = autosave(client, small, field)
    assert_flat(small_queries, autosave(client, large, field))


# ---------------------------------------------------------------------------
# The jury: session page and synthesis
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("status", ["open", "closed"])
@pytest.mark.parametrize("who", ["president", "staff"])
def test_jury_session_page_queries_do_not_grow_with_candidates_and_decisions(
        client, staff, jury, evaluated_session, status, who):
    close = status == "closed"
    small = evaluated_session(2, 3, decided=1, close=close)
    large = evaluated_session(8, 6, decided=4, close=close)
    client.force_login(jury["president"].user if who == "president" else staff)

    def url(session):
        return reverse("juries:session_detail", args=[session.pk])

    assert_flat(page_queries(client, url(small), warm=True), page_queries(client, url(large)))


@pytest.mark.parametrize("status", ["open", "closed"])
def test_synthesis_queries_do_not_grow_with_the_dossier_grids_and_decisions(
        client, centre, staff, jury, president, assessor, small_version, large_version,
        session_factory, media_root, real_pdf, status):
    """The large candidate: a referential six times larger, five documents, three resolved
    incidents on its signed grid, in a session of six — and, once closed, a corrected
    decision."""
    close = status == "closed"
    small = ready_registrations(1, centre=centre, version=small_version, staff=staff)[0]
    evaluate([small], members=[president, assessor], staff=staff, date=in_days(3))
    large = ready_registrations(1, centre=centre, version=large_version, staff=staff)[0]
    for number in range(5):
        candidate_services.upload_document(
            registration=large, kind=DocumentKind.ACTIVITY_REPORT, actor=staff,
            uploaded=SimpleUploadedFile(f"rapport-{number}.pdf", real_pdf))
    evaluate([large], members=[president, assessor], staff=staff, date=in_days(4),
             non_mastered={"C1", "C4"}, incidents=3)
    others = ready_registrations(5, centre=centre, version=small_version, staff=staff)
    evaluate(others, members=[president, assessor], staff=staff, date=in_days(5))
    sessions = [session_factory([small], decided=1, close=close),
                session_factory([large, *others], decided=3, close=close)]
    if close:  # the large candidate's decision corrected: two decisions in its history
        decision = Decision.objects.get(registration=large)
        deliberation.correct_decision(decision=decision, actor=staff, outcome="non_admis",
                                      acquired_blocs=[], reason="Erreur de saisie des blocs.")
    client.force_login(staff)

    def url(session, registration):
        candidate = session.candidates.get(registration=registration)
        return reverse("juries:synthesis", args=[session.pk, candidate.pk])

    assert_flat(page_queries(client, url(sessions[0], small), warm=True),
                page_queries(client, url(sessions[1], large)))


def test_minutes_snapshot_queries_do_not_grow_with_decisions(evaluated_session):
    """The PV's content reads the blocs of every decision at once; its content (hashed when
    the president signs) is what it always was: the titles of the acquired blocs, in the
    referential's order."""
    sessions = [evaluated_session(2, 3), evaluated_session(7, 6)]
    counts = []
    for session in sessions:
        with CaptureQueriesContext(connection) as context:
            snapshot = deliberation.minutes_snapshot(session)
        counts.append(len(context.captured_queries))
        assert sha256_of(snapshot) == session.minutes.snapshot_sha256
        for line in snapshot["decisions"]:
            decision = Decision.objects.get(registration__reference=line["reference"],
                                            superseded_by__isnull=True)
            assert line["acquired_bloc_titles"] == dict(
                decision.registration.version.blocs.filter(code__in=decision.acquired_blocs)
                .values_list("code", "title"))
    assert {"admis", "admis_partiel"} <= {
        line["outcome"] for line in sessions[1].minutes.snapshot["decisions"]}
    assert counts[0] == counts[1] <= 5


# ---------------------------------------------------------------------------
# The public verify page, for every kind of verifiable document
# ---------------------------------------------------------------------------
def verify(client, document) -> list[str]:
    return page_queries(client, reverse("verify", args=[document.verification_code]))


def test_verify_page_of_a_grid_does_not_grow_with_members_and_criteria(
        client, centre, certification, staff, president, assessor, small_version,
        large_version):
    third = make_evaluator(centre=centre, certifications=[certification])
    small = evaluate(ready_registrations(1, centre=centre, version=small_version, staff=staff),
                     members=[president, assessor], staff=staff, date=in_days(3))[0]
    large = evaluate(ready_registrations(1, centre=centre, version=large_version, staff=staff),
                     members=[president, assessor, third], staff=staff, date=in_days(4))[0]
    documents = [GeneratedDocument.objects.get(grid=grid) for grid in (small, large)]
    verify(client, documents[0])  # warm-up
    assert_flat(verify(client, documents[0]), verify(client, documents[1]))


@pytest.mark.parametrize("kind", [GeneratedDocument.Kind.PV, GeneratedDocument.Kind.LETTER,
                                  GeneratedDocument.Kind.CERTIFICATE,
                                  GeneratedDocument.Kind.PARTIAL])
def test_verify_page_of_a_jury_document_does_not_grow_with_the_session(
        client, evaluated_session, kind):
    documents = [GeneratedDocument.objects.filter(session=session, kind=kind)
                 .order_by("pk").first()
                 for session in (evaluated_session(2, 3), evaluated_session(7, 6))]
    assert None not in documents
    verify(client, documents[0])  # warm-up
    assert_flat(verify(client, documents[0]), verify(client, documents[1]))


# ---------------------------------------------------------------------------
# Admin
# ---------------------------------------------------------------------------
def test_admin_grid_changelist_queries_do_not_grow_with_grids(
        client, centre, staff, president, assessor, small_version, grid):
    url = reverse("admin:evaluations_grid_changelist")
    client.force_login(staff)
    small = page_queries(client, url, warm=True)
    evaluate(ready_registrations(4, centre=centre, version=small_version, staff=staff),
             members=[president, assessor], staff=staff, date=in_days(3))
    assert_flat(small, page_queries(client, url))


def test_admin_grid_change_page_queries_do_not_grow_with_criteria_and_events(
        client, staff, grid_pair):
    small, large = grid_pair("signed")
    client.force_login(staff)

    def url(grid):
        return reverse("admin:evaluations_grid_change", args=[grid.pk])

    assert_flat(page_queries(client, url(small), warm=True), page_queries(client, url(large)))


@pytest.mark.parametrize("model", ["jurysession", "jurymember"])
def test_admin_jury_changelists_queries_do_not_grow_with_sessions(
        client, centre, certification, staff, jury, model):
    url = reverse(f"admin:commissions_{model}_changelist")

    def session(days):
        session = JurySession.objects.create(centre=centre, date=in_days(days),
                                             start_time=datetime.time(9, 0), place="Nantes")
        session.certifications.set([certification])
        juries.add_seat(session=session, member=jury["president"], president=True)
        return session

    session(20)
    client.force_login(staff)
    small = page_queries(client, url, warm=True)
    for days in (-60, -30, 25, 40):
        session(days)
    for number in range(4):
        make_jury_member(centre=centre, college=College.EMPLOYEES, organisation="CFTC",
                         username=f"jury.cftc{number}", first_name="Jean", last_name="Cftc")
    assert_flat(small, page_queries(client, url))


@pytest.mark.parametrize("model", ["decision", "generateddocument"])
def test_admin_decisions_and_documents_changelists_queries_do_not_grow(
        client, staff, evaluated_session, model):
    url = reverse(f"admin:evaluations_{model}_changelist")
    evaluated_session(1, 3)
    client.force_login(staff)
    small = page_queries(client, url, warm=True)
    session = evaluated_session(5, 5)
    decision = Decision.objects.filter(session_candidate__session=session).first()
    deliberation.correct_decision(decision=decision, actor=staff, outcome="non_admis",
                                  acquired_blocs=[], reason="Erreur de saisie des blocs.")
    assert_flat(small, page_queries(client, url))


def test_admin_decisions_list_names_the_proposal(client, staff, evaluated_session):
    """The « proposition » column says the outcome's label, as « résultat » does, never the
    stored code (the field keeps no choices)."""
    from django.contrib.admin.templatetags.admin_list import items_for_result

    evaluated_session(2, 3)
    client.force_login(staff)
    response = client.get(reverse("admin:evaluations_decision_changelist"))
    assert response.status_code == 200
    changelist = response.context["cl"]
    proposals = {decision.pk: decision.proposed_outcome for decision in changelist.result_list}
    assert set(proposals.values()) == {"admis", "admis_partiel"}
    labels = {"admis": "Admis", "admis_partiel": "Validation partielle"}
    column = changelist.list_display.index("proposition")
    for decision in changelist.result_list:
        cells = list(items_for_result(changelist, decision, None))
        assert f">{labels[decision.proposed_outcome]}</td>" in cells[column]
    table = response.content.decode().split('id="result_list"')[1].split("</table>")[0]
    assert "Validation partielle" in table and "admis_partiel" not in table


def test_dashboard_lists_the_first_sessions_of_the_full_order(centre, certification, jury):
    """The dashboard's bounded read gives the first five of « Mes sessions »' order: open and
    coming sessions first by date, then the most recent past ones."""
    from evaluations.selectors_jury import sessions_of_member

    by_days = {}
    for days in (-400, -60, -30, -5, 3, 25, 40, 90):
        session = JurySession.objects.create(centre=centre, date=in_days(days),
                                             start_time=datetime.time(9, 0), place="Nantes")
        session.certifications.set([certification])
        juries.add_seat(session=session, member=jury["president"], president=True)
        by_days[days] = session.pk
    user = jury["president"].user
    full = [s.pk for s in sessions_of_member(user)]
    assert full == [by_days[d] for d in (3, 25, 40, 90, -5, -30, -60, -400)]
    for limit in (2, 4, 5, 8):
        assert [s.pk for s in sessions_of_member(user, limit=limit)] == full[:limit]
