"""Pages reached through a personal link, without an account (mounted at /lien/)."""

from django.urls import path

from candidates import public_views

app_name = "links"
urlpatterns = [
    path("candidat/<str:token>/", public_views.candidate_space, name="candidate_space"),
    path("avis/merci/", public_views.company_opinion_thanks, name="company_opinion_thanks"),
    path("avis/<str:token>/", public_views.company_opinion, name="company_opinion"),
]
