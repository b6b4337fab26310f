from django.contrib import admin
from django.urls import include, path
from django.views.i18n import set_language

from config.health import healthz

admin.site.site_header = "Certifications UIMM"
admin.site.site_title = "Certifications UIMM"
admin.site.index_title = "Administration"

urlpatterns = [
    path("", include("evaluations.urls")),
    path("referentiels/", include("certifications.urls")),
    path("candidats/", include("candidates.urls")),
    path("lien/", include("candidates.public_urls")),
    path("commissions/", include("commissions.urls")),
    path("grilles/", include("evaluations.grid_urls")),
    path("jurys/", include("evaluations.jury_urls")),
    path("rapports/", include("reporting.urls")),
    path("accounts/2fa/", include("commissions.two_factor_urls")),
    path("accounts/", include("django.contrib.auth.urls")),
    path("i18n/setlang/", set_language, name="set_language"),
    path("admin/", admin.site.urls),
    path("_nested_admin/", include("nested_admin.urls")),
    path("healthz", healthz, name="healthz"),
]

handler403 = "config.errors.permission_denied"
handler404 = "config.errors.page_not_found"
handler500 = "config.errors.server_error"

