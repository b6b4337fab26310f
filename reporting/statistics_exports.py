"""The statistics as files: CSV and XLSX (one row per figure: section, indicator, value,
every text cell made safe against formula injection by candidates.exports.safe_cell) and the
« Rapport annuel d'activité » PDF, its charts as SVG drawn on the server."""

import csv
import io

from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from candidates.exports import safe_cell
from config.pdf import render_pdf
from reporting import statistics
from reporting.charts import bar_chart_svg
from reporting.forms_statistics import period_label
from reporting.statistics import figure_rows


def headers() -> list[str]:
    return [_("Rubrique"), _("Indicateur"), _("Valeur")]


def _safe(value):
    return safe_cell(str(value)) if isinstance(value, str) else value


def csv_text(stats: dict) -> str:
    """``;`` separated, with a BOM so that Excel reads UTF-8."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";")
    writer.writerow(headers())
    for row in figure_rows(stats):
        writer.writerow([_safe(str(value)) if not isinstance(value, int | float) else value
                         for value in row])
    return "\ufeff" + buffer.getvalue()


def xlsx_bytes(stats: dict) -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("Statistiques"))
    sheet.append(headers())
    for row in figure_rows(stats):
        sheet.append([_cell(sheet, value) for value in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _cell(sheet, value) -> WriteOnlyCell:
    if isinstance(value, int | float):
        return WriteOnlyCell(sheet, value=value)
    cell = WriteOnlyCell(sheet, value=safe_cell(ILLEGAL_CHARACTERS_RE.sub("", str(value))))
    cell.data_type = "s"  # never a formula, whatever the text
    return cell


def annual_report_pdf(filters: statistics.Filters) -> bytes:
    """The « Rapport annuel d'activité » for the branch and France Compétences: the page's
    figures over ``filters``, each chart as SVG beside its table."""
    stats = statistics.compute(filters)
    charts = [{**chart, "svg": bar_chart_svg(chart)} for chart in statistics.charts(stats)]
    return render_pdf("reporting/annual_report.html", {
        "stats": stats, "charts": charts, "generated_at": timezone.localtime(),
        "period": period_label(filters.start, filters.end),
        "centres": statistics.centre_names(filters),
    })
