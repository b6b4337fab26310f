"""URLs of the declarations of holders to the Caisse des Dépôts."""

from django.urls import path

from reporting import views_declarations

urlpatterns = [
    path("", views_declarations.declarations, name="declarations"),
    path("generer/", views_declarations.generate, name="declarations_generate"),
    path("lots/<int:pk>/", views_declarations.batch_download, name="declarations_batch"),
    path("accuse/", views_declarations.receipt_upload, name="declarations_receipt"),
    path("passages/<int:pk>/renvoyer/", views_declarations.resend,
         name="declarations_resend"),
]
