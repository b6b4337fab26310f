"""The statistics page, its exports and the annual report (issue 10 §4–5): every figure on a
data set built so that the expected number is known by hand; who may see it; a bounded
number of queries whatever the volume."""

import csv
import datetime
import io

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook
from pypdf import PdfReader

from certifications.models import Role
from commissions.juries import cpne_deadline
from commissions.models import (
    Answer,
    Commission,
    CommissionMember,
    CommissionStatus,
    Habilitation,
    JuryMember,
    JurySession,
    MemberRole,
    ScheduledCandidate,
    SessionCandidate,
    SessionStatus,
)
from evaluations.models import Decision
from reporting import statistics
from reporting.charts import bar_chart_svg
from reporting.statistics import Filters
from tests.budgets import assert_flat, page_queries
from tests.factories import (
    CentreFactory,
    build_version,
    make_evaluator,
    make_registration,
    member,
)

D = datetime.date
START, END = D(2025, 1, 1), D(2025, 12, 31)
PERIOD = {"start": "2025-01-01", "end": "2025-12-31"}
URL = "/rapports/statistiques/"


def registration(centre, version, path, registered_on):
    return make_registration(centre=centre, version=version, path=path,
                             registered_on=registered_on)


def jury(centre, date, *, closed=True, sent_on=None, certifications=()):
    session = JurySession.objects.create(
        centre=centre, date=date, start_time=datetime.time(9), place="Nantes",
        status=SessionStatus.CLOSED if closed else SessionStatus.PLANNED,
        cpne_bundle_sent_on=sent_on)
    session.certifications.set(certifications)
    return session


def decide(session, registration, outcome, *, final=True, supersedes=None, actor):
    if supersedes is not None:
        session_candidate = supersedes.session_candidate
    else:
        session_candidate, _created = SessionCandidate.objects.get_or_create(
            session=session, registration=registration)
    return Decision.objects.create(
        session_candidate=session_candidate, registration=registration,
        proposed_outcome=outcome, outcome=outcome, evaluation_conform=True,
        admission_conditions_met=True, decided_by=actor,
        final_at=timezone.now() if final else None, supersedes=supersedes)


class World:
    """Centre A (the staff's) and centre B (another), the figures of A known by hand."""


@pytest.fixture
def world(db):
    w = World()
    w.centre = CentreFactory(name="UIMM Loire-Atlantique")
    w.other_centre = CentreFactory(name="UIMM Rhône")
    w.staff = member(Role.STAFF, centre=w.centre, username="gestion-a")
    w.other_staff = member(Role.STAFF, centre=w.other_centre, username="gestion-b")
    w.national = member(Role.NATIONAL, centre=w.centre, username="national")
    w.cqpm = build_version()
    w.ccpm = build_version(kind="CCPM")
    certification = w.cqpm.certification
    # Registrations of A in 2025: 2 salariés, 1 VAE, 1 contrat pro (CCPM), 1 apprentissage;
    # r0 was registered in 2024 and decided in 2025.
    r0 = registration(w.centre, w.cqpm, "salarie", D(2024, 12, 1))
    r1 = registration(w.centre, w.cqpm, "salarie", D(2025, 1, 10))
    r2 = registration(w.centre, w.cqpm, "salarie", D(2025, 2, 1))
    r3 = registration(w.centre, w.cqpm, "vae", D(2025, 3, 1))
    r4 = registration(w.centre, w.ccpm, "contrat_pro", D(2025, 4, 1))
    registration(w.centre, w.cqpm, "apprentissage", D(2025, 5, 1))
    rb = registration(w.other_centre, w.cqpm, "salarie", D(2025, 1, 15))
    # Juries of A: S1 bundle sent on its deadline day, S2 a day late, S3 not sent (deadline
    # 28/02/2026, clipped); a planned one, not held. One jury of B.
    s1 = jury(w.centre, D(2025, 6, 10), sent_on=D(2025, 9, 10), certifications=[certification])
    s2 = jury(w.centre, D(2025, 9, 15), sent_on=D(2025, 12, 16), certifications=[certification])
    w.s3 = jury(w.centre, D(2025, 11, 30), certifications=[w.ccpm.certification])
    jury(w.centre, D(2025, 10, 1), closed=False)
    sb = jury(w.other_centre, D(2025, 6, 20), sent_on=D(2025, 7, 1))
    # Decisions in force: r0 admis (191 days), r1 admis (151), r2 non admis corrected to
    # admis partiel (129), r3 non admis (198); r4 not final yet (PV unsigned).
    actor = w.staff
    decide(s1, r0, "admis", actor=actor)
    decide(s1, r1, "admis", actor=actor)
    wrong = decide(s1, r2, "non_admis", actor=actor)
    decide(s1, r2, "admis_partiel", supersedes=wrong, actor=actor)
    decide(s2, r3, "non_admis", actor=actor)
    decide(s2, r4, "admis", final=False, actor=actor)
    decide(sb, rb, "admis", actor=actor)
    # Commissions of A: C1 (e1 presides, e2 sits; r1, r2), C2 (e1; e2 declined; r3), C3
    # cancelled (e2), C4 in 2024 (e2). e3 is inactive.
    w.e1 = make_evaluator(centre=w.centre, user__first_name="Marc", user__last_name="Durand")
    w.e2 = make_evaluator(centre=w.centre, user__first_name="Sophie",
                          user__last_name="Martin")
    e3 = make_evaluator(centre=w.centre, is_active=False)
    eb = make_evaluator(centre=w.other_centre)

    def commission(centre, date, members, scheduled, status=CommissionStatus.HELD):
        c = Commission.objects.create(centre=centre, date=date, start_time=datetime.time(8),
                                      place="Atelier", status=status)
        for evaluator, role, answer in members:
            CommissionMember.objects.create(commission=c, evaluator=evaluator, role=role,
                                            answer=answer)
        for index, r in enumerate(scheduled):
            ScheduledCandidate.objects.create(commission=c, registration=r,
                                              start_time=datetime.time(8 + index))
        return c

    p, m = MemberRole.PRESIDENT, MemberRole.MEMBER
    commission(w.centre, D(2025, 5, 1), [(w.e1, p, Answer.CONFIRMED),
                                         (w.e2, m, Answer.CONFIRMED)], [r1, r2])
    commission(w.centre, D(2025, 7, 1), [(w.e1, p, Answer.CONFIRMED),
                                         (w.e2, m, Answer.DECLINED)], [r3])
    commission(w.centre, D(2025, 8, 1), [(w.e2, p, Answer.CONFIRMED)], [r4],
               status=CommissionStatus.CANCELLED)
    commission(w.centre, D(2024, 6, 1), [(w.e2, p, Answer.CONFIRMED)], [r0])
    commission(w.centre, D(2025, 6, 1), [(e3, p, Answer.CONFIRMED)], [])
    commission(w.other_centre, D(2025, 3, 1), [(eb, p, Answer.CONFIRMED)], [rb])
    return w


TODAY = D(2026, 3, 1)


def figures(w, today=TODAY, **kwargs):
    filters = Filters(start=START, end=END, centre_ids=(w.centre.pk,), today=today, **kwargs)
    return statistics.compute(filters)


# ---------------------------------------------------------------------------
# Each figure, against the hand count
# ---------------------------------------------------------------------------
def test_candidates_registered_in_the_period_by_path(world):
    stats = figures(world)

    assert stats["registered"] == 5
    assert stats["registrations_by_path"] == {
        "salarie": 2, "contrat_pro": 1, "apprentissage": 1, "demandeur_emploi": 0,
        "candidat_libre": 0, "vae": 1}


def test_decisions_in_force_and_success_rates(world):
    decisions = figures(world)["decisions"]

    # The corrected decision counts, not the one it replaced; an unsigned PV does not.
    assert decisions == {"total": 4, "passed": 2, "partial": 1, "failed": 1,
                         "passed_rate": 50.0, "partial_rate": 25.0, "failed_rate": 25.0}


def test_decisions_by_path(world):
    by_path = figures(world)["decisions_by_path"]

    assert (by_path["salarie"]["passed"], by_path["salarie"]["partial"],
            by_path["salarie"]["failed"]) == (2, 1, 0)
    assert by_path["salarie"]["passed_rate"] == 66.7
    assert (by_path["vae"]["total"], by_path["vae"]["failed"]) == (1, 1)
    assert by_path["contrat_pro"]["total"] == 0
    assert by_path["contrat_pro"]["passed_rate"] is None


def test_median_and_90th_percentile_delay_from_registration_to_decision(world):
    stats = figures(world)

    # Delays 129, 151, 191, 198 days: percentile_cont(0.5) = 171, percentile_cont(0.9) = 195.9.
    assert stats["delay_median"] == 171.0
    assert stats["delay_p90"] == 195.9


def test_delay_of_a_single_decision_and_of_none(world):
    assert figures(world, path="vae")["delay_median"] == 198.0
    assert figures(world, path="vae")["delay_p90"] == 198.0
    assert figures(world, path="candidat_libre")["delay_median"] is None


def test_filters_by_path_kind_and_certification(world):
    salaried = figures(world, path="salarie")
    assert (salaried["registered"], salaried["decisions"]["total"]) == (2, 3)

    ccpm = figures(world, kind="CCPM")
    assert (ccpm["registered"], ccpm["decisions"]["total"]) == (1, 0)
    # Juries are filtered by their certifications: S3 only examines the CCPM.
    assert ccpm["juries"]["held"] == 1

    cqpm = figures(world, certification_id=world.cqpm.certification_id)
    assert (cqpm["registered"], cqpm["decisions"]["total"], cqpm["juries"]["held"]) == (4, 4, 2)


def test_breakdown_by_certification(world):
    rows = figures(world)["by_certification"]

    assert [(r["registered"], r["total"], r["passed"]) for r in rows] == [(4, 4, 2), (1, 0, 0)]
    assert rows[0]["label"].startswith("CQPM ")


def test_juries_held_and_cpne_bundles_on_time(world):
    juries = figures(world)["juries"]

    assert juries == {"held": 3, "on_time": 1, "late": 1, "overdue": 1, "pending": 0,
                      "on_time_rate": 33.3}
    # The day of the deadline the bundle is still to send, not overdue.
    assert figures(world, today=D(2026, 2, 28))["juries"]["pending"] == 1


@pytest.mark.parametrize(("sent_on", "on_time"), [
    (D(2026, 2, 28), True), (D(2026, 3, 1), False), (D(2026, 1, 31), True)])
def test_cpne_deadline_clipped_to_the_month_end_as_the_jury_pages_compute_it(
        world, sent_on, on_time):
    JurySession.objects.filter(pk=world.s3.pk).update(cpne_bundle_sent_on=sent_on)

    juries = figures(world, kind="CCPM")["juries"]

    assert (sent_on <= cpne_deadline(world.s3)) is on_time
    assert juries["on_time"] == (1 if on_time else 0)
    assert juries["late"] == (0 if on_time else 1)


def test_evaluator_activity_and_load(world):
    stats = figures(world)

    # C1, C2 and e3's commission (its member is inactive now, the commission was held).
    assert stats["evaluators"] == {"commissions": 3, "candidates": 3, "active": 2,
                                   "sitting": 2}
    # The cancelled commission, the declined convocation, 2024 and the inactive e3 are out.
    assert stats["evaluator_load"] == [
        {"name": "Marc Durand", "commissions": 2, "candidates": 3},
        {"name": "Sophie Martin", "commissions": 1, "candidates": 2},
    ]


def test_habilitations_expiring_within_60_days(db):
    centre = CentreFactory()
    today = timezone.localdate()

    def habilitation(evaluator, days):
        Habilitation.objects.create(evaluator=evaluator, valid_from=today - datetime.timedelta(
            days=400), valid_until=today + datetime.timedelta(days=days))

    expiring = make_evaluator(centre=centre, user__first_name="Anne", user__last_name="Fin")
    habilitation(expiring, 30)
    habilitation(make_evaluator(centre=centre, is_active=False), 10)
    renewed = make_evaluator(centre=centre)
    habilitation(renewed, 20)
    habilitation(renewed, 400)
    habilitation(make_evaluator(centre=centre), 61)
    habilitation(make_evaluator(centre=centre), -1)
    habilitation(make_evaluator(centre=CentreFactory()), 5)

    found = statistics.compute(Filters(start=START, end=END, centre_ids=(centre.pk,)))

    assert found["habilitations"] == {
        "count": 1, "rows": [{"name": "Anne Fin",
                              "valid_until": today + datetime.timedelta(days=30)}]}


def test_declarations_to_the_caisse_des_depots_on_time(world):
    from candidates.models import Registration
    from reporting.models import Award, AwardState

    def award(r, number, *, declared_on=None, state=AwardState.DUE, centre=None):
        decision = Decision.objects.filter(registration=r).order_by("-pk").first()
        Award.objects.create(centre=centre or world.centre, registration=r, decision=decision,
                             id_technique=f"T{number}", state=state,
                             decided_on=D(2025, 6, 10), due_on=D(2025, 6, 25),
                             deadline=D(2025, 9, 10), declared_on=declared_on)

    # The four registrations of A with a decision in force, in registration order.
    r0, r1, r2, r3 = (Registration.objects.filter(
        centre=world.centre, decisions__final_at__isnull=False,
        decisions__superseded_by__isnull=True).distinct().order_by("registered_on"))
    award(r0, 1, declared_on=D(2025, 8, 1), state=AwardState.DECLARED)   # in time
    award(r1, 2, declared_on=D(2025, 9, 11), state=AwardState.DECLARED)  # a day late
    award(r2, 3)                                                          # overdue
    award(r3, 4, state=AwardState.WITHDRAWN)                              # not counted

    declarations = figures(world)["declarations"]

    assert declarations == {"due": 3, "on_time": 1, "late": 1, "overdue": 1, "pending": 0,
                            "on_time_rate": 33.3}
    assert figures(world, today=D(2025, 9, 10))["declarations"]["pending"] == 1


# ---------------------------------------------------------------------------
# The page and who sees it
# ---------------------------------------------------------------------------
def test_staff_see_their_centre_only(client, world):
    client.force_login(world.staff)

    response = client.get(URL, PERIOD)

    assert response.status_code == 200
    stats = response.context["stats"]
    assert (stats["registered"], stats["decisions"]["total"]) == (5, 4)
    assert "centre" not in response.context["form"].fields
    # A centre named in the URL changes nothing for a single-centre staff member.
    other = client.get(URL, {**PERIOD, "centre": world.other_centre.pk})
    assert other.context["stats"]["registered"] == 5
    content = response.content.decode()
    assert 'data-figure="declarations"' in content
    assert 'id="statistics-charts"' in content
    assert 'data-chart="registrations-by-path"' in content


def test_staff_of_another_centre_see_theirs(client, world):
    client.force_login(world.other_staff)

    stats = client.get(URL, PERIOD).context["stats"]

    assert (stats["registered"], stats["decisions"]["total"]) == (1, 1)
    assert stats["juries"]["held"] == 1


def test_staff_of_two_centres_choose_among_theirs_only(client, world):
    from tests.factories import MembershipFactory

    third = CentreFactory(name="UIMM Bretagne")
    MembershipFactory(user=world.staff, centre=world.other_centre, role=Role.STAFF)
    client.force_login(world.staff)

    both = client.get(URL, PERIOD)
    one = client.get(URL, {**PERIOD, "centre": world.other_centre.pk}).context["stats"]
    # A centre that is not theirs is refused by the form and the filter ignored.
    foreign = client.get(URL, {**PERIOD, "centre": third.pk}).context["stats"]

    assert list(both.context["form"].fields["centre"].queryset) == [world.centre,
                                                                    world.other_centre]
    assert both.context["stats"]["registered"] == 6
    assert one["registered"] == 1
    assert foreign["registered"] == 6


def test_national_role_sees_every_centre_and_filters_by_centre(client, world):
    client.force_login(world.national)

    everything = client.get(URL, PERIOD).context["stats"]
    one = client.get(URL, {**PERIOD, "centre": world.other_centre.pk}).context["stats"]

    assert (everything["registered"], everything["decisions"]["total"]) == (6, 5)
    assert everything["juries"]["held"] == 4
    assert (one["registered"], one["decisions"]["total"]) == (1, 1)


@pytest.mark.parametrize("name", ["reporting:statistics", "reporting:statistics_export",
                                  "reporting:annual_report"])
def test_evaluators_and_jury_members_get_404(client, world, name):
    jury_user = member(Role.JURY, centre=world.centre)
    JuryMember.objects.create(user=jury_user, centre=world.centre, college="salaries",
                              organisation="CFDT")
    for user in (world.e1.user, jury_user):
        client.force_login(user)
        assert client.get(reverse(name)).status_code == 404


def test_anonymous_is_sent_to_sign_in(client, world):
    response = client.get(URL)

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_navigation_offers_statistics_to_staff_and_national_only(client, world):
    for user, shown in ((world.staff, True), (world.national, True), (world.e1.user, False)):
        client.force_login(user)
        assert (f'href="{URL}"' in client.get("/").content.decode()) is shown


def test_page_queries_are_bounded_whatever_the_volume(client, world, settings,
                                                      django_assert_max_num_queries):
    # Every visit computes (nothing kept): the figures' own queries are what is bounded.
    settings.STATISTICS = {"CACHE_SECONDS": 0}
    client.force_login(world.staff)
    small = page_queries(client, URL, data=PERIOD, warm=True)
    with django_assert_max_num_queries(25):
        client.get(URL, PERIOD)
    # Five times more of everything the page counts.
    session = JurySession.objects.filter(centre=world.centre).first()
    for index in range(20):
        r = registration(world.centre, world.cqpm, ["salarie", "vae"][index % 2],
                         D(2025, 3, 1 + index))
        decide(session, r, ["admis", "non_admis", "admis_partiel"][index % 3],
               actor=world.staff)
        jury(world.centre, D(2025, 4, 1 + index), sent_on=D(2025, 5, 1))
        make_evaluator(centre=world.centre)

    large = page_queries(client, URL, data=PERIOD)

    assert_flat(small, large)
    with django_assert_max_num_queries(25):
        client.get(URL, PERIOD)
    # Every centre (the national reader) at the larger size too.
    client.force_login(world.national)
    with django_assert_max_num_queries(25):
        assert client.get(URL, PERIOD).status_code == 200


def one_more_decision(world):
    """One more decision in force in PERIOD, at the world's centre."""
    session = JurySession.objects.filter(centre=world.centre).first()
    decide(session, registration(world.centre, world.cqpm, "salarie", D(2025, 2, 1)),
           "admis", actor=world.staff)


def test_figures_are_kept_a_while_then_recomputed_on_demand(client, world, settings,
                                                             django_assert_max_num_queries):
    settings.STATISTICS = {"CACHE_SECONDS": 300}
    client.force_login(world.staff)
    first = client.get(URL, PERIOD)
    before = first.context["stats"]["decisions"]["total"]
    shown = first.context["stats"]["computed_at"]
    page = first.content.decode()
    assert "Chiffres calculés le" in page and "conservés 5 min" in page
    assert "recalculer=1" in page
    one_more_decision(world)
    # Kept: the second visit reads the figures without their queries, as they were.
    with django_assert_max_num_queries(8):
        again = client.get(URL, PERIOD)
    assert again.context["stats"]["decisions"]["total"] == before
    assert again.context["stats"]["computed_at"] == shown
    # « Recalculer maintenant » computes afresh, and keeps that.
    fresh = client.get(URL, {**PERIOD, "recalculer": "1"})
    assert fresh.context["stats"]["decisions"]["total"] == before + 1
    assert client.get(URL, PERIOD).context["stats"]["decisions"]["total"] == before + 1
    # Another filter is another set of figures.
    half = client.get(URL, {**PERIOD, "end": "2025-06-30"}).context["stats"]
    assert half["filters"].end == D(2025, 6, 30) and half["computed_at"] > shown


def test_with_no_keeping_every_visit_computes(client, world, settings):
    settings.STATISTICS = {"CACHE_SECONDS": 0}
    client.force_login(world.staff)
    before = client.get(URL, PERIOD).context["stats"]["decisions"]["total"]
    one_more_decision(world)
    response = client.get(URL, PERIOD)
    assert response.context["stats"]["decisions"]["total"] == before + 1
    assert "conservés" not in response.content.decode()


def test_exports_are_computed_afresh_even_when_the_page_kept_its_figures(client, world,
                                                                        settings):
    settings.STATISTICS = {"CACHE_SECONDS": 300}
    client.force_login(world.staff)
    before = client.get(URL, PERIOD).context["stats"]["decisions"]["total"]
    one_more_decision(world)
    response = client.get(reverse("reporting:statistics_export"), {**PERIOD, "format": "csv"})
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    values = {row[1]: row[2] for row in rows[1:]}
    assert values["Décisions"] == str(before + 1)


# ---------------------------------------------------------------------------
# Exports and the annual report
# ---------------------------------------------------------------------------
def test_csv_export_holds_the_figures_and_is_safe_against_formulas(client, world):
    user = world.e1.user
    user.first_name = "=SOMME(A1:A9)"
    user.save()
    client.force_login(world.staff)

    response = client.get(reverse("reporting:statistics_export"), {**PERIOD, "format": "csv"})

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    values = {row[1]: row[2] for row in rows[1:]}
    assert values["Candidats inscrits"] == "5"
    assert values["Admis"] == "2"
    assert values["Délai médian inscription → décision (jours)"] == "171.0"
    assert values["Jurys tenus"] == "3"
    assert values["Déclarations envoyées dans le délai"] == "0"
    load = [row[1] for row in rows if "SOMME" in row[1]]
    assert load and all(not label.startswith("=") for label in load)


def test_xlsx_export(client, world):
    client.force_login(world.staff)

    response = client.get(reverse("reporting:statistics_export"), {**PERIOD, "format": "xlsx"})

    sheet = load_workbook(io.BytesIO(response.content)).active
    values = {row[1]: row[2] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert values["Candidats inscrits"] == 5
    assert values["Non admis"] == 1
    assert values["Taux de réussite complète (%)"] == 50.0


def test_svg_chart_escapes_labels():
    svg = bar_chart_svg({"id": "x", "title": 'Titre "cité"', "labels": ["<b>A&B</b>"],
                         "datasets": [{"label": "Inscrits", "data": [3]}]})

    assert "&lt;b&gt;A&amp;B&lt;/b&gt;" in svg
    assert "&quot;cité&quot;" in svg
    assert svg.count("<rect") == 2  # the legend's square and the bar


@pytest.mark.slow
def test_annual_report_pdf_holds_the_figures(client, world):
    client.force_login(world.staff)

    response = client.get(reverse("reporting:annual_report"), PERIOD)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    text = " ".join(text.split())
    assert "Rapport annuel d'activité" in text or "Rapport annuel d’activité" in text
    assert "UIMM Loire-Atlantique" in text
    assert "UIMM Rhône" not in text
    assert "171.0 jours" in text or "171,0 jours" in text
    assert "Candidats inscrits par parcours" in text
    assert "Déclarations à la Caisse des Dépôts" in text
