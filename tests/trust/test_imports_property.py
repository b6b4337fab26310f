"""Whatever file staff upload, the two importers answer with a clean import or their own
error in French — never another exception, never half an import.

Property-based (hypothesis): random bytes and text, random JSON, random CSV rows built from
the real columns, and valid files mutated. Every database example runs inside a savepoint
rolled back afterwards, so examples never see each other's rows.
"""

import codecs
import csv
import datetime
import io
import json
from pathlib import Path

import pytest
from django.conf import settings
from django.db import transaction
from hypothesis import HealthCheck, example, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from candidates.imports import (
    COLUMNS,
    REQUIRED_COLUMNS,
    CandidateImportError,
    ImportResult,
    Issue,
    import_registrations,
    read_rows,
)
from candidates.models import Candidate, Company, Registration, Tutor
from candidates.models import Path as CandidatePath
from certifications.exchange import (
    FormatIssue,
    ReferentialFormatError,
    import_referentials,
    parse_referential,
)
from certifications.models import (
    Bloc,
    Certification,
    CertificationKind,
    Competence,
    Criterion,
    RatingLevel,
    ReferentialVersion,
)
from tests.factories import CentreFactory

REFERENTIALS = Path(settings.BASE_DIR) / "certifications" / "fixtures" / "referentials"
SAMPLES = {path.name: path.read_bytes() for path in sorted(REFERENTIALS.glob("*.json"))}
CQPM = SAMPLES["cqpm-maintenance-industrielle.json"]
CODES = [json.loads(raw)["certification"]["code"] for raw in SAMPLES.values()]
LABELS = [json.loads(raw)["version"]["label"] for raw in SAMPLES.values()]

# Modest: the whole file stays within a few seconds per test. The autouse settings fixture
# of tests/conftest.py is function-scoped but changes nothing between examples.
PROPERTY = hypothesis_settings(
    max_examples=60, deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                           HealthCheck.data_too_large],
)
FEW = hypothesis_settings(PROPERTY, max_examples=30)


def rolled_back(function):
    """Run ``function()`` in a savepoint that is always rolled back."""
    with transaction.atomic():
        try:
            return function()
        finally:
            transaction.set_rollback(True)


# ---------------------------------------------------------------------------
# Referential files (certifications.exchange)
# ---------------------------------------------------------------------------
def referential_counts() -> dict[str, int]:
    return {model.__name__: model.objects.count()
            for model in (Certification, ReferentialVersion, RatingLevel, Bloc, Competence,
                          Criterion)}


def assert_clear_referential_error(error: ReferentialFormatError):
    assert error.errors
    for issue in error.errors:
        assert isinstance(issue, FormatIssue)
        assert isinstance(issue.message, str) and issue.message.strip()
        assert issue.line is None or issue.line >= 1
        str(issue).encode("utf-8")  # printable in a page or a terminal


def parse_or_refuse(raw):
    try:
        return parse_referential(raw, source="fichier.json")
    except ReferentialFormatError as error:
        assert_clear_referential_error(error)
        return None


# Any code point, lone surrogates included: valid in JSON (``"\\ud800"``), not as stored text.
any_text = st.text(st.characters(exclude_categories=()), max_size=40)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=12,
)


@PROPERTY
@given(st.binary(max_size=2000))
@example(b"\xff\xfe{\x00}\x00")
@example(b'{"format": "referentiel/1"}\x00')
def test_random_bytes_are_refused_cleanly(raw):
    parse_or_refuse(raw)


@PROPERTY
@given(st.text(max_size=500))
@example("\ufeff{}")
@example('"\\ud800"')
@example("[" * 990 + "]" * 990)
@example('{"format": ' + "1" * 5000 + "}")  # crashed: ValueError (int_max_str_digits)
def test_random_text_is_refused_cleanly(text):
    parse_or_refuse(text)


@PROPERTY
@given(json_values)
def test_any_json_value_is_refused_cleanly(value):
    parse_or_refuse(json.dumps(value, allow_nan=True))


def _locations(value, path=()):
    """Every place in a JSON document: (path to the container, key or index)."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield path, key
            yield from _locations(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield path, index
            yield from _locations(item, (*path, index))


def _container(document, path):
    for step in path:
        document = document[step]
    return document


@st.composite
def mutated_referentials(draw) -> bytes:
    """The CQPM sample with one to three values replaced, removed or added, or keys added."""
    document = json.loads(CQPM)
    for _ in range(draw(st.integers(1, 3))):
        locations = list(_locations(document))
        path, key = draw(st.sampled_from(locations))
        container = _container(document, path)
        operation = draw(st.sampled_from(["replace", "remove", "add", "text", "text"]))
        if operation == "replace":
            container[key] = draw(json_values)
        elif operation == "text":
            container[key] = draw(any_text | st.sampled_from(
                ["", " ", "x" * 5000, "\u0000", "\ud800", "C1", "2024-02-30", "2019-01-01",
                 "MQ", "٢٠٢٤-٠١-٠١"]))
        elif operation == "remove":
            del container[key]
        elif isinstance(container, dict):
            container[draw(st.text(max_size=10))] = draw(json_values)
        else:
            container.insert(key, draw(json_values))
    # Unescaped, a lone surrogate cannot be UTF-8: those bytes are a file in another encoding.
    return json.dumps(document, ensure_ascii=draw(st.booleans())).encode("utf-8",
                                                                         "surrogatepass")


@st.composite
def byte_mutations(draw) -> bytes:
    """The CQPM sample with a few bytes changed, inserted or dropped."""
    data = bytearray(CQPM)
    for _ in range(draw(st.integers(1, 4))):
        position = draw(st.integers(0, len(data) - 1))
        action = draw(st.sampled_from(["flip", "insert", "drop"]))
        if action == "flip":
            data[position] = draw(st.integers(0, 255))
        elif action == "insert":
            data[position:position] = draw(st.binary(min_size=1, max_size=4))
        else:
            del data[position]
    return bytes(data)


def stored_referential_texts() -> list[str]:
    return [*Certification.objects.values_list("code", "title"),
            *ReferentialVersion.objects.values_list("label", "activities"),
            *Bloc.objects.values_list("code", "title"),
            *Competence.objects.values_list("code", "title", "conditions"),
            *Criterion.objects.values_list("code", "text")]


def assert_storable(rows) -> None:
    """What was stored would also be stored by PostgreSQL (no NUL in a string)."""
    for values in rows:
        for value in values:
            assert "\x00" not in (value or "")


def import_or_refuse(raw: bytes):
    """Import into the database: a report, or the importer's error and no row written."""
    before = referential_counts()
    try:
        reports = import_referentials([("fichier.json", raw)])
    except ReferentialFormatError as error:
        assert_clear_referential_error(error)
        assert referential_counts() == before
        return None
    assert reports and referential_counts() != before or reports[0].action == "unchanged"
    assert_storable(stored_referential_texts())
    return reports


def _sample_with(**changes) -> bytes:
    document = json.loads(CQPM)
    document["certification"].update(changes)
    return json.dumps(document).encode()


@pytest.mark.django_db
@PROPERTY
@given(mutated_referentials())
@example(_sample_with(title="Technicien\ud800"))  # crashed: UnicodeEncodeError on insert
@example(_sample_with(title="Technicien\u0000"))  # crashed on PostgreSQL: NUL in a string
@example(CQPM.replace(b'"level": 4', b'"level": ' + b"4" * 5000))  # crashed: ValueError
def test_mutated_referential_imports_or_is_refused_without_a_trace(raw):
    rolled_back(lambda: import_or_refuse(raw))


@pytest.mark.django_db
@FEW
@given(byte_mutations())
def test_referential_with_damaged_bytes_imports_or_is_refused_without_a_trace(raw):
    rolled_back(lambda: import_or_refuse(raw))


@pytest.mark.django_db
@FEW
@given(mutated_referentials())
def test_mutated_referential_over_one_already_held_changes_nothing_when_refused(raw):
    """The same version label already in the database: identical content is a no-op,
    anything else is refused — whatever the mutation."""
    def scenario():
        import_referentials([("original.json", CQPM)])
        import_or_refuse(raw)

    rolled_back(scenario)


# ---------------------------------------------------------------------------
# CSV of candidates (candidates.imports)
# ---------------------------------------------------------------------------
def candidate_counts() -> dict[str, int]:
    return {model.__name__: model.objects.count()
            for model in (Candidate, Company, Tutor, Registration)}


def assert_clear_csv_error(error: CandidateImportError):
    assert error.errors
    assert "rien n'a été enregistré" in str(error)
    for issue in error.errors:
        assert isinstance(issue, Issue)
        assert isinstance(issue.message, str) and issue.message.strip()
        assert isinstance(issue.line, int) and issue.line >= 0
        if issue.column:
            assert issue.line >= 1  # a column is always named on a line
        str(issue).encode("utf-8")


def read_or_refuse(data: bytes):
    try:
        return read_rows(data)
    except CandidateImportError as error:
        assert_clear_csv_error(error)
        return None


@PROPERTY
@given(st.binary(max_size=2000))
@example(b"nom_naissance;prenoms\x00;date_naissance\n")
@example(codecs.BOM_UTF8)
@example(b'"\n')
def test_random_bytes_as_csv_are_refused_cleanly(data):
    read_or_refuse(data)


@PROPERTY
@given(st.text(max_size=500))
def test_random_text_as_csv_is_refused_cleanly(text):
    read_or_refuse(text.encode("utf-8"))


HEADER = ";".join(REQUIRED_COLUMNS) + "\r\n"
NUL_ROW = ("nom_naissance;prenoms;date_naissance;certification_type;certification_code;"
           f"parcours\r\nDu\x00rand;Alex;17/05/1995;CCPM;{CODES[1]};candidat_libre\r\n").encode()


@pytest.mark.parametrize(("data", "line", "fragment"), [
    ((HEADER + "x" * 200_000 + ";a;b;c;d;e\r\n").encode(), 2, "valeur trop longue"),
    (NUL_ROW, 2, "caractère nul"),
])
def test_unreadable_csv_is_refused_in_french_with_its_line(data, line, fragment):
    with pytest.raises(CandidateImportError) as caught:
        read_rows(data)
    [issue] = caught.value.errors
    assert (issue.line, fragment in issue.message) == (line, True), str(issue)


VALID_SIRETS = ["44306184100047", "51234567800019"]
BAD_DATES = ["31/02/2000", "2000-13-01", "1/2/26", "00/00/0000", "9999-12-31", "0001-01-01",
             "12/03/2001 ", "٣١/٠١/٢٠٠٠"]


def _dates():
    return st.dates().flatmap(lambda day: st.sampled_from(
        [day.strftime("%d/%m/%Y"), day.isoformat(), f"{day.day}/{day.month}/{day.year}"]))


PLAUSIBLE = {
    "reference_externe": st.text(max_size=60),
    "nom_naissance": st.sampled_from(["Durand", "Le Gall", "O'Brien", "DURAND", "Durand "]),
    "nom_usage": st.sampled_from(["", "Martin"]),
    "prenoms": st.sampled_from(["Alex", "Maël", "Jean-Pierre", "alex"]),
    "date_naissance": _dates() | st.sampled_from(BAD_DATES),
    "sexe": st.sampled_from(["", "M", "F", "m", "X", "ß"]),
    # Birth place for the declaration to the Caisse des Dépôts (issue 10).
    "code_commune_naissance": st.sampled_from(["", "44109", "2A004", "44000", "4410", "2C004"]),
    "type_code_commune": st.sampled_from(["", "insee", "postal", "INSEE", "autre"]),
    "commune_naissance": st.sampled_from(["", "Nantes", "Saint-Herblain"]),
    "pays_naissance": st.sampled_from(["", "FR", "fr", "XX"]),
    "email": st.emails() | st.sampled_from(["pas-un-email", "a@b"]),
    "telephone": st.text(alphabet="0123456789 +.-", max_size=20),
    "entreprise_siret": st.sampled_from(VALID_SIRETS) | st.text("0123456789 ", max_size=16),
    "entreprise_nom": st.sampled_from(["", "Forges", "FORGES", "Chaudronnerie"]),
    "tuteur_email": st.sampled_from(["", "t@forges.example", "T@Forges.example"])
    | st.emails(),
    "tuteur_nom": st.sampled_from(["", "Leroy"]),
    "tuteur_prenom": st.sampled_from(["", "Anne"]),
    "certification_type": st.sampled_from([*CertificationKind.values, "cqpm", "XYZ", ""]),
    "certification_code": st.sampled_from([*CODES, "MQ  2018 05 69 0312", "inconnu"]),
    "version": st.sampled_from(["", *LABELS, f"v{LABELS[0]}", "v", "V9"]),
    "parcours": st.sampled_from([*CandidatePath.values, "SALARIE", "autre", ""]),
    "date_inscription": st.just("") | _dates() | st.sampled_from(BAD_DATES),
}


CERTIFICATIONS = [(json.loads(raw)["certification"]["kind"],
                   json.loads(raw)["certification"]["code"],
                   json.loads(raw)["version"]["label"]) for raw in SAMPLES.values()]
WITH_EMPLOYER = ["salarie", "contrat_pro", "apprentissage"]
WITHOUT_EMPLOYER = ["candidat_libre", "demandeur_emploi", "vae"]


@st.composite
def valid_rows(draw) -> dict[str, str]:
    """A row the importer should accept (on a centre with the sample referentials)."""
    kind, code, label = draw(st.sampled_from(CERTIFICATIONS))
    birth = draw(st.dates(min_value=datetime.date(1950, 1, 1),
                          max_value=datetime.date(2005, 12, 31)))
    row = {
        "nom_naissance": draw(st.sampled_from(["Durand", "Le Gall", "O'Brien", "Nguyen"])),
        "prenoms": draw(st.sampled_from(["Alex", "Maël", "Jean-Pierre"])),
        "date_naissance": draw(st.sampled_from([birth.strftime("%d/%m/%Y"), birth.isoformat()])),
        "certification_type": draw(st.sampled_from([kind, kind.lower()])),
        "certification_code": code,
        "version": draw(st.sampled_from(["", label, f"v{label}"])),
        "sexe": draw(st.sampled_from(["", "M", "F", "f"])),
        "email": draw(st.sampled_from(["", "alex@example.org"])),
        "reference_externe": draw(st.sampled_from(["", "EXT-1", "EXT-2"])),
    }
    if draw(st.booleans()):
        row["parcours"] = draw(st.sampled_from(WITH_EMPLOYER))
        row["entreprise_siret"] = draw(st.sampled_from(VALID_SIRETS))
        row["entreprise_nom"] = "Forges " + row["entreprise_siret"][:3]
        if draw(st.booleans()):
            row.update(tuteur_email=f"tuteur{row['entreprise_siret'][:3]}@forges.example",
                       tuteur_nom="Leroy", tuteur_prenom="Anne")
    else:
        row["parcours"] = draw(st.sampled_from(WITHOUT_EMPLOYER))
    return row


@st.composite
def candidate_files(draw) -> bytes:
    """A CSV with the real header (some optional columns left out, in any order, names
    written as people do), valid rows with now and then one value replaced by a plausible
    mistake or random text, either delimiter, with or without a BOM."""
    optional = [c for c in COLUMNS if c not in REQUIRED_COLUMNS]
    chosen = optional if draw(st.booleans()) else draw(st.lists(st.sampled_from(optional),
                                                                unique=True))
    columns = draw(st.permutations([*REQUIRED_COLUMNS, *chosen]))
    header = [draw(st.sampled_from([c, c.upper(), c.replace("_", " "), f" {c} "]))
              for c in columns]
    rows = draw(st.lists(valid_rows(), min_size=1, max_size=4))
    for row in rows:
        if draw(st.integers(0, 2)) == 0:
            column = draw(st.sampled_from(columns))
            row[column] = draw(PLAUSIBLE[column] | st.text(max_size=30))
    delimiter = draw(st.sampled_from([";", ","]))
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter,
                        lineterminator=draw(st.sampled_from(["\r\n", "\n"])))
    writer.writerow(header)
    for row in rows:
        writer.writerow([row.get(c, "") for c in columns])
    data = out.getvalue().encode("utf-8")
    return codecs.BOM_UTF8 + data if draw(st.booleans()) else data


@pytest.fixture
def referentials(db):
    import_referentials(list(SAMPLES.items()))


def stored_candidate_texts() -> list[tuple]:
    return [*Candidate.objects.values_list("birth_name", "usage_name", "first_names", "email",
                                           "phone"),
            *Company.objects.values_list("name", "siret"),
            *Tutor.objects.values_list("last_name", "first_name", "email"),
            *Registration.objects.values_list("reference", "external_reference")]


def import_csv_or_refuse(centre, data: bytes, *, dry_run: bool):
    before = candidate_counts()
    try:
        result = import_registrations(centre=centre, actor=None, data=data, dry_run=dry_run)
    except CandidateImportError as error:
        assert_clear_csv_error(error)
        assert candidate_counts() == before
        return None
    assert isinstance(result, ImportResult)
    after = candidate_counts()
    if dry_run:
        assert after == before
    else:
        assert after["Registration"] - before["Registration"] == result.registrations_created
        assert after["Candidate"] - before["Candidate"] == result.candidates_created
        assert_storable(stored_candidate_texts())
    return result


@pytest.mark.django_db
@PROPERTY
@given(data=candidate_files(), dry_run=st.booleans())
@example(data=NUL_ROW, dry_run=False)  # stored « Du\x00rand »: crashes on PostgreSQL
def test_generated_candidate_file_imports_or_is_refused_without_a_trace(referentials, data,
                                                                        dry_run):
    centre = CentreFactory.build()

    def scenario():
        centre.save()
        import_csv_or_refuse(centre, data, dry_run=dry_run)

    rolled_back(scenario)


@pytest.mark.django_db
@FEW
@given(data=candidate_files(), cut=st.integers(0, 400), noise=st.binary(max_size=8))
def test_damaged_candidate_file_imports_or_is_refused_without_a_trace(referentials, data,
                                                                      cut, noise):
    centre = CentreFactory.build()
    damaged = data[:cut] + noise + data[cut:]

    def scenario():
        centre.save()
        import_csv_or_refuse(centre, damaged, dry_run=False)

    rolled_back(scenario)


@pytest.mark.django_db
@FEW
@given(st.binary(max_size=600))
def test_random_bytes_imported_as_candidates_are_refused_without_a_trace(referentials, data):
    centre = CentreFactory.build()

    def scenario():
        centre.save()
        import_csv_or_refuse(centre, data, dry_run=False)

    rolled_back(scenario)
