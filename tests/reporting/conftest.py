"""A world of final decisions to declare, built directly (the jury's flow has its own tests):
one jury session per centre, decisions made final as signing the PV does."""

import datetime
import itertools
from pathlib import Path

import pytest
import xmlschema
from django.utils import timezone

from certifications.models import Role
from commissions.models import JurySession, SessionCandidate
from evaluations.models import Decision
from tests.factories import (
    CandidateFactory,
    CentreFactory,
    CertificationFactory,
    build_version,
    member,
)

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "reporting" / "schemas" / \
    "cdc-accrochage-1.0.0.xsd"
_counter = itertools.count(1)


@pytest.fixture(scope="session")
def schema():
    return xmlschema.XMLSchema(str(SCHEMA_PATH))


@pytest.fixture(autouse=True)
def cdc_settings(settings):
    settings.CDC_DECLARATION = {**settings.CDC_DECLARATION, "ID_CLIENT": "UIMM0001",
                                "ID_CONTRAT": "CTR-2026-01", "NATURE_DEPOSANT": "CERTIFICATEUR",
                                "DELAY_DAYS": 15}
    return settings.CDC_DECLARATION


@pytest.fixture
def centre(db):
    return CentreFactory()


@pytest.fixture
def staff(centre):
    return member(Role.STAFF, centre=centre)


@pytest.fixture
def version(db):
    return build_version(certification=CertificationFactory(registry="RNCP",
                                                            registry_number="RNCP34567"))


def final_decision(registration, *, outcome="admis", days_ago=30, actor=None):
    """A decision made final ``days_ago`` days ago, as ``sign_minutes`` leaves it."""
    when = timezone.now() - datetime.timedelta(days=days_ago)
    session = JurySession.objects.create(
        centre=registration.centre, date=when.date(), start_time=datetime.time(14),
        place="Salle du conseil")
    session_candidate = SessionCandidate.objects.create(session=session,
                                                        registration=registration)
    return Decision.objects.create(
        session_candidate=session_candidate, registration=registration,
        proposed_outcome=outcome, outcome=outcome, evaluation_conform=True,
        admission_conditions_met=True, decided_by=actor or member(Role.STAFF),
        decided_at=when, final_at=when)


def make_award_registration(centre, version, *, path="salarie", **identity):
    from candidates.services import create_registration

    defaults = {"birth_name": "Dupont", "first_names": "Jean Marc",
                "birth_date": datetime.date(1990, 4, 2), "sex": "M",
                "birth_commune_code": "44109", "birth_commune_code_kind": "insee",
                "birth_commune_name": "Nantes", "birth_country_code": "FR"}
    candidate = CandidateFactory(centre=centre, **{**defaults, **identity})
    registration = create_registration(
        actor=None, centre=centre, candidate=candidate, version=version, path=path,
        company=candidate.employer if path != "vae" else None, tutor=None).registration
    return registration


@pytest.fixture
def holders(centre, version, staff):
    """Holders whose identity stretches the format: accents, apostrophe, hyphen, usage
    name, Corsica, postal code, born abroad, VAE."""
    people = [
        {"birth_name": "Lefèvre-Dubois", "usage_name": "Martin", "first_names": "Hélène Zoé",
         "sex": "F", "birth_commune_code": "2A004", "birth_commune_name": "Ajaccio"},
        {"birth_name": "D'Alembert", "first_names": "Jean-Baptiste",
         "birth_commune_code": "44000", "birth_commune_code_kind": "postal"},
        {"birth_name": "Nguyễn", "first_names": "Linh", "sex": "F",
         "birth_commune_code": "99243", "birth_commune_name": "Hanoï",
         "birth_country_code": "VN", "path": "vae"},
    ]
    registrations = []
    for person in people:
        path = person.pop("path", "salarie")
        registration = make_award_registration(centre, version, path=path, **person)
        final_decision(registration, actor=staff)
        registrations.append(registration)
    return registrations
