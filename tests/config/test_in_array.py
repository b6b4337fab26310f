"""config.planning.InArray: the same rows as Django's ``__in`` with a subquery, written so that
PostgreSQL probes indexes with the subquery's values (``= ANY(ARRAY(…))``)."""

import pytest
from django.db import connection
from django.db.models import F, Q

from candidates.models import Candidate, Registration
from certifications.models import Role
from config.planning import InArray
from tests.factories import CentreFactory, make_registration, member

pytestmark = pytest.mark.django_db


@pytest.fixture
def registrations():
    centre = CentreFactory()
    staff = member(Role.STAFF, centre=centre)
    return [make_registration(centre=centre, actor=staff) for _ in range(4)]


def test_finds_the_rows_that_in_finds(registrations):
    chosen = Candidate.objects.filter(pk__in=[registrations[0].candidate_id,
                                              registrations[2].candidate_id])
    found = Registration.objects.filter(InArray(F("candidate_id"), chosen.values("pk")))
    assert set(found) == set(Registration.objects.filter(candidate__in=chosen)) == {
        registrations[0], registrations[2]}


def test_joined_by_or_and_negated_like_any_condition(registrations):
    first = Candidate.objects.filter(pk=registrations[0].candidate_id).values("pk")
    last = Registration.objects.filter(pk=registrations[3].pk).values("pk")
    either = Q(InArray(F("candidate_id"), first), InArray(F("pk"), last), _connector=Q.OR)
    assert set(Registration.objects.filter(either)) == {registrations[0], registrations[3]}
    assert set(Registration.objects.exclude(either)) == {registrations[1], registrations[2]}


def test_an_empty_subquery_finds_nothing(registrations):
    nobody = Candidate.objects.none().values("pk")
    assert not Registration.objects.filter(InArray(F("candidate_id"), nobody)).exists()
    nobody = Candidate.objects.filter(pk=-1).values("pk")
    assert not Registration.objects.filter(InArray(F("candidate_id"), nobody)).exists()


def test_the_sql_by_database_and_without_the_subquery_ordering():
    # Candidate's default ordering (names) would sort a set for nothing.
    sql = str(Registration.objects.order_by().filter(
        InArray(F("candidate_id"), Candidate.objects.values("pk"))).query)
    subquery = sql[sql.index("(SELECT"):]
    assert "ORDER BY" not in subquery
    if connection.vendor == "postgresql":
        assert '"candidate_id" = ANY(ARRAY(SELECT' in sql
    else:
        assert '"candidate_id" IN (SELECT' in sql


@pytest.mark.postgres
def test_postgresql_runs_the_subquery_once_not_per_row(registrations):
    chosen = Candidate.objects.filter(pk=registrations[1].candidate_id).values("pk")
    plan = Registration.objects.filter(
        Q(InArray(F("candidate_id"), chosen), InArray(F("pk"), chosen), _connector=Q.OR)
    ).explain()
    assert "InitPlan" in plan and "SubPlan" not in plan, plan
