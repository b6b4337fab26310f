"""Two-factor sign-in pages, mounted at /accounts/2fa/ (config/urls.py)."""

from django.urls import path

from commissions import views_two_factor as views

app_name = "two_factor"
urlpatterns = [
    path("", views.overview, name="overview"),
    path("verification/", views.verify, name="verify"),
    path("activation/", views.enrol, name="enrol"),
    path("codes-de-secours/", views.recovery_codes, name="recovery_codes"),
    path("comptes/", views.account_list, name="account_list"),
    path("comptes/<int:pk>/reinitialisation/", views.reset, name="reset"),
]
