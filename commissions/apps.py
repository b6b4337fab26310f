from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CommissionsConfig(AppConfig):
    name = "commissions"
    verbose_name = _("Évaluateurs, commissions et jurys")

    def ready(self):
        # Connects the sign-in receiver that decides what a new session owes (two-factor).
        from commissions import two_factor  # noqa: F401
