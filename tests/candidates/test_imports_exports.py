"""CSV import of candidates and registrations (all or nothing, errors by line and column, dry
run) and CSV/XLSX export of the staff's filtered list (docs/import-candidats.md)."""

import codecs
import csv
import datetime
import io
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from openpyxl import load_workbook

from candidates import imports, selectors, services
from candidates.exports import safe_cell
from candidates.imports import COLUMNS, CandidateImportError, Issue, import_registrations
from candidates.models import (
    Candidate,
    Company,
    Registration,
    RegistrationEvent,
    RegistrationState,
    Tutor,
)
from certifications import exchange
from certifications.models import Certification, Role
from certifications.services import copy_version
from tests.factories import (
    CandidateFactory,
    CentreFactory,
    CompanyFactory,
    TutorFactory,
    UserFactory,
    member,
)

pytestmark = pytest.mark.django_db

EXAMPLE = Path(settings.BASE_DIR) / "tests" / "fixtures" / "candidates" / "exemple.csv"
REFERENTIALS = Path(settings.BASE_DIR) / "certifications" / "fixtures" / "referentials"
CQPM_CODE = "MQ 2018 05 69 0312"
SIRET_A = "44306184100047"
SIRET_B = "51234567800019"


# ---------------------------------------------------------------------------
# Fixtures and helpers
# ---------------------------------------------------------------------------
@pytest.fixture(autouse=True)
def referentials():
    """The demo's national referentials: CQPM MQ 2018 05 69 0312, its bloc B2, CCPM 0012."""
    exchange.import_referentials([(p.name, p.read_bytes())
                                  for p in sorted(REFERENTIALS.glob("*.json"))])


@pytest.fixture
def centre():
    return CentreFactory(code="uimm-44", name="UIMM Loire-Atlantique")


@pytest.fixture
def staff(centre):
    return member(Role.STAFF, centre)


def row(**values) -> dict:
    base = {"nom_naissance": "Durand", "prenoms": "Alex", "date_naissance": "17/05/1995",
            "certification_type": "CQPM", "certification_code": CQPM_CODE,
            "parcours": "salarie"}
    return {**base, **values}


def csv_bytes(rows, *, delimiter=";", bom=False, columns=None, encoding="utf-8") -> bytes:
    columns = columns or COLUMNS
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(columns)
    for values in rows:
        writer.writerow([values.get(column, "") for column in columns])
    data = out.getvalue().encode(encoding)
    return codecs.BOM_UTF8 + data if bom else data


def three_rows() -> list[dict]:
    """Three valid rows; line 3 (the second) is the one the tests spoil."""
    return [
        row(nom_naissance="Le Gall", prenoms="Maël", date_naissance="12/03/2001",
            entreprise_siret=SIRET_A, entreprise_nom="Forges de Basse-Indre",
            tuteur_email="a.leroy@forges.example", tuteur_nom="Leroy", tuteur_prenom="Anne"),
        row(nom_naissance="Nguyen", prenoms="Linh", date_naissance="05/11/1997",
            entreprise_siret=SIRET_B, entreprise_nom="Chaudronnerie de l'Estuaire",
            tuteur_email="p.morel@estuaire.example", tuteur_nom="Morel",
            tuteur_prenom="Pierre"),
        row(nom_naissance="Perrin", prenoms="Sarah", date_naissance="21/01/1979",
            entreprise_siret=SIRET_A),
    ]


def written() -> dict[str, int]:
    return {"candidates": Candidate.objects.count(), "companies": Company.objects.count(),
            "tutors": Tutor.objects.count(), "registrations": Registration.objects.count(),
            "events": RegistrationEvent.objects.count()}


def refused(centre, data: bytes) -> list[Issue]:
    with pytest.raises(CandidateImportError) as error:
        import_registrations(centre=centre, actor=None, data=data, dry_run=False)
    return error.value.errors


def has_error(errors: list[Issue], line: int, column: str, fragment: str) -> bool:
    return any(e.line == line and e.column == column and fragment in e.message for e in errors)


# ---------------------------------------------------------------------------
# The example file
# ---------------------------------------------------------------------------
def test_example_file_imports_every_row(centre, staff):
    result = import_registrations(centre=centre, actor=staff, data=EXAMPLE.read_bytes(),
                                  dry_run=False)

    assert (result.registrations_created, result.candidates_created, result.candidates_reused,
            result.companies_created, result.tutors_created) == (6, 5, 0, 2, 2)
    assert written() == {"candidates": 5, "companies": 2, "tutors": 2, "registrations": 6,
                         "events": 6}
    registrations = Registration.objects.filter(centre=centre)
    references = [r.reference for r in registrations]
    assert len(set(references)) == 6
    assert sorted(r.reference for r in result.rows) == sorted(references)
    for registration in registrations:
        events = list(registration.events.all())
        assert [(e.kind, e.to_state, e.actor) for e in events] == [
            (RegistrationEvent.Kind.TRANSITION, RegistrationState.INSCRIT, staff)]
    da_silva = Candidate.objects.get(birth_name="Da Silva")
    assert da_silva.registrations.count() == 2
    assert da_silva.employer.name == "Forges de Basse-Indre"
    le_gall = Registration.objects.get(candidate__birth_name="Le Gall")
    assert le_gall.company.siret == "41234567879198"  # written with spaces in the file
    assert le_gall.tutor.email == "bruno.menard@entreprise.example"
    assert le_gall.registered_on == datetime.date(2026, 9, 7)
    assert le_gall.external_reference == "OPCO-2026-001"
    nguyen = Registration.objects.get(candidate__birth_name="Nguyen")
    assert nguyen.tutor == le_gall.tutor  # named once in the file, shared
    assert nguyen.candidate.usage_name == "Martin"
    assert Registration.objects.get(candidate__birth_name="Koné").path == "vae"


def test_reimporting_the_same_file_is_refused_as_already_registered(centre):
    import_registrations(centre=centre, actor=None, data=EXAMPLE.read_bytes(), dry_run=False)
    before = written()

    errors = refused(centre, EXAMPLE.read_bytes())

    assert [e.line for e in errors] == [2, 3, 4, 5, 6, 7]
    assert all(e.column == "certification_code" and "déjà inscrit" in e.message
               for e in errors)
    assert written() == before


def test_known_candidate_is_reused_ignoring_case_and_accents(centre):
    known = CandidateFactory(centre=centre, birth_name="Lefèvre", first_names="Émilie",
                             birth_date=datetime.date(1990, 4, 2), email="")
    data = csv_bytes([row(nom_naissance="LEFEVRE", prenoms="emilie", date_naissance="1990-04-02",
                          email="emilie@exemple.fr", entreprise_siret=known.employer.siret)])

    result = import_registrations(centre=centre, actor=None, data=data, dry_run=False)

    assert (result.candidates_created, result.candidates_reused) == (0, 1)
    assert Candidate.objects.count() == 1
    known.refresh_from_db()
    assert known.registrations.count() == 1
    assert known.email == "emilie@exemple.fr"  # a blank of the record is filled, never overwritten


def test_known_candidate_values_are_checked_too(centre):
    known = CandidateFactory(centre=centre, birth_name="Durand", first_names="Alex",
                             birth_date=datetime.date(1995, 5, 17), email="")
    data = csv_bytes([row(email="pas-une-adresse", entreprise_siret=known.employer.siret)])

    errors = refused(centre, data)

    assert [(e.line, e.column) for e in errors] == [(2, "email")]


def test_candidate_of_another_centre_is_not_reused(centre):
    other = CandidateFactory(birth_name="Durand", first_names="Alex",
                             birth_date=datetime.date(1995, 5, 17))
    data = csv_bytes([row(entreprise_siret=other.employer.siret, entreprise_nom="Ailleurs SA")])

    result = import_registrations(centre=centre, actor=None, data=data, dry_run=False)

    assert (result.candidates_created, result.companies_created) == (1, 1)
    assert Company.objects.filter(siret=other.employer.siret).count() == 2


def test_a_closed_registration_does_not_block_a_new_one(centre):
    import_registrations(centre=centre, actor=None, data=csv_bytes(three_rows()[:1]),
                         dry_run=False)
    registration = Registration.objects.get()
    services.transition(registration=registration, to_state=RegistrationState.ABANDON,
                        reason="Changement d'entreprise.")

    result = import_registrations(centre=centre, actor=None, data=csv_bytes(three_rows()[:1]),
                                  dry_run=False)

    assert (result.registrations_created, result.candidates_reused) == (1, 1)


def test_default_version_is_the_latest_published_one(centre):
    certification = Certification.objects.get(code=CQPM_CODE)
    published = certification.current_version()
    copy_version(version=published, label="2026-1")  # a newer draft

    import_registrations(centre=centre, actor=None, data=csv_bytes(three_rows()),
                         dry_run=False)

    assert set(Registration.objects.values_list("version", flat=True)) == {published.pk}


def test_vae_off_the_rncp_is_imported_with_a_warning_on_its_line(centre):
    rows = three_rows()
    rows[1].update(certification_type="CCPM", certification_code="CCPM 0012", parcours="vae")

    result = import_registrations(centre=centre, actor=None, data=csv_bytes(rows),
                                  dry_run=False)

    assert result.registrations_created == 3
    assert [w.line for w in result.warnings] == [3]
    assert "RNCP" in result.warnings[0].message


# ---------------------------------------------------------------------------
# All or nothing: one bad line refuses the file
# ---------------------------------------------------------------------------
BAD_VALUES = [
    ("date_naissance", "31/02/1990", "date invalide « 31/02/1990 » (attendu JJ/MM/AAAA"),
    ("date_naissance", "1990/05/17", "date invalide"),
    ("date_naissance", "", "valeur obligatoire manquante"),
    ("date_naissance", "01/01/2020", "invraisemblable"),
    ("date_inscription", "2026-13-01", "date invalide"),
    ("date_inscription", "1/9/26", "date invalide"),
    ("date_inscription", "01/09/1926", "date d'inscription invraisemblable"),
    ("entreprise_siret", "51234567800018", "clé de contrôle"),
    ("entreprise_siret", "5123456780", "14 chiffres"),
    ("entreprise_nom", "", "entreprise inconnue du centre"),
    ("certification_type", "CAP", "type « CAP » inconnu"),
    ("certification_code", "MQ 1999 99 99 9999", "certification inconnue"),
    ("certification_code", "", "valeur obligatoire manquante"),
    ("version", "1999-1", "version « 1999-1 » inconnue"),
    ("parcours", "alternance", "parcours inconnu « alternance »"),
    ("parcours", "", "valeur obligatoire manquante"),
    ("nom_naissance", "", "valeur obligatoire manquante"),
    ("prenoms", "", "valeur obligatoire manquante"),
    ("sexe", "H", "attendu M ou F"),
    ("email", "pas-une-adresse", "adresse de courriel valide"),
    ("nom_naissance", "X" * 101, "100 caractères"),
    ("tuteur_nom", "", "nécessaire pour créer le tuteur"),
    ("reference_externe", "R" * 51, "50 caractères"),
]


@pytest.mark.parametrize(("column", "value", "message"), BAD_VALUES,
                         ids=[f"{c}={v[:12]!r}" for c, v, _m in BAD_VALUES])
def test_one_bad_line_refuses_the_file_naming_line_and_column(centre, column, value, message):
    rows = three_rows()
    rows[1][column] = value

    errors = refused(centre, csv_bytes(rows))

    assert has_error(errors, 3, column, message), [str(e) for e in errors]
    assert {e.line for e in errors} == {3}
    assert written() == dict.fromkeys(written(), 0)


def test_error_text_reads_line_column_message(centre):
    rows = three_rows()
    rows[1]["date_naissance"] = "31/02/1990"

    errors = refused(centre, csv_bytes(rows))

    assert str(errors[0]) == ("ligne 3, date_naissance : date invalide « 31/02/1990 » "
                              "(attendu JJ/MM/AAAA ou AAAA-MM-JJ)")


def test_every_error_of_the_file_is_reported_at_once(centre):
    rows = three_rows()
    rows[0]["parcours"] = "inconnu"
    rows[2]["date_naissance"] = "hier"

    errors = refused(centre, csv_bytes(rows))

    assert [(e.line, e.column) for e in errors] == [(2, "parcours"), (4, "date_naissance")]


def test_unpublished_version_is_refused(centre):
    copy_version(version=Certification.objects.get(code=CQPM_CODE).current_version(),
                 label="2026-1")
    rows = three_rows()
    rows[1]["version"] = "2026-1"

    errors = refused(centre, csv_bytes(rows))

    assert has_error(errors, 3, "version", "n'est pas publiée")


def test_employed_path_without_company_is_refused(centre):
    rows = three_rows()
    rows[1].update(entreprise_siret="", entreprise_nom="", tuteur_email="", tuteur_nom="",
                   tuteur_prenom="")

    errors = refused(centre, csv_bytes(rows))

    assert has_error(errors, 3, "entreprise_siret", "suppose une entreprise")


def test_tutor_of_another_company_is_refused(centre):
    other = TutorFactory(company=CompanyFactory(centre=centre, name="Autre SA"),
                         email="a.leroy@forges.example")

    errors = refused(centre, csv_bytes(three_rows()))

    assert has_error(errors, 2, "tuteur_email", "rattaché à une autre entreprise : Autre SA")
    assert other.company.siret in errors[0].message


def test_tutor_of_another_centre_is_not_a_conflict(centre):
    TutorFactory(email="a.leroy@forges.example")  # a company of another centre

    result = import_registrations(centre=centre, actor=None, data=csv_bytes(three_rows()),
                                  dry_run=False)

    assert result.tutors_created == 2


def test_duplicate_row_in_the_file_is_refused(centre):
    rows = three_rows()
    rows.append({**rows[0], "nom_naissance": "LE GALL", "prenoms": "Mael"})

    errors = refused(centre, csv_bytes(rows))

    assert has_error(errors, 5, "", "doublon de la ligne 2")


def test_one_siret_under_two_names_is_refused(centre):
    rows = three_rows()
    rows[2]["entreprise_nom"] = "Un autre nom"

    errors = refused(centre, csv_bytes(rows))

    assert has_error(errors, 4, "entreprise_nom", "ligne 2")


# ---------------------------------------------------------------------------
# The file's shape
# ---------------------------------------------------------------------------
def test_unknown_column_is_refused_with_a_suggestion(centre):
    columns = [c if c != "date_naissance" else "date_naisance" for c in COLUMNS]

    errors = refused(centre, csv_bytes(three_rows(), columns=columns))

    assert has_error(errors, 1, "date_naisance", "vouliez-vous dire « date_naissance »")
    assert has_error(errors, 1, "date_naissance", "colonne obligatoire absente")


def test_missing_columns_are_named(centre):
    columns = [c for c in COLUMNS if c not in ("prenoms", "parcours")]

    errors = refused(centre, csv_bytes(three_rows(), columns=columns))

    assert [(e.line, e.column) for e in errors] == [(1, "prenoms"), (1, "parcours")]
    assert written()["candidates"] == 0


def test_header_names_tolerate_case_accents_and_spaces(centre):
    columns = ["Nom naissance", "Prénoms", "Date-Naissance", "CERTIFICATION_TYPE",
               "certification_code", "parcours"]
    data = ("\r\n".join([";".join(columns),
                         f"Durand;Alex;17/05/1995;CQPM;{CQPM_CODE};demandeur_emploi"])
            .encode())

    result = import_registrations(centre=centre, actor=None, data=data, dry_run=False)

    assert result.registrations_created == 1


def test_non_utf8_file_is_refused_with_its_line(centre):
    errors = refused(centre, csv_bytes(three_rows(), encoding="cp1252"))

    assert len(errors) == 1
    assert errors[0].line == 2  # « Maël » is on line 2
    assert "UTF-8" in errors[0].message


@pytest.mark.parametrize("delimiter", [";", ","])
@pytest.mark.parametrize("bom", [True, False], ids=["bom", "sans-bom"])
def test_semicolon_or_comma_with_or_without_bom(centre, delimiter, bom):
    rows = three_rows()
    rows[1]["entreprise_nom"] = "Chaudronnerie de l'Estuaire, Ateliers; et Cie"  # quoted

    result = import_registrations(centre=centre, actor=None,
                                  data=csv_bytes(rows, delimiter=delimiter, bom=bom),
                                  dry_run=False)

    assert result.registrations_created == 3
    assert Company.objects.get(siret=SIRET_B).name == rows[1]["entreprise_nom"]


def test_value_beyond_the_header_is_refused(centre):
    lines = csv_bytes(three_rows()).decode().split("\r\n")
    lines[3] += ";en trop"
    data = "\r\n".join(lines).encode()

    errors = refused(centre, data)

    assert any(e.line == 4 and "hors des colonnes" in e.message for e in errors)


def test_blank_lines_and_trailing_separators_are_ignored(centre):
    text = csv_bytes(three_rows()).decode()
    lines = text.split("\r\n")
    data = "\r\n".join([lines[0] + ";", lines[1] + ";", ";;;;", "", *lines[2:]]).encode()

    result = import_registrations(centre=centre, actor=None, data=data, dry_run=False)

    assert result.registrations_created == 3


@pytest.mark.parametrize(("data", "message"), [
    (b"", "vide"),
    (";".join(COLUMNS).encode(), "aucune ligne de données"),
    (b"x" * (imports.MAX_BYTES + 1), "5 Mo"),
])
def test_empty_or_oversized_file_is_refused(centre, data, message):
    errors = refused(centre, data)

    assert len(errors) == 1 and message in errors[0].message


def test_more_than_5000_rows_is_refused(centre):
    line = ";".join(row().get(c, "") for c in COLUMNS)
    data = "\n".join([";".join(COLUMNS), *[line] * (imports.MAX_ROWS + 1)]).encode()

    errors = refused(centre, data)

    assert len(errors) == 1
    assert "plus de 5\u202f000 lignes de données" in errors[0].message


# ---------------------------------------------------------------------------
# Dry run
# ---------------------------------------------------------------------------
def test_dry_run_reports_what_would_be_created_and_writes_nothing(centre, staff):
    result = import_registrations(centre=centre, actor=staff, data=EXAMPLE.read_bytes(),
                                  dry_run=True)

    assert result.dry_run
    assert (result.registrations_created, result.candidates_created, result.companies_created,
            result.tutors_created) == (6, 5, 2, 2)
    assert [r.line for r in result.rows] == [2, 3, 4, 5, 6, 7]
    assert all(r.registration_id is None for r in result.rows)
    assert "6 inscriptions seraient créées" in result.summary()
    assert written() == dict.fromkeys(written(), 0)


def test_dry_run_refuses_a_bad_file_like_a_real_import(centre):
    rows = three_rows()
    rows[1]["parcours"] = "stage"

    with pytest.raises(CandidateImportError):
        import_registrations(centre=centre, actor=None, data=csv_bytes(rows), dry_run=True)


# ---------------------------------------------------------------------------
# Command
# ---------------------------------------------------------------------------
def test_command_imports_and_prints_a_french_summary(centre, staff):
    out = io.StringIO()

    call_command("import_candidates", str(EXAMPLE), "--centre", centre.code, "--user",
                 staff.username, stdout=out)

    assert "6 inscriptions créées" in out.getvalue()
    assert Registration.objects.filter(centre=centre, created_by=staff).count() == 6


def test_command_dry_run_writes_nothing(centre):
    out = io.StringIO()

    call_command("import_candidates", str(EXAMPLE), "--centre", centre.code, "--dry-run",
                 stdout=out)

    assert "6 inscriptions seraient créées" in out.getvalue()
    assert "Simulation" in out.getvalue()
    assert Registration.objects.count() == 0


def test_command_prints_every_error_and_exits_non_zero(centre, tmp_path, capsys):
    rows = three_rows()
    rows[0]["date_naissance"] = "31/02/1990"
    rows[2]["entreprise_siret"] = "51234567800018"
    path = tmp_path / "lot.csv"
    path.write_bytes(csv_bytes(rows))
    # CommandError is what makes manage.py exit with status 1 (Django's contract); running
    # the command through ManagementUtility would close the test's database connection.
    err = io.StringIO()
    with pytest.raises(CommandError) as refused:
        call_command("import_candidates", str(path), "--centre", centre.code, stderr=err)
    stderr = err.getvalue() + str(refused.value)
    assert "ligne 2, date_naissance : date invalide « 31/02/1990 »" in stderr
    assert "ligne 4, entreprise_siret : « 51234567800018 »" in stderr
    assert "rien n'a été enregistré" in stderr
    assert Registration.objects.count() == 0


def test_command_refuses_an_unknown_centre():
    with pytest.raises(CommandError, match="Centre inconnu"):
        call_command("import_candidates", str(EXAMPLE), "--centre", "nulle-part")


# ---------------------------------------------------------------------------
# Import page
# ---------------------------------------------------------------------------
def upload(data: bytes, name="lot.csv"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data, content_type="text/csv")


@pytest.mark.parametrize("url_name", ["candidates:registration_import",
                                      "candidates:registration_export"])
def test_anonymous_is_sent_to_login(client, url_name):
    response = client.get(reverse(url_name))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("role", [None, Role.EVALUATOR, Role.JURY, Role.NATIONAL])
@pytest.mark.parametrize("url_name", ["candidates:registration_import",
                                      "candidates:registration_export"])
def test_outsiders_get_404(client, centre, role, url_name):
    user = UserFactory() if role is None else member(role, centre)
    client.force_login(user)

    assert client.get(reverse(url_name)).status_code == 404
    assert client.post(reverse(url_name)).status_code == 404


def test_import_page_offers_a_dry_run_checked_by_default(client, staff):
    client.force_login(staff)

    response = client.get(reverse("candidates:registration_import"))

    assert response.status_code == 200
    form = response.context["form"]
    assert form.fields["dry_run"].initial is True
    assert "centre" not in form.fields  # a single centre: nothing to choose
    assert 'enctype="multipart/form-data"' in response.content.decode()


def test_import_page_dry_run_shows_the_report(client, staff):
    client.force_login(staff)

    response = client.post(reverse("candidates:registration_import"),
                           {"file": upload(EXAMPLE.read_bytes()), "dry_run": "on"})

    assert response.status_code == 200
    body = response.content.decode()
    assert "Simulation réussie" in body
    assert "6 inscriptions seraient créées" in body
    assert Registration.objects.count() == 0


def test_import_page_imports_into_the_staff_centre(client, centre, staff):
    client.force_login(staff)

    response = client.post(reverse("candidates:registration_import"),
                           {"file": upload(EXAMPLE.read_bytes())})

    assert response.status_code == 200
    assert "Import réussi" in response.content.decode()
    assert Registration.objects.filter(centre=centre, created_by=staff).count() == 6


def test_import_page_lists_errors_by_line(client, staff):
    rows = three_rows()
    rows[1]["date_naissance"] = "31/02/1990"
    client.force_login(staff)

    response = client.post(reverse("candidates:registration_import"),
                           {"file": upload(csv_bytes(rows))})

    assert response.status_code == 200
    assert response.context["errors"] == [
        Issue(3, "date_naissance", "date invalide « 31/02/1990 » (attendu JJ/MM/AAAA ou "
                                   "AAAA-MM-JJ)")]
    assert "rien n&#x27;a été enregistré" in response.content.decode()
    assert Registration.objects.count() == 0


def test_staff_of_several_centres_chooses_among_their_own_only(client, centre, staff):
    second = CentreFactory()
    foreign = CentreFactory()
    member(Role.STAFF, foreign)
    from tests.factories import MembershipFactory

    MembershipFactory(user=staff, centre=second, role=Role.STAFF)
    client.force_login(staff)

    response = client.get(reverse("candidates:registration_import"))
    assert set(response.context["form"].fields["centre"].queryset) == {centre, second}

    response = client.post(reverse("candidates:registration_import"),
                           {"file": upload(EXAMPLE.read_bytes()), "centre": foreign.pk})
    assert "centre" in response.context["form"].errors
    assert Registration.objects.count() == 0

    client.post(reverse("candidates:registration_import"),
                {"file": upload(EXAMPLE.read_bytes()), "centre": second.pk})
    assert set(Registration.objects.values_list("centre", flat=True)) == {second.pk}


# ---------------------------------------------------------------------------
# Export
# ---------------------------------------------------------------------------
def export(client, **params):
    response = client.get(reverse("candidates:registration_export"), params)
    assert response.status_code == 200
    if response.streaming:
        return response, b"".join(response.streaming_content)
    return response, response.content


def read_csv(content: bytes) -> list[list[str]]:
    assert content.startswith(codecs.BOM_UTF8)
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter=";"))


def read_xlsx(content: bytes) -> list[list]:
    sheet = load_workbook(io.BytesIO(content), read_only=True).active
    return [list(values) for values in sheet.iter_rows(values_only=True)]


@pytest.fixture
def imported(centre, staff):
    import_registrations(centre=centre, actor=staff, data=EXAMPLE.read_bytes(), dry_run=False)
    return list(Registration.objects.filter(centre=centre))


def test_csv_export_matches_the_filtered_list(client, staff, imported):
    client.force_login(staff)
    certification = Certification.objects.get(code=CQPM_CODE)

    response, content = export(client, certification=certification.pk, q="a",
                               format="csv")

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response["Content-Disposition"]
    expected = selectors.registration_list(staff, search="a", certification=certification)
    table = read_csv(content)
    assert table[0] == ["Référence", "Nom", "Prénoms", "Date de naissance", "Entreprise",
                        "Certification", "Intitulé", "Version", "Parcours", "État",
                        "Date d'inscription"]
    assert [line[0] for line in table[1:]] == [r.reference for r in expected]
    assert 0 < len(table) - 1 < len(imported)
    first = expected[0]
    assert table[1] == [
        first.reference, first.candidate.last_name, first.candidate.first_names,
        first.candidate.birth_date.strftime("%d/%m/%Y"), first.company.name,
        f"CQPM {CQPM_CODE}", "Technicien(ne) de maintenance industrielle", "2024-1",
        first.get_path_display(), "Inscrit", first.registered_on.strftime("%d/%m/%Y"),
    ]


def test_xlsx_export_matches_the_filtered_list(client, staff, imported):
    client.force_login(staff)

    response, content = export(client, state="inscrit", step="1", year="2026", format="xlsx")

    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    table = read_xlsx(content)
    expected = list(selectors.registration_list(staff, state="inscrit", step=1, year=2026))
    assert len(expected) == 6
    assert [line[0] for line in table[1:]] == [r.reference for r in expected]
    koné = next(line for line in table if line[1] == "Koné")
    assert koné[3] == datetime.datetime(1985, 8, 8)
    assert koné[4] == "Forges de Basse-Indre"
    assert koné[8] == "VAE — validation des acquis de l'expérience"


def test_invalid_filters_are_ignored_like_on_the_list(client, staff, imported):
    client.force_login(staff)

    _response, content = export(client, state="nimporte", step="9", year="abc")

    assert len(read_csv(content)) == 1 + len(imported)


def test_export_never_shows_another_centre(client, staff, imported):
    other_centre = CentreFactory()
    import_registrations(centre=other_centre, actor=None, data=EXAMPLE.read_bytes(),
                         dry_run=False)
    other_staff = member(Role.STAFF, other_centre)
    mine = {r.reference for r in imported}
    theirs = set(Registration.objects.filter(centre=other_centre)
                 .values_list("reference", flat=True))
    client.force_login(staff)

    for fmt, reader in (("csv", read_csv), ("xlsx", read_xlsx)):
        _response, content = export(client, format=fmt)
        assert {line[0] for line in reader(content)[1:]} == mine

    client.force_login(other_staff)
    _response, content = export(client)
    assert {line[0] for line in read_csv(content)[1:]} == theirs
    assert not mine & theirs


@pytest.mark.parametrize(("value", "expected"), [
    ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
    ("+33 6 12 34 56 78", "'+33 6 12 34 56 78"),
    ("-2+3", "'-2+3"),
    ("@SUM(1)", "'@SUM(1)"),
    ("\t=1", "'\t=1"),
    ("\r=1", "'\r=1"),
    ("Durand", "Durand"),
    ("Jean-Pierre", "Jean-Pierre"),
    ("", ""),
    (None, None),
    (42, 42),
    (datetime.date(2026, 1, 2), datetime.date(2026, 1, 2)),
])
def test_safe_cell_neutralises_formulas(value, expected):
    assert safe_cell(value) == expected


def test_formula_in_a_name_is_exported_as_text(client, centre, staff):
    candidate = CandidateFactory(centre=centre, birth_name='=HYPERLINK("http://x")',
                                 first_names="@SUM(1)")
    services.create_registration(actor=None, centre=centre, candidate=candidate,
                                 version=Certification.objects.get(code="CCPM 0012")
                                 .current_version(), path="candidat_libre")
    client.force_login(staff)

    _response, content = export(client, format="csv")
    line = read_csv(content)[1]
    assert line[1:3] == ["'=HYPERLINK(\"http://x\")", "'@SUM(1)"]

    _response, content = export(client, format="xlsx")
    sheet = load_workbook(io.BytesIO(content)).active
    assert sheet["B2"].value == "'=HYPERLINK(\"http://x\")"
    assert sheet["B2"].data_type == "s"
    assert sheet["C2"].value == "'@SUM(1)"


def bulk_registrations(centre, count: int):
    company = CompanyFactory(centre=centre)
    start = Registration.objects.filter(centre=centre).count()
    version = Certification.objects.get(code=CQPM_CODE).current_version()
    candidates = Candidate.objects.bulk_create(
        Candidate(centre=centre, birth_name=f"Nom{n}", first_names="Prénom",
                  birth_date=datetime.date(1990, 1, 1), employer=company)
        for n in range(count))
    Registration.objects.bulk_create(
        Registration(centre=centre, candidate=candidate, version=version, path="salarie",
                     company=company, reference=f"{centre.code}-{start + n:05d}")
        for n, candidate in enumerate(candidates))


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_query_count_does_not_grow_with_rows(client, centre, staff, fmt,
                                                    django_assert_max_num_queries):
    client.force_login(staff)
    bulk_registrations(centre, 5)
    with django_assert_max_num_queries(10):
        _response, content = export(client, format=fmt)
    bulk_registrations(CentreFactory(), 1)  # noise of another centre
    bulk_registrations(centre, 295)
    with django_assert_max_num_queries(10):
        _response, content = export(client, format=fmt)
    reader = read_csv if fmt == "csv" else read_xlsx
    assert len(reader(content)) == 301



def test_export_rows_are_read_in_chunks_in_the_list_order(centre, monkeypatch):
    """No server-side cursor on PostgreSQL: the export reads CHUNK_SIZE rows at a time and
    keeps the list's order across chunk boundaries."""
    from candidates import exports
    from candidates.models import Registration
    from tests.factories import make_registration

    registrations = [make_registration(centre=centre) for _ in range(7)]
    monkeypatch.setattr(exports, "CHUNK_SIZE", 3)
    queryset = Registration.objects.filter(centre=centre).select_related(
        "candidate", "company", "version__certification").order_by("-pk")
    references = [row[0] for row in exports.rows(queryset)]
    assert references == [r.reference for r in sorted(registrations, key=lambda r: -r.pk)]
