"""The jury paritaire pages and rules (DOMAIN.md §6, issue 6): who sees and acts on a session,
quorum and parity, the proposal for each kind of certification, the motive when the jury
departs from it, finality and correction, abstentions, the 15-day invitations, the candidates
a jury may examine, and fixed query counts on the session page and the synthesis."""

import datetime
import html
import re

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from candidates.models import (
    Outcome,
    RegistrationEvent,
    RegistrationState,
    TrainingOrganisation,
    TrainingRecord,
)
from certifications.models import CertificationStatus, Role
from commissions import juries
from commissions.models import (
    College,
    JuryMember,
    JurySession,
    SessionCandidate,
    SessionStatus,
    UnionInvitation,
)
from evaluations import deliberation, services
from evaluations.models import Decision, DecisionLocked, Minutes
from tests.evaluations.conftest import PASSWORD, fill_grid, sign
from tests.factories import (
    CentreFactory,
    build_version,
    make_commission,
    make_evaluator,
    make_ready,
    make_registration,
    make_siret,
    member,
    siret_of_siren,
)

pytestmark = pytest.mark.django_db


# ---------------------------------------------------------------------------
# Builders: every write goes through the services, as the pages do
# ---------------------------------------------------------------------------
def jury_member(centre, college, organisation, username, *, siret=""):
    user = member(Role.JURY, centre=centre, username=username)
    return JuryMember.objects.create(
        user=user, centre=centre, college=college, organisation=organisation,
        employer_name=f"Employeur de {username}",
        employer_siret=siret or make_siret(700_000 + len(username) * 31 + sum(map(ord, username))))


def evaluate(registrations, *, evaluators, actor, non_mastered=()):
    """One commission for ``registrations``; every grid filled (``non_mastered`` competences
    not mastered), submitted and signed by both members: the registrations become évalué."""
    commission = make_commission(
        centre=registrations[0].centre,
        certifications=list({r.version.certification for r in registrations}),
        actor=actor, members=evaluators, registrations=registrations, confirm=True)
    for scheduled in commission.scheduled.all():
        grid = services.ensure_grid(scheduled=scheduled, actor=actor)
        fill_grid(grid, evaluators[0].user, non_mastered=set(non_mastered))
        services.submit_for_signature(grid=grid, actor=evaluators[0].user)
        for commission_member in commission.members.all():
            sign(grid, commission_member)
    for registration in registrations:
        registration.refresh_from_db()
        assert registration.state == RegistrationState.EVALUE
    return registrations


def new_registrations(count, *, centre, version, staff):
    return [make_ready(make_registration(centre=centre, version=version, actor=staff),
                       actor=staff) for _ in range(count)]


@pytest.fixture
def jury(centre):
    """Two employer members (the president first) and the CFDT and CGT members."""
    return {
        "president": jury_member(centre, College.EMPLOYERS, "UIMM", "helene.roux"),
        "employer": jury_member(centre, College.EMPLOYERS, "UIMM", "paul.lefevre"),
        "cfdt": jury_member(centre, College.EMPLOYEES, "CFDT", "nadia.cherif"),
        "cgt": jury_member(centre, College.EMPLOYEES, "CGT", "thomas.bernard"),
    }


@pytest.fixture
def session(centre, certification, jury, staff):
    session = JurySession.objects.create(
        centre=centre, date=timezone.localdate() + datetime.timedelta(days=20),
        start_time=datetime.time(14, 0), place="UIMM, salle du conseil, Nantes",
        created_by=staff)
    session.certifications.set([certification])
    juries.add_seat(session=session, member=jury["president"], president=True)
    for key in ("employer", "cfdt", "cgt"):
        juries.add_seat(session=session, member=jury[key])
    return session


@pytest.fixture
def evaluators(president, assessor):
    return [president, assessor]


@pytest.fixture
def candidates(centre, version, staff, evaluators, session):
    """Two évalué candidates in the session: the first with C2 not mastered."""
    first, second = new_registrations(2, centre=centre, version=version, staff=staff)
    evaluate([first], evaluators=evaluators, actor=staff, non_mastered={"C2"})
    evaluate([second], evaluators=evaluators, actor=staff)
    return [juries.add_candidate(session=session, registration=r) for r in (first, second)]


def record_all_present(session, *, absent=()):
    for seat in session.seats.select_related("member"):
        juries.record_presence(seat=seat, present=seat.member.user.username not in absent)


@pytest.fixture
def opened(session, candidates):
    record_all_present(session)
    return juries.open_session(session=session)


def text(response) -> str:
    """The page as a person reads it (entities such as ' unescaped)."""
    return html.unescape(response.content.decode())


def url(name, *args):
    return reverse(f"juries:{name}", args=args)


def login(client, user):
    client.force_login(user)
    return client


def decision_data(outcome, *, blocs=(), motive="", conform=True, conditions=True):
    data = {"outcome": outcome, "acquired_blocs": list(blocs), "motive": motive}
    if conform:
        data["evaluation_conform"] = "on"
    if conditions:
        data["admission_conditions_met"] = "on"
    return data


def decide_all_as_proposed(session, actor):
    for candidate in session.candidates.select_related("registration"):
        proposal = deliberation.propose(candidate.registration)
        deliberation.record_decision(
            session_candidate=candidate, actor=actor, outcome=proposal.outcome,
            acquired_blocs=proposal.acquired_blocs, evaluation_conform=True,
            admission_conditions_met=proposal.outcome == "admis")


# ---------------------------------------------------------------------------
# Permissions (DESIGN.md §2: who may not see gets a 404)
# ---------------------------------------------------------------------------
def test_anonymous_is_sent_to_login(client, session, candidates):
    for target in (url("session_list"), url("session_detail", session.pk),
                   url("synthesis", session.pk, candidates[0].pk), url("my_sessions")):
        response = client.get(target)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


def test_evaluators_get_404_even_on_their_own_candidates(client, session, candidates,
                                                         president):
    login(client, president.user)
    for target in (url("session_list"), url("my_sessions"), url("session_detail", session.pk),
                   url("synthesis", session.pk, candidates[0].pk),
                   url("session_compose", session.pk)):
        assert client.get(target).status_code == 404


def test_jury_member_of_another_session_gets_404(client, centre, certification, session,
                                                 candidates):
    other = JurySession.objects.create(centre=centre, date=session.date, place="Ailleurs",
                                       start_time=datetime.time(9, 0))
    other.certifications.set([certification])
    outsider = jury_member(centre, College.EMPLOYERS, "UIMM", "autre.jure")
    juries.add_seat(session=other, member=outsider, president=True)
    login(client, outsider.user)
    assert client.get(url("session_detail", other.pk)).status_code == 200
    assert client.get(url("session_detail", session.pk)).status_code == 404
    assert client.get(url("synthesis", session.pk, candidates[0].pk)).status_code == 404
    # A candidate of another session under this session's address: 404 too.
    assert client.get(url("synthesis", other.pk, candidates[0].pk)).status_code == 404


def test_staff_of_another_centre_gets_404(client, session, candidates):
    outsider = member(Role.STAFF, centre=CentreFactory(), username="gestion.bretagne")
    login(client, outsider)
    for target in (url("session_detail", session.pk), url("session_compose", session.pk),
                   url("synthesis", session.pk, candidates[0].pk)):
        assert client.get(target).status_code == 404
    assert client.post(url("cpne_sent", session.pk)).status_code == 404
    response = client.get(url("session_list"))
    assert response.status_code == 200
    assert url("session_detail", session.pk) not in text(response)


def test_jury_members_read_the_session_and_land_on_their_sessions(client, session, candidates,
                                                                  jury):
    login(client, jury["cgt"].user)
    assert client.get(url("session_list")).url == url("my_sessions")
    page = text(client.get(url("my_sessions")))
    assert url("session_detail", session.pk) in page
    assert client.get(url("session_detail", session.pk)).status_code == 200
    assert client.get(url("synthesis", session.pk, candidates[0].pk)).status_code == 200
    # Composition is staff work.
    assert client.get(url("session_compose", session.pk)).status_code == 404
    dashboard = text(client.get(reverse("dashboard")))
    assert url("session_detail", session.pk) in dashboard


def test_non_president_cannot_decide_record_presence_open_or_sign(client, opened, candidates,
                                                                  jury):
    login(client, jury["employer"].user)
    response = client.get(url("synthesis", opened.pk, candidates[1].pk))
    assert 'id="decision-form"' not in text(response)
    response = client.post(url("decide", opened.pk, candidates[1].pk), decision_data("admis"))
    assert response.status_code == 403
    assert not Decision.objects.exists()
    seat = opened.seats.get(member=jury["cfdt"])
    response = client.post(url("record_presence", opened.pk), {f"seat_{seat.pk}": "absent"})
    assert response.status_code == 403
    seat.refresh_from_db()
    assert seat.present is True
    assert client.get(url("sign_minutes", opened.pk)).status_code == 403
    assert client.post(url("sign_minutes", opened.pk),
                       {"consent": "on", "password": PASSWORD}).status_code == 403
    assert not Minutes.objects.exists()


def test_staff_decide_but_only_the_president_signs(client, opened, candidates, staff):
    login(client, staff)
    response = client.post(url("decide", opened.pk, candidates[1].pk), decision_data("admis"))
    assert response.status_code == 302
    assert Decision.objects.get().outcome == "admis"
    assert client.get(url("sign_minutes", opened.pk)).status_code == 403


# ---------------------------------------------------------------------------
# Presence, quorum and parity
# ---------------------------------------------------------------------------
def test_session_opens_only_with_every_presence_recorded(client, session, candidates, jury):
    login(client, jury["president"].user)
    response = client.post(url("open_session", session.pk), follow=True)
    assert "Indiquez la présence ou l'absence de chaque membre." in text(response)
    session.refresh_from_db()
    assert session.status == SessionStatus.PLANNED


def test_president_records_presence_and_opens(client, session, candidates, jury):
    login(client, jury["president"].user)
    seats = list(session.seats.all())
    data = {f"seat_{seat.pk}": "present" for seat in seats}
    assert client.post(url("record_presence", session.pk), data).status_code == 302
    assert all(seat.present for seat in session.seats.all())
    response = client.post(url("open_session", session.pk), follow=True)
    assert "La délibération est ouverte." in text(response)
    session.refresh_from_db()
    assert session.status == SessionStatus.OPEN
    assert session.opened_at is not None


def test_absent_member_is_recorded_and_shown(client, session, candidates, jury):
    record_all_present(session, absent={"nadia.cherif"})
    seat = session.seats.get(member=jury["cfdt"])
    assert seat.present is False
    assert seat.presence_recorded_at is not None
    login(client, jury["president"].user)
    page = text(client.get(url("session_detail", session.pk)))
    row = re.search(rf'data-testid="seat-{seat.pk}".*?</tr>', page, re.S).group(0)
    assert "Absent" in row
    # One employee member for two employers: strict parity refuses to open.
    assert "La parité n'est pas respectée : 2 employeur(s) pour 1 salarié(s)." in page


def test_minimum_per_college_and_president_present(session, candidates):
    record_all_present(session, absent={"nadia.cherif", "thomas.bernard"})
    with pytest.raises(juries.JuryRuleError) as refused:
        juries.open_session(session=session)
    assert any("Collège salariés : 0 membre(s) délibérant(s)" in m
               for m in refused.value.messages)
    record_all_present(session, absent={"helene.roux", "nadia.cherif"})
    with pytest.raises(juries.JuryRuleError) as refused:
        juries.open_session(session=session)
    assert "Le président du jury n'est pas présent (ou s'abstient)." in refused.value.messages


def test_strict_parity_is_a_setting(settings, session, candidates):
    record_all_present(session, absent={"nadia.cherif"})
    with pytest.raises(juries.JuryRuleError) as refused:
        juries.open_session(session=session)
    assert "La parité n'est pas respectée : 2 employeur(s) pour 1 salarié(s)." in (
        refused.value.messages)
    settings.JURIES = {**settings.JURIES, "STRICT_PARITY": False}
    assert juries.open_session(session=session).status == SessionStatus.OPEN


def test_minimum_per_college_is_a_setting(settings, session, candidates):
    settings.JURIES = {**settings.JURIES, "MIN_PER_COLLEGE": 2}
    record_all_present(session)
    assert juries.open_session(session=session).status == SessionStatus.OPEN
    settings.JURIES = {**settings.JURIES, "MIN_PER_COLLEGE": 3}
    president = session.seats.get(is_president=True).member.user
    with pytest.raises(juries.JuryRuleError) as refused:
        deliberation.record_decision(
            session_candidate=candidates[1], actor=president, outcome="admis",
            acquired_blocs=[], evaluation_conform=True, admission_conditions_met=True)
    assert "Collège employeurs : 2 membre(s) délibérant(s), il en faut au moins 3." in (
        refused.value.messages)
    assert not Decision.objects.exists()


def test_a_session_that_loses_its_quorum_cannot_decide(client, opened, candidates, jury):
    login(client, jury["president"].user)
    seats = {seat.member_id: seat for seat in opened.seats.all()}
    data = {f"seat_{seat.pk}": "present" for seat in seats.values()}
    data[f"seat_{seats[jury['cfdt'].pk].pk}"] = "absent"
    data[f"seat_{seats[jury['cgt'].pk].pk}"] = "absent"
    client.post(url("record_presence", opened.pk), data)
    response = client.post(url("decide", opened.pk, candidates[1].pk), decision_data("admis"))
    assert response.status_code == 400
    assert "Collège salariés : 0 membre(s) délibérant(s)" in text(response)
    assert not Decision.objects.exists()
    with pytest.raises(juries.JuryRuleError):
        deliberation.record_decision(
            session_candidate=candidates[1], actor=jury["president"].user, outcome="admis",
            acquired_blocs=[], evaluation_conform=True, admission_conditions_met=True)
    assert not Decision.objects.exists()


# ---------------------------------------------------------------------------
# Impartiality of jury members: abstention, parity on those who deliberate
# ---------------------------------------------------------------------------
def test_linked_member_abstains_and_parity_counts_those_who_deliberate(
        client, settings, session, candidates, jury):
    registration = candidates[1].registration
    siren = registration.company.siren
    JuryMember.objects.filter(pk=jury["employer"].pk).update(
        employer_siret=siret_of_siren(siren, 7))
    record_all_present(session)
    juries.open_session(session=session)
    # 1 employer deliberates for 2 employees: strict parity refuses this candidate only.
    with pytest.raises(juries.JuryRuleError) as refused:
        deliberation.record_decision(
            session_candidate=candidates[1], actor=jury["president"].user, outcome="admis",
            acquired_blocs=[], evaluation_conform=True, admission_conditions_met=True)
    assert "La parité n'est pas respectée : 1 employeur(s) pour 2 salarié(s)." in (
        refused.value.messages)
    assert not Decision.objects.exists()
    # An employee member linked to the same company abstains too: 1 for 1, parity holds.
    JuryMember.objects.filter(pk=jury["cgt"].pk).update(employer_siret=siret_of_siren(siren, 9))
    decision = deliberation.record_decision(
        session_candidate=candidates[1], actor=jury["president"].user, outcome="admis",
        acquired_blocs=[], evaluation_conform=True, admission_conditions_met=True)
    assert sorted(decision.deliberating) == sorted([str(jury["president"]), str(jury["cfdt"])])
    assert sorted(a["member"] for a in decision.abstentions) == sorted(
        [str(jury["employer"]), str(jury["cgt"])])
    assert decision.abstentions[0]["reasons"] == ["même entreprise que le candidat"]
    login(client, jury["president"].user)
    page = text(client.get(url("synthesis", session.pk, candidates[1].pk)))
    assert f"{jury['employer']} s'abstient : même entreprise que le candidat" in page


# ---------------------------------------------------------------------------
# Proposal (art. 55.3) for each kind
# ---------------------------------------------------------------------------
def evaluated_of_kind(kind, *, centre, staff, non_mastered=(), blocs=2):
    version = build_version(kind=kind, blocs=blocs)
    evaluators = [make_evaluator(centre=centre, certifications=[version.certification])
                  for _ in range(2)]
    registration = new_registrations(1, centre=centre, version=version, staff=staff)
    return evaluate(registration, evaluators=evaluators, actor=staff,
                    non_mastered=non_mastered)[0]


def test_full_cqpm_all_mastered_is_proposed_admis(centre, staff):
    registration = evaluated_of_kind("CQPM", centre=centre, staff=staff)
    proposal = deliberation.propose(registration)
    assert (proposal.outcome, proposal.acquired_blocs) == ("admis", ["B1", "B2"])


def test_cqpm_with_one_competence_not_mastered_is_partial_with_the_other_bloc(centre, staff):
    registration = evaluated_of_kind("CQPM", centre=centre, staff=staff, non_mastered={"C2"})
    proposal = deliberation.propose(registration)
    assert (proposal.outcome, proposal.acquired_blocs) == ("admis_partiel", ["B2"])
    assert proposal.mastered == {"C1": True, "C2": False, "C3": True, "C4": True}


def test_bloc_not_all_mastered_is_non_admis(centre, staff):
    registration = evaluated_of_kind("BLOC", centre=centre, staff=staff, blocs=1,
                                     non_mastered={"C1"})
    proposal = deliberation.propose(registration)
    assert (proposal.outcome, proposal.acquired_blocs) == ("non_admis", [])


def test_ccpm_not_all_mastered_is_non_admis_and_all_mastered_admis(centre, staff):
    failed = evaluated_of_kind("CCPM", centre=centre, staff=staff, non_mastered={"C2"})
    assert deliberation.propose(failed).outcome == "non_admis"
    passed = evaluated_of_kind("CCPM", centre=centre, staff=staff)
    assert (deliberation.propose(passed).outcome,
            deliberation.propose(passed).acquired_blocs) == ("admis", [])


def test_session_page_shows_proposal_and_conformity_and_sorts(client, session, candidates,
                                                              staff):
    login(client, staff)
    page = text(client.get(url("session_detail", session.pk) + "?tri=proposition"))
    first, second = (c.registration for c in candidates)
    # admis before admis_partiel
    assert page.index(second.candidate.full_name) < page.index(first.candidate.full_name)
    row = re.search(rf'data-testid="row-{first.reference}".*?</tr>', page, re.S).group(0)
    assert 'data-outcome="admis_partiel"' in row and "B2" in row
    # The tutors gave no avis: the conformity check shows it in red.
    assert "1 point non conforme" in row
    page = text(client.get(url("session_detail", session.pk) + "?tri=-proposition"))
    assert page.index(first.candidate.full_name) < page.index(second.candidate.full_name)
    assert 'aria-sort="descending"' in page


def test_synthesis_shows_levels_comments_modalities_and_red_checks(client, session, candidates,
                                                                   jury):
    login(client, jury["cfdt"].user)
    page = text(client.get(url("synthesis", session.pk, candidates[0].pk)))
    registration = candidates[0].registration
    assert registration.candidate.full_name in page
    assert f"version {registration.version.label}" in page
    assert "Non maîtrisée en toute autonomie" in page
    assert "sans l'aide du tuteur" in page  # the commission's comment on C2
    assert "Critères visés" in page and "C2.1" in page
    assert "Avis requis, non reçu." in page
    assert "L'avis de l'entreprise manque." in page
    assert 'data-ok="false"' in page and 'data-ok="true"' in page


# ---------------------------------------------------------------------------
# Decisions: motive, finality, correction
# ---------------------------------------------------------------------------
def test_decision_against_the_proposal_requires_a_motive(client, opened, candidates, jury):
    login(client, jury["president"].user)
    target = url("decide", opened.pk, candidates[1].pk)
    response = client.post(target, decision_data("non_admis"))
    assert response.status_code == 400
    assert "Le jury s'écarte de la proposition (admis) : un motif écrit est obligatoire." in (
        text(response))
    assert not Decision.objects.exists()
    response = client.post(target, decision_data(
        "non_admis", motive="Fraude établie après la commission : évaluation à reprendre."))
    assert response.status_code == 302
    decision = Decision.objects.get()
    assert (decision.outcome, decision.proposed_outcome) == ("non_admis", "admis")
    assert decision.motive.startswith("Fraude établie")


def test_partial_decision_records_the_blocs(client, opened, candidates, jury):
    login(client, jury["president"].user)
    response = client.post(url("decide", opened.pk, candidates[0].pk),
                           decision_data("admis_partiel", blocs=["B2"], conditions=False))
    assert response.status_code == 302
    decision = Decision.objects.get()
    assert (decision.outcome, decision.acquired_blocs, decision.motive) == (
        "admis_partiel", ["B2"], "")
    assert decision.evaluation_conform is True
    assert decision.admission_conditions_met is False


def test_sign_minutes_closes_and_decisions_become_final(client, opened, candidates, jury,
                                                        media_root):
    president = jury["president"].user
    decide_all_as_proposed(opened, president)
    login(client, president)
    response = client.post(url("sign_minutes", opened.pk),
                           {"consent": "on", "password": "mauvais"})
    assert "Mot de passe incorrect : le PV n'est pas signé." in text(response)
    response = client.post(url("sign_minutes", opened.pk), {"consent": "on",
                                                             "password": PASSWORD})
    assert response.status_code == 302
    opened.refresh_from_db()
    assert opened.status == SessionStatus.CLOSED
    minutes = Minutes.objects.get(session=opened)
    assert minutes.signed_by == president
    first, second = (c.registration for c in candidates)
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.state, first.outcome) == (RegistrationState.DELIBERE, Outcome.PARTIAL)
    assert (second.state, second.outcome) == (RegistrationState.DELIBERE, Outcome.PASSED)
    decision = Decision.objects.get(session_candidate=candidates[1])
    assert decision.is_final
    decision.outcome = "non_admis"
    with pytest.raises(DecisionLocked):
        decision.save()
    # Decisions are no longer recorded once the PV is signed.
    response = client.post(url("decide", opened.pk, candidates[1].pk), decision_data("admis"),
                           follow=True)
    assert "La session doit être ouverte pour délibérer." in text(response)
    assert Decision.objects.filter(session_candidate=candidates[1]).count() == 1


def test_correction_is_a_new_linked_decision_with_a_timeline_row(client, opened, candidates,
                                                                 jury, media_root):
    president = jury["president"].user
    decide_all_as_proposed(opened, president)
    deliberation.sign_minutes(session=opened, actor=president, password=PASSWORD)
    login(client, president)
    page = text(client.get(url("synthesis", opened.pk, candidates[0].pk)))
    assert 'id="correction-form"' in page and 'id="decision-form"' not in page
    target = url("correct", opened.pk, candidates[0].pk)
    response = client.post(target, {"outcome": "admis", "reason": ""})
    assert response.status_code == 400
    assert "Indiquez le motif de la correction." in text(response)
    response = client.post(target, {
        "outcome": "admis", "reason": "Erreur de report : C2 était maîtrisée sur la grille."})
    assert response.status_code == 302
    original, correction = Decision.objects.filter(
        session_candidate=candidates[0]).order_by("pk")
    assert correction.supersedes == original
    assert (original.outcome, correction.outcome) == ("admis_partiel", "admis")
    assert correction.acquired_blocs == ["B1", "B2"]
    assert correction.is_final
    registration = candidates[0].registration
    registration.refresh_from_db()
    assert registration.outcome == Outcome.PASSED
    event = registration.events.filter(kind=RegistrationEvent.Kind.TRANSITION).last()
    assert "Décision corrigée" in event.message and "Erreur de report" in event.message
    # The synthesis shows the correction as the current decision, the original in the history.
    page = text(client.get(url("synthesis", opened.pk, candidates[0].pk)))
    current = re.search(r'data-testid="current-decision">(.*?)</p>', page, re.S).group(1)
    assert "Admis" in current and "Validation partielle" not in current
    history = re.search(r'data-testid="decision-history">(.*?)</ul>', page, re.S).group(1)
    assert "Validation partielle" in history and "Erreur de report" in history
    # A corrected decision is not corrected twice.
    with pytest.raises(DecisionLocked):
        deliberation.correct_decision(decision=original, actor=president, outcome="non_admis",
                                      acquired_blocs=[], reason="Encore")


# ---------------------------------------------------------------------------
# Convening: invitations, candidates, convocation warning
# ---------------------------------------------------------------------------
def invitation_data(**overrides):
    data = {"action": "invite", "email_cfdt": "jurys@cfdt.example",
            "email_cfe_cgc": "jurys@cfecgc.example", "email_cgt": "jurys@cgt.example",
            "email_cgt_fo": "jurys@fo.example"}
    data.update(overrides)
    return data


def test_union_invitation_less_than_15_days_ahead_is_refused_with_the_reason(
        client, session, staff):
    JurySession.objects.filter(pk=session.pk).update(
        date=timezone.localdate() + datetime.timedelta(days=10))
    login(client, staff)
    response = client.post(url("session_compose", session.pk), invitation_data())
    assert response.status_code == 200
    assert ("Les organisations syndicales doivent être invitées au moins 15 jours calendaires "
            "avant le jury : il n'en reste que 10.") in text(response)
    assert not UnionInvitation.objects.exists()
    assert mail.outbox == []


def test_union_invitations_are_sent_and_designations_recorded(
        client, centre, session, staff, django_capture_on_commit_callbacks):
    login(client, staff)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url("session_compose", session.pk), invitation_data())
    assert response.status_code == 302
    invitations = {i.organisation: i for i in UnionInvitation.objects.all()}
    assert sorted(invitations) == ["CFDT", "CFE-CGC", "CGT", "CGT-FO"]
    assert all(i.sent_at for i in invitations.values())
    assert len(mail.outbox) == 4
    designated = jury_member(centre, College.EMPLOYEES, "CFE-CGC", "cadre.cgc")
    invitation = invitations["CFE-CGC"]
    response = client.post(url("session_compose", session.pk), {
        "action": "designate", "invitation": invitation.pk,
        f"inv{invitation.pk}-member": designated.pk})
    assert response.status_code == 302
    invitation.refresh_from_db()
    assert invitation.designated == designated
    assert session.seats.filter(member=designated).exists()


def test_add_candidate_refuses_a_registration_not_evalue(client, session, registration, staff):
    login(client, staff)
    response = client.post(url("session_compose", session.pk),
                           {"action": "add_candidate", "registration": registration.pk},
                           follow=True)
    assert f"{registration.reference} n'est pas évalué" in text(response)
    assert not SessionCandidate.objects.exists()
    with pytest.raises(juries.JuryRuleError):
        juries.add_candidate(session=session, registration=registration)


def test_ready_candidates_are_offered_and_added(client, centre, version, session, staff,
                                                evaluators):
    registration = evaluate(new_registrations(1, centre=centre, version=version, staff=staff),
                            evaluators=evaluators, actor=staff)[0]
    login(client, staff)
    page = text(client.get(url("session_compose", session.pk)))
    assert f'data-testid="ready-{registration.pk}"' in page
    overview = text(client.get(url("session_list")))
    assert "1 candidat évalué attend un jury" in overview
    client.post(url("session_compose", session.pk),
                {"action": "add_candidate", "registration": registration.pk})
    assert session.candidates.filter(registration=registration).exists()
    page = text(client.get(url("session_compose", session.pk)))
    assert f'data-testid="ready-{registration.pk}"' not in page


def test_president_from_the_employers_only(client, centre, session, staff):
    other = JurySession.objects.create(centre=centre, date=session.date, place="Nantes",
                                       start_time=datetime.time(9, 0))
    login(client, staff)
    employee = jury_member(centre, College.EMPLOYEES, "CGT-FO", "delegue.fo")
    response = client.post(url("session_compose", other.pk),
                           {"action": "add_seat", "member": employee.pk, "president": "on"})
    assert "Le jury est présidé par un membre de la délégation employeurs." in (
        text(response))
    assert not other.seats.exists()


def test_convocation_warning_when_less_than_8_days(client, session, staff):
    login(client, staff)
    page = text(client.get(url("session_compose", session.pk)))
    assert 'data-testid="convocation-warning"' not in page
    JurySession.objects.filter(pk=session.pk).update(
        date=timezone.localdate() + datetime.timedelta(days=5))
    page = text(client.get(url("session_compose", session.pk)))
    assert ("cette convocation laisse 5 jours aux membres salariés, moins que les 8 jours de "
            "prévenance") in page


def test_staff_create_a_session(client, certification, staff):
    certification.status = CertificationStatus.PUBLISHED
    certification.save()
    login(client, staff)
    response = client.post(url("session_create"), {
        "date": (timezone.localdate() + datetime.timedelta(days=30)).isoformat(),
        "start_time": "14:00", "place": "UIMM, Nantes", "certifications": [certification.pk]})
    session = JurySession.objects.get()
    assert response.url == url("session_compose", session.pk)
    assert session.created_by == staff and session.status == SessionStatus.PLANNED


# ---------------------------------------------------------------------------
# Staff overview and CPNE bundle
# ---------------------------------------------------------------------------
def test_overview_shows_outcomes_and_cpne_deadline_until_sent(client, opened, candidates,
                                                             jury, staff, media_root):
    decide_all_as_proposed(opened, jury["president"].user)
    deliberation.sign_minutes(session=opened, actor=jury["president"].user, password=PASSWORD)
    JurySession.objects.filter(pk=opened.pk).update(
        date=timezone.localdate() - datetime.timedelta(days=100))
    login(client, staff)
    page = text(client.get(url("session_list")))
    assert f'data-testid="cpne-{opened.pk}" data-overdue="true"' in page
    outcomes = re.search(r'data-testid="outcomes".*?</table>', page, re.S).group(0)
    code = candidates[0].registration.version.certification.code
    assert re.search(rf"{code}</th><td[^>]*>1</td><td[^>]*>1</td><td[^>]*>0</td>", outcomes)
    client.post(url("cpne_sent", opened.pk))
    opened.refresh_from_db()
    assert opened.cpne_bundle_sent_on == timezone.localdate()
    page = text(client.get(url("session_list")))
    assert f'data-testid="cpne-{opened.pk}"' not in page


# ---------------------------------------------------------------------------
# Planned reads (STYLE.md §9)
# ---------------------------------------------------------------------------
def test_session_page_query_count_does_not_grow_with_candidates(
        client, centre, staff, jury, django_assert_max_num_queries):
    version = build_version(blocs=2, competences=1, criteria=1)
    evaluators = [make_evaluator(centre=centre, certifications=[version.certification])
                  for _ in range(2)]

    def session_with(count):
        session = JurySession.objects.create(
            centre=centre, date=timezone.localdate() + datetime.timedelta(days=20),
            start_time=datetime.time(9, 0), place="Nantes")
        session.certifications.set([version.certification])
        registrations = evaluate(new_registrations(count, centre=centre, version=version,
                                                   staff=staff),
                                 evaluators=evaluators, actor=staff)
        for registration in registrations:
            juries.add_candidate(session=session, registration=registration)
        juries.add_seat(session=session, member=jury["president"], president=True)
        juries.add_seat(session=session, member=jury["cfdt"])
        record_all_present(session)
        return session

    small, large = session_with(2), session_with(20)
    login(client, jury["president"].user)
    with django_assert_max_num_queries(30) as captured:
        assert client.get(url("session_detail", small.pk)).status_code == 200
    with django_assert_max_num_queries(len(captured.captured_queries)):
        response = client.get(url("session_detail", large.pk))
    assert text(response).count('data-testid="row-') == 20
    first = large.candidates.order_by("pk").first()
    with django_assert_max_num_queries(40) as synthesis_queries:
        assert client.get(url("synthesis", large.pk, first.pk)).status_code == 200
    staff_client = client.__class__()
    login(staff_client, staff)
    with django_assert_max_num_queries(20):
        assert staff_client.get(url("session_list")).status_code == 200
    assert len(synthesis_queries.captured_queries) > 0


def test_synthesis_query_count_does_not_grow_with_the_referential(
        client, centre, staff, jury, django_assert_max_num_queries):
    counts = []
    for blocs, competences in ((1, 1), (3, 4)):
        version = build_version(blocs=blocs, competences=competences, criteria=2)
        evaluators = [make_evaluator(centre=centre, certifications=[version.certification])
                      for _ in range(2)]
        session = JurySession.objects.create(
            centre=centre, date=timezone.localdate() + datetime.timedelta(days=20),
            start_time=datetime.time(9, 0), place="Nantes")
        session.certifications.set([version.certification])
        registration = evaluate(new_registrations(1, centre=centre, version=version,
                                                  staff=staff),
                                evaluators=evaluators, actor=staff, non_mastered={"C1"})[0]
        candidate = juries.add_candidate(session=session, registration=registration)
        juries.add_seat(session=session, member=jury["president"], president=True)
        login(client, jury["president"].user)
        with django_assert_max_num_queries(40) as captured:
            assert client.get(url("synthesis", session.pk, candidate.pk)).status_code == 200
        counts.append(len(captured.captured_queries))
    assert counts[0] == counts[1]


def test_synthesis_query_count_does_not_depend_on_the_dossier(
        client, opened, candidates, jury, django_assert_max_num_queries):
    """Trainings (each naming its competences), a decision and the history of decisions do
    not add queries: the richest synthesis stays within issue 7's budget (25, counted by the
    bench with the session and second-factor reads)."""
    candidate = candidates[1]
    login(client, jury["president"].user)
    synthesis = url("synthesis", opened.pk, candidate.pk)
    with django_assert_max_num_queries(25) as bare:
        assert client.get(synthesis).status_code == 200
    # Written directly: the dossier's training step is closed once the candidate is evaluated,
    # and the page only reads what a dossier may hold.
    registration = candidate.registration
    organisation = TrainingOrganisation.objects.create(name="AFPI Atlantique")
    for month in (1, 2):
        record = TrainingRecord.objects.create(
            registration=registration, organisation=organisation,
            start_on=datetime.date(2025, month, 1), end_on=datetime.date(2025, month, 20),
            hours=35)
        record.competences.set(registration.version.competences.all())
    proposal = deliberation.propose(registration)
    deliberation.record_decision(
        session_candidate=candidate, actor=jury["president"].user, outcome=proposal.outcome,
        acquired_blocs=proposal.acquired_blocs, evaluation_conform=True,
        admission_conditions_met=True)
    with django_assert_max_num_queries(len(bare.captured_queries)):
        page = text(client.get(synthesis))
    assert "AFPI Atlantique" in page
    assert "depuis le" in page


def test_closed_session_lists_its_documents_by_audience(client, opened, candidates, jury,
                                                        staff, media_root):
    decide_all_as_proposed(opened, jury["president"].user)
    deliberation.sign_minutes(session=opened, actor=jury["president"].user, password=PASSWORD)
    login(client, jury["cfdt"].user)
    page = text(client.get(url("session_detail", opened.pk)))
    assert 'data-testid="pv-link"' in page
    assert "Lettre de résultats" not in page  # a candidate's letters are for the staff
    assert 'data-testid="cpne-status"' not in page
    login(client, staff)
    page = text(client.get(url("session_detail", opened.pk)))
    assert "Lettre de résultats" in page
    assert 'data-testid="cpne-status"' in page


# ---------------------------------------------------------------------------
# Admin: through the same services
# ---------------------------------------------------------------------------
def test_admin_renders_and_opens_sessions_through_the_service(client, session, candidates,
                                                              staff):
    login(client, staff)
    changelist = reverse("admin:commissions_jurysession_changelist")
    assert client.get(changelist).status_code == 200
    assert client.get(reverse("admin:commissions_jurysession_change",
                              args=[session.pk])).status_code == 200
    assert client.get(reverse("admin:commissions_jurymember_changelist")).status_code == 200
    response = client.post(changelist, {"action": "open_deliberation",
                                        "_selected_action": [session.pk]}, follow=True)
    assert "Indiquez la présence ou l'absence de chaque membre." in text(response)
    session.refresh_from_db()
    assert session.status == SessionStatus.PLANNED
    record_all_present(session)
    client.post(changelist, {"action": "open_deliberation", "_selected_action": [session.pk]})
    session.refresh_from_db()
    assert session.status == SessionStatus.OPEN


def test_add_candidate_refuses_an_evalue_registration_with_an_unsigned_grid(
        session, registration, staff):
    """The state alone is not enough: every grid of the registration must be signed."""
    from candidates import services as candidate_services

    assert registration.state == "pret_evaluation"
    candidate_services.transition(registration=registration, to_state="evalue", system=True)
    registration.refresh_from_db()
    with pytest.raises(juries.JuryRuleError, match="toutes les grilles d'évaluation"):
        juries.add_candidate(session=session, registration=registration)
    assert not SessionCandidate.objects.exists()


def test_jury_rules_read_the_seats_the_page_loaded_and_agree_with_the_database(
        opened, jury, django_assert_num_queries):
    """The session page loads its seats with their members: the jury predicates answer from
    them without a query, and answer as the database would."""
    import rules as permissions

    from evaluations.selectors_jury import session_for_page

    checks = ["evaluations.see_session", "evaluations.record_presence",
              "evaluations.decide_session", "evaluations.sign_minutes"]
    answers = {}
    for key in ("president", "employer"):
        person = jury[key].user
        loaded = session_for_page(person, opened.pk)  # reads the person's centres too
        with django_assert_num_queries(0):
            answers[key] = [permissions.has_perm(check, person, loaded) for check in checks]
        fresh = JurySession.objects.get(pk=opened.pk)  # no seats loaded: asks the database
        assert answers[key] == [permissions.has_perm(check, person, fresh) for check in checks]
    assert answers == {"president": [True, True, True, True],
                       "employer": [True, False, False, False]}
