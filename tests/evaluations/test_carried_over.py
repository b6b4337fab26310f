"""Partial results that last (DOMAIN.md §6): the blocs and competences a candidate validated
are kept with their expiry; a new registration for the same certification starts from them —
its grid asks only for what remains, the jury's proposal and conformity check count them —
an expired one is evaluated again; the relevé lists them with their source jury, through the
staff pages and the candidate's personal link. And jury members linked to a candidate
abstain, recorded in the PV, parity counted on those who deliberate.

The first jury (fixture ``jury_closed``, today) gave ``second_registration`` a validation
partielle: bloc B1 (C1, C2) and C4 validated, C3 not; the certification is on the RNCP.
"""

import datetime
import io
import unicodedata
from urllib.parse import urlsplit

import pytest
from dateutil.relativedelta import relativedelta
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from candidates.models import LinkPurpose
from candidates.services import create_registration, issue_link
from candidates.tasks import link_url
from commissions import juries
from commissions.models import JurySession, MemberRole
from evaluations import acquired, deliberation, documents_jury, services
from evaluations.models import GeneratedDocument
from tests.evaluations.conftest import JURY_PLACE, fill_grid, sign, sign_jury_minutes
from tests.factories import make_commission, make_ready

Kind = GeneratedDocument.Kind


@pytest.fixture(autouse=True)
def _own_media_root(media_root):
    """Every file goes to a temporary MEDIA_ROOT."""


def pdf_text(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    text = " ".join(page.extract_text() for page in reader.pages)
    return " ".join(unicodedata.normalize("NFC", text).split())


def new_registration(previous, *, staff):
    """The same candidate registered again for the same certification, ready for evaluation."""
    registration = create_registration(
        actor=staff, centre=previous.centre, candidate=previous.candidate,
        version=previous.version, path="salarie", company=previous.company,
        tutor=previous.tutor).registration
    return make_ready(registration, actor=staff)


def evaluate(registration, *, staff, president, assessor, certification, date=None,
             non_mastered=()):
    """A commission evaluates ``registration``: its grid filled and signed by both members."""
    # A commission years ahead is only built (its evaluators' habilitations end before).
    commission = make_commission(centre=registration.centre, certifications=[certification],
                                 actor=staff, members=[] if date else [president, assessor],
                                 registrations=[registration], confirm=date is None, date=date)
    grid = services.ensure_grid(scheduled=commission.scheduled.get(), actor=staff)
    if date is None:
        members = {m.role: m for m in commission.members.all()}
        fill_grid(grid, president.user, non_mastered=set(non_mastered))
        services.submit_for_signature(grid=grid, actor=president.user)
        sign(grid, members[MemberRole.PRESIDENT])
        assert sign(grid, members[MemberRole.MEMBER]).locked
        grid.refresh_from_db()
    return grid


def hold_jury(registration, *, jury_members, staff, certification):
    """A second jury session today, composed and opened as the fixture ``jury_open`` does."""
    from django.conf import settings

    today = timezone.localdate()
    session = JurySession.objects.create(centre=registration.centre, date=today,
                                         start_time=datetime.time(16, 0), place=JURY_PLACE,
                                         created_by=staff)
    session.certifications.set([certification])
    juries.add_seat(session=session, member=jury_members["president"], president=True)
    juries.add_seat(session=session, member=jury_members["employer"])
    invitations = juries.invite_unions(
        session=session, actor=staff, today=today - datetime.timedelta(days=20),
        addresses={org: f"{org.lower()}@syndicat.example" for org in settings.JURIES["UNIONS"]})
    by_org = {i.organisation: i for i in invitations}
    for key in ("cfdt", "cgt"):
        juries.record_designation(invitation=by_org[jury_members[key].organisation],
                                  member=jury_members[key])
    registration.refresh_from_db()
    juries.add_candidate(session=session, registration=registration)
    for seat in session.seats.all():
        juries.record_presence(seat=seat, present=True)
    juries.open_session(session=session, actor=staff)
    session.refresh_from_db()
    return session


@pytest.fixture
def again(jury_closed, second_registration, staff):
    """The candidate of the validation partielle, registered again."""
    return new_registration(second_registration, staff=staff)


# ---------------------------------------------------------------------------
# The selector
# ---------------------------------------------------------------------------
def test_validated_blocs_and_competences_are_kept_with_their_expiry(
        jury_closed, second_registration, certification):
    today = timezone.localdate()
    results = acquired.acquired_results(second_registration.candidate, certification)
    assert [b.code for b in results.bloc_list] == ["B1"]
    assert [c.code for c in results.competence_list] == ["C1", "C2", "C4"]
    by_code = results.competences
    # Competences 24 months from the deliberation; those of a bloc as long as the bloc,
    # 5 years on the RNCP.
    assert by_code["C4"].until == today + relativedelta(months=24)
    assert by_code["C1"].until == results.blocs["B1"].until == today + relativedelta(years=5)
    assert {(c.session_id, c.session_date) for c in results.competence_list} == {
        (jury_closed.pk, today)}
    # 25 months later C4 expired; the bloc and its competences last.
    later = acquired.acquired_results(second_registration.candidate, certification,
                                      at=today + relativedelta(months=25))
    assert sorted(later.competences) == ["C1", "C2"]
    assert [i.code for i in later.expired_list] == ["C4"]


def test_off_the_rncp_a_bloc_lasts_as_long_as_its_competences(
        jury_open, jury_members, second_registration, certification):
    """The 5-year rule of blocs applies only to RNCP-registered certifications."""
    from certifications.models import Certification

    Certification.objects.filter(pk=certification.pk).update(registry="RS")
    sign_jury_minutes(jury_open, jury_members)
    today = timezone.localdate()
    results = acquired.acquired_results(second_registration.candidate, certification)
    assert results.blocs["B1"].until == today + relativedelta(months=24)
    assert {c.until for c in results.competence_list} == {today + relativedelta(months=24)}


def test_a_corrected_decision_counts_by_its_correction(
        jury_closed, second_registration, certification, staff):
    from evaluations.models import Decision

    decision = Decision.objects.get(registration=second_registration)
    correction = deliberation.correct_decision(
        decision=decision, actor=staff, outcome="admis_partiel", acquired_blocs=["B1", "B2"],
        reason="Erreur matérielle sur la compétence C3.")
    results = acquired.acquired_results(second_registration.candidate, certification)
    assert [b.code for b in results.bloc_list] == ["B1", "B2"]
    assert {b.decision_id for b in results.bloc_list} == {correction.pk}


def test_only_final_current_decisions_count(jury_open, second_registration, certification):
    """Before the PV is signed, nothing is acquired."""
    assert not acquired.acquired_results(second_registration.candidate, certification)


# ---------------------------------------------------------------------------
# The new registration's grid, proposal and conformity check
# ---------------------------------------------------------------------------
def test_a_carried_over_competence_is_not_evaluated_again(
        again, staff, president, assessor, certification, jury_closed, client):
    grid = services.ensure_grid(
        scheduled=make_commission(centre=again.centre, certifications=[certification],
                                  actor=staff, members=[president, assessor],
                                  registrations=[again], confirm=True).scheduled.get(),
        actor=staff)
    assert [r.competence.code for r in services.grid_content(grid)] == ["C3"]
    # The grid page shows them read-only, with their jury and expiry.
    client.force_login(staff)
    page = client.get(reverse("grids:detail", args=[grid.pk])).content.decode()
    assert 'data-testid="carried-C1"' in page and 'data-testid="carried-C4"' in page
    until = timezone.localdate() + relativedelta(months=24)
    assert f"valable jusqu&#x27;au {until.day} " in page or f"valable jusqu'au {until.day} " in page


def test_an_expired_competence_is_evaluated_again(
        again, staff, president, assessor, certification):
    later = timezone.localdate() + relativedelta(months=25)
    grid = evaluate(again, staff=staff, president=president, assessor=assessor,
                    certification=certification, date=later)
    # C4 (24 months) expired; B1 (5 years on the RNCP) still carries C1 and C2.
    assert [r.competence.code for r in services.grid_content(grid)] == ["C3", "C4"]


def test_proposal_and_conformity_count_carried_over_results(
        again, staff, president, assessor, certification):
    evaluate(again, staff=staff, president=president, assessor=assessor,
             certification=certification)
    proposal = deliberation.propose(again)
    assert (proposal.outcome, proposal.acquired_blocs) == ("admis", ["B1", "B2"])
    assert proposal.carried_over == ["C1", "C2", "C4"]
    checks = {c.label: c for c in deliberation.conformity(again)}
    assert checks["Chaque compétence évaluée selon une modalité autorisée"].ok
    carried = checks["Résultats d'un jury antérieur en cours de validité (reportés)"]
    assert carried.ok and len(carried.details) == 3
    # On a later jury date, expired results no longer count: C4 was not evaluated again.
    later = timezone.localdate() + relativedelta(months=25)
    proposal = deliberation.propose(again, at=later)
    assert (proposal.outcome, proposal.acquired_blocs) == ("admis_partiel", ["B1"])
    problems = {c.label: c for c in deliberation.conformity(again, at=later)}
    assert problems["Chaque compétence évaluée selon une modalité autorisée"].details == [
        "C4 n'a pas été évaluée."]


def test_jury_synthesis_shows_carried_over_results(
        again, staff, president, assessor, certification, jury_members, client,
        django_assert_max_num_queries):
    evaluate(again, staff=staff, president=president, assessor=assessor,
             certification=certification)
    session = hold_jury(again, jury_members=jury_members, staff=staff,
                        certification=certification)
    candidate = session.candidates.get()
    client.force_login(jury_members["president"].user)
    with django_assert_max_num_queries(40):
        response = client.get(reverse("juries:synthesis", args=[session.pk, candidate.pk]))
    page = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="carried-C1"' in page and 'data-testid="carried-C3"' not in page
    with django_assert_max_num_queries(40):
        assert client.get(reverse("juries:session_detail", args=[session.pk])).status_code == 200


# ---------------------------------------------------------------------------
# The relevé: staff and the candidate's personal link
# ---------------------------------------------------------------------------
@pytest.mark.slow
def test_releve_lists_carried_over_competences_and_its_code_verifies(
        again, staff, president, assessor, certification, jury_members, client):
    """The second attempt fails C3 again: the new relevé lists C1, C2 and C4 as acquired at
    the first jury, until when; its code resolves on the verify page."""
    evaluate(again, staff=staff, president=president, assessor=assessor,
             certification=certification, non_mastered={"C3"})
    session = hold_jury(again, jury_members=jury_members, staff=staff,
                        certification=certification)
    proposal = deliberation.propose(again)
    assert (proposal.outcome, proposal.acquired_blocs) == ("admis_partiel", ["B1"])
    deliberation.record_decision(
        session_candidate=session.candidates.get(), actor=jury_members["president"].user,
        outcome="admis_partiel", acquired_blocs=["B1"], evaluation_conform=True,
        admission_conditions_met=True)
    sign_jury_minutes(session, jury_members)
    releve = GeneratedDocument.objects.get(kind=Kind.PARTIAL, decision__registration=again)
    text = pdf_text(documents_jury.document_pdf(releve))
    assert "Relevé des compétences et blocs validés" in text
    for code in ("C1", "C2", "C4"):
        assert code in text
    assert "acquise au jury du" in text
    assert releve.verification_code in text
    response = client.get(reverse("verify", args=[releve.verification_code]))
    assert response.status_code == 200
    assert again.candidate.full_name in response.content.decode()
    # The carried-over C4 keeps its first expiry (a later decision does not extend it).
    results = acquired.acquired_results(again.candidate, certification,
                                        at=timezone.localdate() + relativedelta(months=25))
    assert "C4" not in results.competences


@pytest.mark.slow
def test_candidate_downloads_the_releve_through_their_personal_link(
        again, second_registration, jury_closed, staff, client):
    link = issue_link(registration=again, purpose=LinkPurpose.CANDIDATE_UPLOAD, actor=staff)
    space = urlsplit(link_url(link)).path
    page = client.get(space).content.decode()
    token = space.rstrip("/").rsplit("/", 1)[-1]
    url = reverse("candidate_releve", args=[token])
    assert url in page
    response = client.get(url)
    assert response.status_code == 200
    content = b"".join(response.streaming_content)
    text = pdf_text(content)
    releve = GeneratedDocument.objects.get(kind=Kind.PARTIAL,
                                           decision__registration=second_registration)
    assert releve.verification_code in text and "C4" in text


def test_an_outsider_gets_404_for_the_releve_and_the_panel(
        again, jury_closed, client, centre):
    assert client.get(reverse("candidate_releve", args=["not-a-token"])).status_code == 404
    from certifications.models import Role
    from tests.factories import CentreFactory, member

    other = member(Role.STAFF, centre=CentreFactory(), username="autre.centre")
    client.force_login(other)
    assert client.get(reverse("registration_carried_over", args=[again.pk])).status_code == 404


def test_dossier_page_shows_what_is_carried_over(
        again, staff, client, django_assert_max_num_queries):
    client.force_login(staff)
    page = client.get(reverse("candidates:registration_detail", args=[again.pk])).content
    panel_url = reverse("registration_carried_over", args=[again.pk])
    assert panel_url.encode() in page
    with django_assert_max_num_queries(12):
        response = client.get(panel_url)
    panel = response.content.decode()
    assert 'data-testid="carried-bloc-B1"' in panel
    for code in ("C1", "C2", "C4"):
        assert f'data-testid="carried-{code}"' in panel
    assert "jury du" in panel and reverse("juries:document", args=[
        GeneratedDocument.objects.get(kind=Kind.PARTIAL).pk]) in panel


# ---------------------------------------------------------------------------
# Jury impartiality (DOMAIN.md §6)
# ---------------------------------------------------------------------------
def test_abstaining_member_is_recorded_in_the_pv_and_parity_counts_who_deliberates(
        jury_open, jury_members, second_registration):
    """Present: 2 employers, 2 employees (CGT-FO absent). The employer member from the
    candidate's company abstains: 1 for 2, strict parity refuses; a union member linked too
    abstains: 1 for 1, the decision is recorded and the PV names both abstentions."""
    from commissions.models import JuryMember
    from tests.factories import siret_of_siren

    siren = second_registration.company.siren
    JuryMember.objects.filter(pk=jury_members["employer"].pk).update(
        employer_siret=siret_of_siren(siren, 7))
    candidate = jury_open.candidates.get(registration=second_registration)
    decide = {"session_candidate": candidate, "actor": jury_members["president"].user,
              "outcome": "admis_partiel", "acquired_blocs": ["B1"],
              "evaluation_conform": True, "admission_conditions_met": True}
    with pytest.raises(juries.JuryRuleError) as refused:
        deliberation.record_decision(**decide)
    assert "La parité n'est pas respectée : 1 employeur(s) pour 2 salarié(s)." in (
        refused.value.messages)
    JuryMember.objects.filter(pk=jury_members["cgt"].pk).update(
        employer_siret=siret_of_siren(siren, 9))
    deliberation.record_decision(**decide)
    minutes = sign_jury_minutes(jury_open, jury_members)
    row = next(d for d in minutes.snapshot["decisions"]
               if d["reference"] == second_registration.reference)
    assert sorted(row["deliberating"]) == sorted(
        [str(jury_members["president"]), str(jury_members["cfdt"])])
    assert sorted(a["member"] for a in row["abstentions"]) == sorted(
        [str(jury_members["employer"]), str(jury_members["cgt"])])
    context = documents_jury.pv_context(GeneratedDocument.objects.get(kind=Kind.PV,
                                                                     minutes=minutes))
    decision = next(d for d in context["decisions"]
                    if d["reference"] == second_registration.reference)
    assert decision["abstentions"][0]["reasons"] == ["même entreprise que le candidat"]
