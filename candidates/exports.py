"""CSV and XLSX export of the staff's filtered list of registrations.

The rows come from ``selectors.registration_list`` (already scoped to the user's centres and
joined with what the columns show), so the number of queries does not grow with the rows.
Every text cell goes through ``safe_cell``: an export is opened in a spreadsheet, where a
value such as ``=HYPERLINK(...)`` typed into a candidate's name would otherwise run.
"""

import csv
import datetime
import io
import unicodedata
from collections.abc import Iterable, Iterator

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from candidates.models import Registration
from config.querysets import in_chunks

# A spreadsheet reads a cell starting with one of these as a formula (or, for TAB and CR,
# strips them and reads what follows): OWASP "CSV injection". The full-width forms are read
# as the same signs by spreadsheets in East Asian locales.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d",
                    "\uff20")
DATE_FORMAT = "%d/%m/%Y"
XLSX_DATE_FORMAT = "DD/MM/YYYY"
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CHUNK_SIZE = 500


def _skipped_by_spreadsheets(char: str) -> bool:
    """Spaces and invisible characters that an import trims or drops before the first sign
    (« Trim spaces », control characters an XLSX cannot hold)."""
    return char.isspace() or unicodedata.category(char) in ("Cc", "Cf")


def safe_cell(value):
    """The value to write in a cell: text that a spreadsheet would take for a formula — also
    behind spaces or invisible characters — is prefixed with a single quote, which makes it
    plain text; other values are unchanged."""
    if not isinstance(value, str):
        return value
    start = 0
    while start < len(value) and _skipped_by_spreadsheets(value[start]) \
            and not value.startswith(FORMULA_TRIGGERS, start):
        start += 1
    if value.startswith(FORMULA_TRIGGERS, start):
        return "'" + value
    return value


def headers() -> list[str]:
    return [_("Référence"), _("Nom"), _("Prénoms"), _("Date de naissance"), _("Entreprise"),
            _("Certification"), _("Intitulé"), _("Version"), _("Parcours"), _("État"),
            _("Date d'inscription")]


def rows(registrations: QuerySet[Registration]) -> Iterator[list]:
    """One list of values per registration, in the order of ``headers()``; text cells
    already made safe."""
    for registration in in_chunks(registrations, CHUNK_SIZE):
        candidate = registration.candidate
        certification = registration.version.certification
        values = [
            registration.reference, candidate.last_name, candidate.first_names,
            candidate.birth_date, registration.company.name if registration.company else "",
            f"{certification.kind} {certification.code}", certification.title,
            registration.version.label, registration.get_path_display(),
            registration.get_state_display(), registration.registered_on,
        ]
        yield [safe_cell(str(value)) if not isinstance(value, datetime.date) else value
               for value in values]


class _Echo:
    """A file-like that hands back what it is given, so csv.writer can feed a stream."""

    def write(self, value: str) -> str:
        return value


def csv_lines(registrations: QuerySet[Registration]) -> Iterable[str]:
    """The CSV file, line by line: ``;`` separated, with a BOM so that Excel reads UTF-8."""
    writer = csv.writer(_Echo(), delimiter=";")
    yield "\ufeff" + writer.writerow(headers())
    for values in rows(registrations):
        yield writer.writerow([value.strftime(DATE_FORMAT) if isinstance(value, datetime.date)
                               else value for value in values])


def xlsx_bytes(registrations: QuerySet[Registration]) -> bytes:
    """The XLSX file, written row by row (openpyxl write-only mode keeps memory flat)."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("Inscriptions"))
    sheet.append(headers())
    for values in rows(registrations):
        sheet.append([_date_cell(sheet, value) if isinstance(value, datetime.date)
                      else _text_cell(sheet, value) for value in values])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _date_cell(sheet, value: datetime.date) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, value=value)
    cell.number_format = XLSX_DATE_FORMAT
    return cell


def _text_cell(sheet, value: str) -> WriteOnlyCell:
    """Always a text cell. Control characters are not allowed in an XLSX file: dropped rather
    than failing — and checked again afterwards, since dropping them may uncover a sign."""
    cell = WriteOnlyCell(sheet, value=safe_cell(ILLEGAL_CHARACTERS_RE.sub("", value)))
    cell.data_type = "s"  # openpyxl would write a value starting with « = » as a formula
    return cell
