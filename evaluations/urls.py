from django.urls import path

from evaluations import views, views_acquired, views_documents, views_personal_data

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    # Public: anyone holding a document checks it here (no login).
    path("verify/", views_documents.verify_form, name="verify_form"),
    path("verify/<str:code>/", views_documents.verify, name="verify"),
    # Staff of the candidate's centre: the right-of-access export (DOMAIN.md §8).
    path("donnees-personnelles/candidats/<int:candidate_pk>/export/",
         views_personal_data.personal_data_export, name="personal_data_export"),
    # Partial results that last (DOMAIN.md §6): the dossier's carried-over panel (staff),
    # the candidate's relevé through their personal link (beside the links' /lien/ pages).
    path("candidats/inscriptions/<int:registration_pk>/acquis/",
         views_acquired.registration_carried_over, name="registration_carried_over"),
    path("lien/candidat/<str:token>/releve.pdf", views_acquired.candidate_releve,
         name="candidate_releve"),
]
