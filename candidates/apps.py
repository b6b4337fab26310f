from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CandidatesConfig(AppConfig):
    name = "candidates"
    verbose_name = _("Candidats et inscriptions")

    def ready(self):
        from django.db import connections
        from django.db.backends.signals import connection_created

        from config.unaccent import register_sqlite_functions

        # The candidate search compares names without accents (selectors.registration_list).
        connection_created.connect(register_sqlite_functions,
                                   dispatch_uid="candidates.unaccent")
        for connection in connections.all(initialized_only=True):
            if connection.connection is not None:
                register_sqlite_functions(connection=connection)
