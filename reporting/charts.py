"""Small SVG bar charts drawn on the server for the annual report PDF (WeasyPrint renders
inline SVG). They read the same chart structure as the page's Chart.js charts
(``reporting.statistics.charts``): labels, datasets, optionally stacked. No plotting
library: a horizontal bar per label, one colour per dataset."""

from xml.sax.saxutils import escape

from django.utils.safestring import SafeString, mark_safe

# The page's palette (static/js/statistics.js), so that both read alike.
COLOURS = ["#0d6efd", "#fd7e14", "#6c757d", "#198754", "#dc3545"]
WIDTH = 680
LABEL_WIDTH = 250
BAR_HEIGHT = 14
ROW_GAP = 8
LEGEND_HEIGHT = 22
MAX_LABEL = 42


def _short(label: str) -> str:
    return label if len(label) <= MAX_LABEL else label[:MAX_LABEL - 1] + "…"


def bar_chart_svg(chart: dict) -> SafeString:
    """A horizontal bar chart of ``chart`` (id, title, labels, datasets, stacked?) as an
    ``<svg>`` element; every text escaped."""
    labels = chart["labels"]
    datasets = chart["datasets"]
    stacked = chart.get("stacked", False)
    per_row = 1 if stacked or len(datasets) == 1 else len(datasets)
    row_height = per_row * BAR_HEIGHT + ROW_GAP
    if stacked:
        peak = max([sum(values) for values in zip(*(d["data"] for d in datasets), strict=True)]
                   or [0])
    else:
        peak = max([value for d in datasets for value in d["data"]] or [0])
    scale = (WIDTH - LABEL_WIDTH - 40) / peak if peak else 0
    height = LEGEND_HEIGHT + max(len(labels), 1) * row_height + 10
    title = escape(str(chart["title"]), {'"': "&quot;"})
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
             f'viewBox="0 0 {WIDTH} {height}" role="img" aria-label="{title}" '
             f'class="chart" font-family="sans-serif" font-size="10">']
    x = LABEL_WIDTH
    for index, dataset in enumerate(datasets):  # the legend
        colour = COLOURS[index % len(COLOURS)]
        parts.append(f'<rect x="{x}" y="4" width="10" height="10" fill="{colour}"/>'
                     f'<text x="{x + 14}" y="13">{escape(str(dataset["label"]))}</text>')
        x += 24 + 6 * len(str(dataset["label"]))
    if not labels:
        parts.append(f'<text x="{LABEL_WIDTH}" y="{LEGEND_HEIGHT + 12}">—</text>')
    for row, label in enumerate(labels):
        top = LEGEND_HEIGHT + row * row_height
        parts.append(f'<text x="{LABEL_WIDTH - 6}" y="{top + BAR_HEIGHT - 3}" '
                     f'text-anchor="end">{escape(_short(str(label)))}</text>')
        left = LABEL_WIDTH
        for index, dataset in enumerate(datasets):
            value = dataset["data"][row]
            colour = COLOURS[index % len(COLOURS)]
            width = value * scale
            y = top if stacked or per_row == 1 else top + index * BAR_HEIGHT
            x = left if stacked else LABEL_WIDTH
            parts.append(f'<rect x="{x:.1f}" y="{y}" width="{width:.1f}" '
                         f'height="{BAR_HEIGHT - 2}" fill="{colour}"/>')
            if not stacked:
                parts.append(f'<text x="{x + width + 4:.1f}" y="{y + BAR_HEIGHT - 4}">'
                             f'{value}</text>')
            left += width
        if stacked:
            total = sum(d["data"][row] for d in datasets)
            parts.append(f'<text x="{left + 4:.1f}" y="{top + BAR_HEIGHT - 4}">{total}</text>')
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text above is escaped
