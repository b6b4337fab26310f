from django.urls import path

from evaluations import views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
]
