from django.urls import path

from commissions import views, views_evaluator, views_public, views_staff

app_name = "commissions"
urlpatterns = [
    # Staff
    path("", views_staff.commission_list, name="commission_list"),
    path("nouvelle/", views_staff.commission_create, name="commission_create"),
    path("<int:pk>/composer/", views_staff.compose, name="compose"),
    path("evaluateurs/", views_staff.evaluator_list, name="evaluator_list"),
    path("candidatures/", views_staff.application_list, name="application_list"),
    path("candidatures/<int:pk>/", views_staff.application_review, name="application_review"),
    # Staff and the commission's members
    path("<int:pk>/", views.commission_detail, name="commission_detail"),
    path("<int:pk>/candidats/<int:registration_pk>/", views.dossier, name="dossier"),
    path("<int:pk>/documents/<int:document_pk>/", views.dossier_document,
         name="dossier_document"),
    # Evaluators
    path("mes-commissions/", views_evaluator.my_commissions, name="my_commissions"),
    path("convocation/<str:token>/", views_evaluator.convocation_answer,
         name="convocation_answer"),
    path("charte/", views_evaluator.charter, name="charter"),
    # Public
    path("devenir-evaluateur/", views_public.apply, name="apply"),
    path("devenir-evaluateur/merci/", views_public.apply_thanks, name="apply_thanks"),
]
