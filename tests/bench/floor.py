"""The floor of a page: a bare view, in the same process and behind the same middleware,
that runs one query and renders a Django template to a response of the requested size. Behind
that middleware a signed-in request also reads its session and user (the two-factor check),
as every page does.

A page's median divided by the floor's median for the same size says how much the page costs
beyond what any page of that size must cost here (the budget is 3×)."""

import functools

from django.contrib.contenttypes.models import ContentType
from django.http import HttpResponse
from django.template import engines

FLOOR_TEMPLATE = """<!doctype html>
<html lang="fr"><head><meta charset="utf-8"><title>{{ title }}</title></head>
<body><main><h1>{{ title }}</h1><table class="table">
{% for row in rows %}<tr><td>{{ forloop.counter }}</td><td>{{ row.label }}</td>\
<td>{{ row.model|upper }}</td><td>{{ row.text }}</td></tr>
{% endfor %}</table><p>{{ padding }}</p></main></body></html>
"""
ROW_TEXT = "Évaluation & suivi des compétences — ligne de référence"


@functools.cache
def _template():
    return engines["django"].from_string(FLOOR_TEMPLATE)


def _render(source: tuple, count: int, padding: int) -> str:
    rows = [{"label": source[i % len(source)][0], "model": source[i % len(source)][1],
             "text": ROW_TEXT} for i in range(count)] if source else []
    return _template().render({"title": "Plancher", "rows": rows, "padding": "x" * padding})


@functools.cache
def _shape(size: int, source: tuple) -> tuple[int, int]:
    """How many rows and padding characters make ``size`` bytes (computed once per size)."""
    empty = len(_render(source, 0, 0).encode())
    one_row = len(_render(source, 1, 0).encode()) - empty
    count = max(0, (size - empty) // one_row) if source and one_row > 0 else 0
    rendered = len(_render(source, count, 0).encode())
    while count and rendered > size:  # rows differ in length: step back below the size
        count = max(0, count - max(1, (rendered - size) // one_row))
        rendered = len(_render(source, count, 0).encode())
    return count, max(0, size - rendered)


def floor_view(request, size: int):
    # The one query: a few short rows, as a page reads its data.
    source = tuple(ContentType.objects.order_by("pk").values_list("app_label", "model")[:20])
    count, padding = _shape(size, source)
    return HttpResponse(_render(source, count, padding))
