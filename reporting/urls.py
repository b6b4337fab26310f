"""/rapports/: the declarations to the Caisse des Dépôts and the statistics, each in its own
module of URLs."""

from django.urls import include, path

app_name = "reporting"

urlpatterns = [
    path("declarations/", include("reporting.urls_declarations")),
    path("statistiques/", include("reporting.urls_statistics")),
]
