"""Fixtures of the candidates tests: a centre with its staff, people who must not see its
data, and a fast way to fill the centre with many registrations (query-budget tests)."""

import datetime

import pytest

from candidates.models import Candidate, Path, Registration, RegistrationState
from certifications.models import Role
from tests.factories import CentreFactory, CompanyFactory, build_version, member


@pytest.fixture
def centre(db):
    return CentreFactory()


@pytest.fixture
def staff(centre):
    """A gestionnaire of ``centre``."""
    return member(Role.STAFF, centre=centre)


@pytest.fixture
def other_staff(db):
    """A gestionnaire of another centre: must see nothing of ``centre``."""
    return member(Role.STAFF)



@pytest.fixture
def bulk_registrations(db):
    """``create(centre, n)``: ``n`` registrations (and their candidates) written with
    bulk_create, in every open state and over several years — fast enough for 1 000. Called
    again on the same centre, it adds more (numbered after the registrations already there)."""

    def create(centre, n: int, *, version=None, company=None) -> list[Registration]:
        version = version or build_version(blocs=1, competences=1, criteria=1)
        company = company or CompanyFactory(centre=centre)
        start = Registration.objects.filter(centre=centre).count()
        candidates = Candidate.objects.bulk_create(
            Candidate(centre=centre, birth_name=f"Masse{i:05d}", first_names="Camille",
                      birth_date=datetime.date(1990, 1, 1) + datetime.timedelta(days=i),
                      employer=company)
            for i in range(start, start + n)
        )
        states = [RegistrationState.INSCRIT, RegistrationState.EN_FORMATION,
                  RegistrationState.PRET_EVALUATION, RegistrationState.EVALUE]
        return Registration.objects.bulk_create(
            Registration(centre=centre, candidate=candidate, version=version,
                         path=Path.SALARIE, company=company,
                         reference=f"MASSE-{centre.pk}-{i:05d}",
                         registered_on=datetime.date(2023 + i % 2, 1 + i % 12, 1 + i % 28),
                         state=states[i % len(states)])
            for i, candidate in enumerate(candidates, start)
        )

    return create
