"""Fixtures of the evaluation tests: a commission of two eligible members (a président and a
membre, habilitated, charter accepted) with one candidate prêt pour l'évaluation scheduled in
it, and that candidate's grid — plus helpers that fill and sign a grid through the services,
as the grid page does."""

import pytest

from certifications.models import Role
from commissions.models import MemberRole
from evaluations import services
from evaluations.models import CompetenceResult, CriterionResult, Grid
from tests.factories import (
    CentreFactory,
    build_version,
    make_commission,
    make_evaluator,
    make_ready,
    make_registration,
    member,
)

# The password of every factory-made account (tests.factories.UserFactory).
PASSWORD = "motdepasse-solide-42"
NM_COMMENT = ("Le candidat n'a pas su justifier le choix de la méthode de diagnostic sans "
              "l'aide du tuteur.")


@pytest.fixture
def centre(db):
    return CentreFactory(name="UIMM Pays de la Loire")


@pytest.fixture
def staff(centre):
    """A gestionnaire of ``centre`` (with the admin permissions of the demo's staff group)."""
    from certifications.demo import staff_group

    user = member(Role.STAFF, centre=centre, username="claire.gestin", first_name="Claire",
                  last_name="Gestin")
    user.groups.add(staff_group())
    return user


@pytest.fixture
def version(db):
    """A published CQPM referential: 2 blocs × 2 competences × 3 criteria."""
    return build_version()


@pytest.fixture
def certification(version):
    return version.certification


@pytest.fixture
def president(centre, certification):
    return make_evaluator(centre=centre, certifications=[certification],
                          user__username="marc.durand", user__first_name="Marc",
                          user__last_name="Durand")


@pytest.fixture
def assessor(centre, certification):
    return make_evaluator(centre=centre, certifications=[certification],
                          user__username="sophie.martin", user__first_name="Sophie",
                          user__last_name="Martin")


@pytest.fixture
def registration(centre, version, staff):
    """A registration prêt pour l'évaluation (salarié, with a company and a tutor)."""
    return make_ready(make_registration(centre=centre, version=version, actor=staff),
                      actor=staff)


@pytest.fixture
def commission(centre, certification, staff, president, assessor, registration):
    """A confirmed commission in two weeks: ``president`` presides, ``assessor`` sits,
    ``registration`` is scheduled."""
    return make_commission(centre=centre, certifications=[certification], actor=staff,
                           members=[president, assessor], registrations=[registration],
                           confirm=True)


@pytest.fixture
def scheduled(commission):
    return commission.scheduled.get()


@pytest.fixture
def president_member(commission):
    return commission.members.get(role=MemberRole.PRESIDENT)


@pytest.fixture
def assessor_member(commission):
    return commission.members.get(role=MemberRole.MEMBER)


@pytest.fixture
def grid(scheduled, staff) -> Grid:
    return services.ensure_grid(scheduled=scheduled, actor=staff)


# ---------------------------------------------------------------------------
# Helpers: every write goes through evaluations.services, as the grid page does
# ---------------------------------------------------------------------------
def competence_rows(grid) -> list[CompetenceResult]:
    return list(CompetenceResult.objects.filter(grid=grid)
                .select_related("competence")
                .order_by("competence__bloc__order", "competence__order"))


def competence_row(grid, code: str) -> CompetenceResult:
    return CompetenceResult.objects.select_related("competence").get(
        grid=grid, competence__code=code)


def criterion_row(grid, code: str) -> CriterionResult:
    return CriterionResult.objects.select_related("criterion").get(
        competence_result__grid=grid, criterion__code=code)


def level_id(grid, code: str) -> int:
    return grid.scheduled.registration.version.rating_levels.get(code=code).pk


def save(grid, row, field: str, value, actor):
    """``services.save_field`` on ``row`` with the revision currently stored (a fresh read,
    as a member whose page is up to date)."""
    row_kind = "competence" if isinstance(row, CompetenceResult) else "criterion"
    revision = type(row).objects.values_list("revision", flat=True).get(pk=row.pk)
    return services.save_field(grid=grid, row_kind=row_kind, row_id=row.pk, field=field,
                               value=value, revision=revision, actor=actor)


def fill_grid(grid, actor, *, non_mastered=(), comment=True, concerned=True):
    """Set every level through ``services.save_field``: « Maîtrisée en toute autonomie »
    except the competences whose code is in ``non_mastered``, which get « Non maîtrisée »,
    a comment (unless ``comment`` is False) and their first criterion marked as concerned
    and not satisfied (unless ``concerned`` is False). Every criterion gets a verdict."""
    mastered, not_mastered = level_id(grid, "MA"), level_id(grid, "NM")
    for row in competence_rows(grid):
        failing = row.competence.code in non_mastered
        criteria = list(row.criterion_results.order_by("criterion__order"))
        for index, criterion in enumerate(criteria):
            save(grid, criterion, "satisfied", "non" if failing and index == 0 else "oui", actor)
            if failing and index == 0 and concerned:
                save(grid, criterion, "concerned", "on", actor)
                save(grid, criterion, "notes", "Diagnostic guidé par le tuteur.", actor)
        save(grid, row, "level", not_mastered if failing else mastered, actor)
        if failing and comment:
            save(grid, row, "comment", NM_COMMENT, actor)
    return grid


def sign(grid, member_, *, password=PASSWORD, consent=True, ip="192.0.2.10",
         user_agent="Mozilla/5.0 (tablette d'atelier)"):
    return services.sign_grid(grid=grid, member=member_, password=password, consent=consent,
                              ip=ip, user_agent=user_agent)


@pytest.fixture
def filled(grid, president):
    """The grid complete, C2 not mastered (with its comment and concerned criterion)."""
    return fill_grid(grid, president.user, non_mastered={"C2"})


@pytest.fixture
def to_sign(filled, president):
    return services.submit_for_signature(grid=filled, actor=president.user)


@pytest.fixture
def signed(to_sign, president_member, assessor_member):
    """The grid signed by both members: locked."""
    sign(to_sign, president_member)
    result = sign(to_sign, assessor_member)
    assert result.locked
    return Grid.objects.get(pk=to_sign.pk)


# ---------------------------------------------------------------------------
# Jury paritaire (DOMAIN.md §6): a session built through the services, as the pages do —
# two candidates evaluated by one commission (signed grids), two members per collège present
# (the president from the employers' delegation), one union member absent.
# ---------------------------------------------------------------------------
JURY_PLACE = "UIMM Pays de la Loire, salle Vauban, 2 rue de la Fonderie, Nantes"


def make_jury_member(*, centre, college, organisation, username, first_name, last_name):
    from commissions.models import JuryMember

    user = member(Role.JURY, centre=centre, username=username, first_name=first_name,
                  last_name=last_name)
    return JuryMember.objects.create(user=user, centre=centre, college=college,
                                     organisation=organisation)


@pytest.fixture
def jury_members(centre) -> dict:
    from commissions.models import College

    def make(key, college, organisation, first_name, last_name):
        return key, make_jury_member(centre=centre, college=college, organisation=organisation,
                                     username=f"jury.{key}", first_name=first_name,
                                     last_name=last_name)

    return dict([
        make("president", College.EMPLOYERS, "UIMM Loire-Atlantique", "Anne", "Lefèvre"),
        make("employer", College.EMPLOYERS, "Chantiers de l'Atlantique", "Paul", "Renaud"),
        make("cfdt", College.EMPLOYEES, "CFDT", "Nadia", "Benali"),
        make("cgt", College.EMPLOYEES, "CGT", "Luc", "Moreau"),
        make("fo", College.EMPLOYEES, "CGT-FO", "Hélène", "Petit"),
    ])


@pytest.fixture
def second_registration(centre, version, staff):
    return make_ready(make_registration(centre=centre, version=version, actor=staff),
                      actor=staff)


@pytest.fixture
def jury_grids_signed(centre, certification, staff, president, assessor, registration,
                      second_registration):
    """Both candidates evaluated in one commission: the first masters everything, the second
    not C3 (bloc B2) — proposals « admis » and « validation partielle (B1) »."""
    commission = make_commission(centre=centre, certifications=[certification], actor=staff,
                                 members=[president, assessor],
                                 registrations=[registration, second_registration],
                                 confirm=True)
    members = {m.role: m for m in commission.members.all()}
    for scheduled, failing in zip(commission.scheduled.order_by("start_time"), ((), ("C3",)),
                                  strict=True):
        grid = services.ensure_grid(scheduled=scheduled, actor=staff)
        fill_grid(grid, president.user, non_mastered=set(failing))
        services.submit_for_signature(grid=grid, actor=president.user)
        sign(grid, members[MemberRole.PRESIDENT])
        assert sign(grid, members[MemberRole.MEMBER]).locked
    return commission


@pytest.fixture
def jury_open(jury_grids_signed, jury_members, centre, certification, staff, registration,
              second_registration):
    """A session held today: unions invited 20 days ahead, their members designated, presence
    recorded (CGT-FO absent), opened, both decisions recorded as proposed."""
    import datetime

    from django.conf import settings
    from django.utils import timezone

    from commissions import juries
    from commissions.models import JurySession
    from evaluations import deliberation

    today = timezone.localdate()
    session = JurySession.objects.create(centre=centre, date=today,
                                         start_time=datetime.time(14, 0), place=JURY_PLACE,
                                         created_by=staff)
    session.certifications.set([certification])
    juries.add_seat(session=session, member=jury_members["president"], president=True)
    juries.add_seat(session=session, member=jury_members["employer"])
    invitations = juries.invite_unions(
        session=session, actor=staff, today=today - datetime.timedelta(days=20),
        addresses={org: f"{org.lower()}@syndicat.example" for org in settings.JURIES["UNIONS"]})
    by_org = {i.organisation: i for i in invitations}
    for key in ("cfdt", "cgt", "fo"):
        jury_member = jury_members[key]
        juries.record_designation(invitation=by_org[jury_member.organisation],
                                  member=jury_member)
    for registration_ in (registration, second_registration):
        registration_.refresh_from_db()  # évalué since its grid locked
        juries.add_candidate(session=session, registration=registration_)
    for seat in session.seats.select_related("member"):
        juries.record_presence(seat=seat, present=seat.member != jury_members["fo"])
    juries.open_session(session=session, actor=staff)
    president_user = jury_members["president"].user
    candidates = {c.registration_id: c for c in session.candidates.all()}
    deliberation.record_decision(
        session_candidate=candidates[registration.pk], actor=president_user, outcome="admis",
        acquired_blocs=[], evaluation_conform=True, admission_conditions_met=True)
    deliberation.record_decision(
        session_candidate=candidates[second_registration.pk], actor=president_user,
        outcome="admis_partiel", acquired_blocs=["B1"], evaluation_conform=True,
        admission_conditions_met=True)
    session.refresh_from_db()
    return session


def sign_jury_minutes(session, jury_members):
    from evaluations import deliberation

    return deliberation.sign_minutes(session=session, actor=jury_members["president"].user,
                                     password=PASSWORD, ip="192.0.2.20")


@pytest.fixture
def jury_closed(jury_open, jury_members):
    """The PV signed by the president (documents issued; the after-commit rendering and
    e-mails are not run: tests that want them capture the callbacks)."""
    sign_jury_minutes(jury_open, jury_members)
    jury_open.refresh_from_db()
    return jury_open
