"""Identity for the declaration of holders (issue 10 part 1, DOMAIN.md §7–§8): the commune of
birth is an INSEE code (Corsica 2A/2B) or a 5-digit postal code and says which, the country
an ISO 3166 code, the birth date plausible, the sex M/F — in the model (admin), the form and
the CSV import. Missing values are allowed: the award waits on the « à compléter » list."""

import datetime

import pytest
from django.core.exceptions import ValidationError

from candidates.forms import CandidateForm
from candidates.imports import import_registrations
from candidates.models import Candidate, Company
from tests.candidates.test_imports_exports import (  # noqa: F401 - fixtures
    centre,
    csv_bytes,
    has_error,
    referentials,
    refused,
    row,
)
from tests.factories import CandidateFactory, CentreFactory

pytestmark = pytest.mark.django_db


def candidate(**fields) -> Candidate:
    base = {"birth_name": "Durand", "first_names": "Alex",
            "birth_date": datetime.date(1990, 1, 1), "sex": "M"}
    return Candidate(centre=CentreFactory(), **{**base, **fields})


@pytest.mark.parametrize(("code", "kind"), [("44109", "insee"), ("2A004", "insee"),
                                            ("2b033", "insee"), ("97411", "insee"),
                                            ("99134", "insee"), ("44000", "postal")])
def test_valid_birth_places_are_accepted_and_normalised(code, kind):
    person = candidate(birth_commune_code=code, birth_commune_code_kind=kind,
                       birth_country_code="fr" if not code.startswith("99") else "es")
    person.full_clean(exclude=["employer"])
    assert person.birth_commune_code == code.upper()
    assert person.birth_country_code in ("FR", "ES")


@pytest.mark.parametrize(("fields", "field"), [
    ({"birth_commune_code": "4410", "birth_commune_code_kind": "insee"}, "birth_commune_code"),
    ({"birth_commune_code": "2C004", "birth_commune_code_kind": "insee"}, "birth_commune_code"),
    ({"birth_commune_code": "2A004", "birth_commune_code_kind": "postal"},
     "birth_commune_code"),
    ({"birth_commune_code": "44109"}, "birth_commune_code_kind"),
    ({"birth_commune_code_kind": "insee"}, "birth_commune_code"),
    ({"birth_country_code": "XX"}, "birth_country_code"),
    ({"birth_commune_code": "99134", "birth_commune_code_kind": "insee",
      "birth_country_code": "FR"}, "birth_country_code"),
    ({"sex": "X"}, "sex"),
    ({"birth_date": datetime.date(2024, 1, 1)}, "birth_date"),
])
def test_invalid_identity_is_refused_on_its_field(fields, field):
    with pytest.raises(ValidationError) as error:
        candidate(**fields).full_clean(exclude=["employer"])
    assert field in error.value.message_dict


def test_missing_identity_is_allowed_and_listed():
    person = candidate(sex="")
    person.full_clean(exclude=["employer"])
    assert person.declaration_gaps == ["sexe", "commune de naissance (code INSEE ou postal)"]


def test_form_collects_the_birth_place():
    centre_ = CentreFactory()
    form = CandidateForm(data={
        "birth_name": "Orsini", "first_names": "Lisandru", "birth_date": "1992-03-04",
        "sex": "M", "birth_commune_code_kind": "insee", "birth_commune_code": "2a004",
        "birth_commune_name": "Ajaccio", "birth_country_code": "FR"},
        companies=Company.objects.none(), instance=Candidate(centre=centre_))
    assert form.is_valid(), form.errors
    assert form.save().birth_commune_code == "2A004"
    bad = CandidateForm(data={**form.data, "birth_commune_code_kind": "postal"},
                        companies=Company.objects.none(), instance=Candidate(centre=centre_))
    assert not bad.is_valid() and "birth_commune_code" in bad.errors


def test_import_reads_the_birth_place_columns(centre):  # noqa: F811
    data = csv_bytes([row(code_commune_naissance="2B033", type_code_commune="INSEE",
                          commune_naissance="Bastia", pays_naissance="fr",
                          parcours="demandeur_emploi")])
    import_registrations(centre=centre, actor=None, data=data, dry_run=False)
    person = Candidate.objects.get()
    assert (person.birth_commune_code, person.birth_commune_code_kind,
            person.birth_commune_name, person.birth_country_code) == \
        ("2B033", "insee", "Bastia", "FR")


def test_import_refuses_a_bad_birth_place_with_its_column(centre):  # noqa: F811
    data = csv_bytes([row(code_commune_naissance="2A004", type_code_commune="postal",
                          pays_naissance="ZZ", parcours="demandeur_emploi")])
    errors = refused(centre, data)
    assert has_error(errors, 2, "pays_naissance", "ISO")
    data = csv_bytes([row(code_commune_naissance="2A004", type_code_commune="postal",
                          parcours="demandeur_emploi")])
    assert has_error(refused(centre, data), 2, "code_commune_naissance", "postal")


def test_import_fills_a_known_candidates_blank_birth_place(centre):  # noqa: F811
    known = CandidateFactory(centre=centre, birth_name="Durand", first_names="Alex",
                             birth_date=datetime.date(1995, 5, 17))
    data = csv_bytes([row(code_commune_naissance="44000", type_code_commune="postal",
                          parcours="demandeur_emploi")])
    import_registrations(centre=centre, actor=None, data=data, dry_run=False)
    known.refresh_from_db()
    assert (known.birth_commune_code, known.birth_commune_code_kind) == ("44000", "postal")
