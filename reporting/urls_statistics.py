"""URLs of the statistics page and the annual activity report."""

from django.urls import path

from reporting import views_statistics

urlpatterns = [
    path("", views_statistics.statistics_page, name="statistics"),
    path("export/", views_statistics.statistics_export, name="statistics_export"),
    path("rapport-annuel/", views_statistics.annual_report, name="annual_report"),
]
