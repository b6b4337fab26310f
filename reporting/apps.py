from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportingConfig(AppConfig):
    """Read-only views over everything to its left (DESIGN.md §3): statistics, the annual
    activity report, and the declaration of holders to the Caisse des Dépôts. It writes only
    its own batch and receipt records."""

    name = "reporting"
    verbose_name = _("Déclarations et statistiques")
