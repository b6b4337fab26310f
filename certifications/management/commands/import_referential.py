"""python manage.py import_referential FILE [FILE...] [--dry-run]"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from certifications.exchange import ReferentialFormatError, import_referentials


class Command(BaseCommand):
    help = _("Importe des référentiels au format « referentiel/1 » : tout ou rien.")

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+", metavar="FILE", help=_("fichiers JSON"))
        parser.add_argument(
            "--dry-run", action="store_true",
            help=_("vérifie et annonce ce qui serait importé, sans rien enregistrer"),
        )

    def handle(self, *args, files, dry_run, **options):
        contents = []
        for name in files:
            try:
                contents.append((name, Path(name).read_bytes()))
            except OSError as error:
                raise CommandError(_("Lecture impossible de %(file)s : %(reason)s")
                                   % {"file": name, "reason": error.strerror}) from error
        try:
            reports = import_referentials(contents, dry_run=dry_run)
        except ReferentialFormatError as error:
            for issue in error.errors:
                self.stderr.write(str(issue))
            raise CommandError(ngettext(
                "Import refusé (%(count)d erreur) : rien n'a été importé.",
                "Import refusé (%(count)d erreurs) : rien n'a été importé.",
                len(error.errors),
            ) % {"count": len(error.errors)}) from error
        for report in reports:
            self.stdout.write(report.summary())
        if dry_run:
            self.stdout.write(_("Simulation : rien n'a été enregistré."))
