"""Exports are opened in a spreadsheet: a candidate's name such as ``=HYPERLINK(…)`` must
arrive there as text, never as a formula — also when spaces or invisible characters come
first, and also in XLSX, where dropping the characters the format forbids could uncover a
sign. tests/candidates/test_imports_exports.py covers the plain cases; here, the evasions
and the files read back."""

import codecs
import csv
import io
import zipfile

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from candidates.exports import safe_cell
from candidates.models import Candidate, Company
from certifications.models import Role
from tests.factories import make_registration, member

pytestmark = pytest.mark.django_db

PAYLOAD = "=HYPERLINK(\"http://evil.example\",\"x\")"


@pytest.mark.parametrize("value", [
    " =1+1",
    "   +33 6 12 34 56 78",
    "\u00a0=1+1",  # non-breaking space
    "\u3000@SUM(A1)",  # ideographic space
    "\u200b=1+1",  # zero-width space
    "\ufeff=1+1",  # byte order mark
    "\x01=cmd|' /C calc'!A0",
    "\x1f\x0b-2+3",
    "\n=1+1",
    " \t=1+1",
    "\uff1d1+1",  # full-width equals sign
    "\uff0b1",
    "\uff20SUM(A1)",
])
def test_a_formula_behind_spaces_or_invisible_characters_is_made_text(value):
    assert safe_cell(value) == "'" + value


@pytest.mark.parametrize("value", ["Durand", " Durand", "Jean-Pierre", "O'Brien", "",
                                   "5 rue de l'Usine", "\u00a0Zoé", "'=déjà neutralisé"])
def test_ordinary_text_is_unchanged(value):
    assert safe_cell(value) == value


@pytest.fixture
def staff_client(client, media_root):
    registration = make_registration()
    Candidate.objects.filter(pk=registration.candidate_id).update(
        birth_name="\x01" + PAYLOAD, first_names=" @SUM(1)")
    Company.objects.filter(pk=registration.company_id).update(name="\u00a0+cmd|'/C calc'!A0")
    client.force_login(member(Role.STAFF, centre=registration.centre))
    return client


def export(client, fmt: str) -> bytes:
    response = client.get(reverse("candidates:registration_export"), {"format": fmt})
    assert response.status_code == 200
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_the_csv_read_back_holds_the_values_as_quoted_text(staff_client):
    content = export(staff_client, "csv")

    assert content.startswith(codecs.BOM_UTF8)
    header, row = list(csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter=";"))
    assert row[1] == "'\x01" + PAYLOAD
    assert row[2] == "' @SUM(1)"
    assert row[4] == "'\u00a0+cmd|'/C calc'!A0"


def test_the_xlsx_read_back_has_text_cells_only_and_no_formula(staff_client):
    content = export(staff_client, "xlsx")

    sheet = load_workbook(io.BytesIO(content)).active
    # The control character an XLSX cannot hold is dropped, and the formula stays text.
    assert sheet["B2"].value == "'" + PAYLOAD
    assert sheet["C2"].value == "' @SUM(1)"
    assert sheet["E2"].value == "'\u00a0+cmd|'/C calc'!A0"
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            assert cell.data_type in ("s", "d", "n"), (cell.coordinate, cell.value)
            if isinstance(cell.value, str):
                assert not cell.value.lstrip().startswith(("=", "+", "-", "@"))
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        sheet_xml = archive.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet_xml and "<f " not in sheet_xml
