"""The jury paritaire pages, mounted at ``/jurys/`` (namespace ``juries``).

Sessions, composition, presence, synthesis and decisions: ``evaluations.views_jury``.
Documents of the session (PV, attendance sheet, letters, CPNE bundle) append their routes below.
"""

from django.urls import path

from evaluations import views_documents, views_jury

app_name = "juries"
urlpatterns = [
    # Sessions, composition, deliberation (evaluations.views_jury)
    path("", views_jury.session_list, name="session_list"),
    path("mes-sessions/", views_jury.my_sessions, name="my_sessions"),
    path("nouvelle/", views_jury.session_create, name="session_create"),
    path("<int:pk>/", views_jury.session_detail, name="session_detail"),
    path("<int:pk>/composition/", views_jury.session_compose, name="session_compose"),
    path("<int:pk>/presence/", views_jury.record_presence, name="record_presence"),
    path("<int:pk>/ouvrir/", views_jury.open_session, name="open_session"),
    path("<int:pk>/candidats/<int:session_candidate_pk>/", views_jury.synthesis,
         name="synthesis"),
    path("<int:pk>/candidats/<int:session_candidate_pk>/decision/", views_jury.decide,
         name="decide"),
    path("<int:pk>/candidats/<int:session_candidate_pk>/correction/", views_jury.correct,
         name="correct"),
    path("<int:pk>/pv/signer/", views_jury.sign_minutes, name="sign_minutes"),
    path("<int:pk>/cpne/envoye/", views_jury.cpne_sent, name="cpne_sent"),
    path("export-cprefp.csv", views_jury.cprefp_export, name="cprefp_export"),
]

# Documents of the session (evaluations.views_documents, evaluations.documents_jury)
urlpatterns += [
    path("<int:pk>/emargement.pdf", views_documents.attendance_pdf, name="attendance_pdf"),
    path("<int:pk>/dossier-cpne/", views_documents.cpne_bundle, name="cpne_bundle"),
    path("<int:pk>/dossier-cpne/telecharger/", views_documents.cpne_download,
         name="cpne_download"),
    path("documents/<int:document_pk>/", views_documents.jury_document, name="document"),
]
