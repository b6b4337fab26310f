"""Rendering an HTML template to PDF with WeasyPrint (DESIGN.md §5). Infrastructure only:
documents get their data from selectors and snapshots; fonts and images are local files."""

import io
from pathlib import Path

import segno
from django.conf import settings
from django.template.loader import render_to_string


def qr_svg_data_uri(text: str) -> str:
    return segno.make(text, error="m").svg_data_uri(scale=3, border=1)


def render_pdf(template: str, context: dict) -> bytes:
    from weasyprint import HTML

    html = render_to_string(template, context)
    base_url = str(Path(settings.BASE_DIR) / "static") + "/"
    buffer = io.BytesIO()
    HTML(string=html, base_url=base_url).write_pdf(buffer)
    return buffer.getvalue()
