from django.urls import path

from evaluations import views, views_documents

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    # Public: anyone holding a document checks it here (no login).
    path("verify/", views_documents.verify_form, name="verify_form"),
    path("verify/<str:code>/", views_documents.verify, name="verify"),
]
