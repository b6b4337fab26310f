from django.urls import path

from certifications import views

app_name = "certifications"
urlpatterns = [
    path("", views.referential_list, name="referential_list"),
    path("<int:pk>/", views.referential_detail, name="referential_detail"),
]
