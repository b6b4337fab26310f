from django.urls import path

from candidates import import_views, views

app_name = "candidates"
urlpatterns = [
    path("", views.registration_list, name="registration_list"),
    path("inscriptions/nouvelle/", views.registration_create, name="registration_create"),
    path("inscriptions/<int:pk>/", views.registration_detail, name="registration_detail"),
    path("inscriptions/<int:pk>/etat/", views.registration_transition,
         name="registration_transition"),
    path("inscriptions/<int:pk>/dossier/", views.dossier_edit, name="dossier_edit"),
    path("inscriptions/<int:pk>/formation/nouvelle/", views.training_create,
         name="training_create"),
    path("inscriptions/<int:pk>/formation/<int:training_pk>/fin/", views.training_complete,
         name="training_complete"),
    path("inscriptions/<int:pk>/sans-formation/", views.without_training,
         name="without_training"),
    path("inscriptions/<int:pk>/recevabilite/", views.vae_admissibility,
         name="vae_admissibility"),
    path("inscriptions/<int:pk>/documents/nouveau/", views.document_upload,
         name="document_upload"),
    path("inscriptions/<int:pk>/liens/", views.link_issue, name="link_issue"),
    path("liens/<int:pk>/revoquer/", views.link_revoke, name="link_revoke"),
    path("documents/<int:pk>/", views.document_download, name="document_download"),
    path("entreprises/nouvelle/", views.company_create, name="company_create"),
    path("entreprises/<int:pk>/tuteurs/nouveau/", views.tutor_create, name="tutor_create"),
]

# CSV import and CSV/XLSX export of the list (candidates/import_views.py).
urlpatterns += [
    path("export/", import_views.registration_export, name="registration_export"),
    path("import/", import_views.registration_import, name="registration_import"),
]
