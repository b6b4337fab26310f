"""The grid pages, mounted at ``/grilles/`` (namespace ``grids``)."""

from django.urls import path

from evaluations import views_documents, views_grid

app_name = "grids"
urlpatterns = [
    # The grid itself (evaluations.views_grid)
    path("ouvrir/<int:scheduled_pk>/", views_grid.open_grid, name="open"),
    path("<int:pk>/", views_grid.grid_detail, name="detail"),
    path("<int:pk>/champ/", views_grid.save_field, name="save_field"),
    path("<int:pk>/signature/", views_grid.submit, name="submit"),
    path("<int:pk>/signer/", views_grid.sign, name="sign"),
    path("<int:pk>/rouvrir/", views_grid.reopen, name="reopen"),
    path("<int:pk>/presence/", views_grid.attendance, name="attendance"),
    path("<int:pk>/incidents/", views_grid.incident_report, name="incident_report"),
    path("<int:pk>/incidents/<int:incident_pk>/resolution/", views_grid.incident_resolve,
         name="incident_resolve"),
    path("<int:pk>/journal/", views_grid.history, name="history"),
    # Signed documents (evaluations.views_documents)
    path("<int:grid_pk>/pdf/", views_documents.grid_pdf, name="pdf"),
    path("commission/<int:commission_pk>/zip/", views_documents.commission_zip,
         name="commission_zip"),
    path("exports/<int:batch_pk>/", views_documents.zip_status, name="zip_status"),
    path("exports/<int:batch_pk>/telecharger/", views_documents.zip_download,
         name="zip_download"),
]
