"""Bench-only URLs: the project's, plus the floor view. Active only inside the bench run
(``override_settings(ROOT_URLCONF="tests.bench.urls")``), never in the product."""

from django.urls import path

from config import urls as project_urls
from tests.bench.floor import floor_view

urlpatterns = [
    path("__bench__/floor/<int:size>/", floor_view, name="bench_floor"),
    *project_urls.urlpatterns,
]

handler403 = project_urls.handler403
handler404 = project_urls.handler404
handler500 = project_urls.handler500
