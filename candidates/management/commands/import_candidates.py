"""python manage.py import_candidates FILE --centre CODE [--dry-run] [--user USERNAME]"""

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from candidates.imports import CandidateImportError, import_registrations
from certifications.models import Centre


class Command(BaseCommand):
    help = _("Importe un lot de candidats et d'inscriptions (CSV, voir "
             "docs/import-candidats.md) : tout ou rien.")

    def add_arguments(self, parser):
        parser.add_argument("file", metavar="FILE", help=_("fichier CSV"))
        parser.add_argument("--centre", required=True, metavar="CODE",
                            help=_("code du centre de certification"))
        parser.add_argument("--dry-run", action="store_true",
                            help=_("vérifie et annonce ce qui serait créé, sans rien enregistrer"))
        parser.add_argument("--user", metavar="USERNAME",
                            help=_("compte à qui attribuer les inscriptions dans la chronologie"))

    def handle(self, *args, file, centre, dry_run, user, **options):
        try:
            centre_obj = Centre.objects.get(code=centre)
        except Centre.DoesNotExist as error:
            raise CommandError(_("Centre inconnu : %(code)s") % {"code": centre}) from error
        actor = None
        if user:
            try:
                actor = get_user_model().objects.get_by_natural_key(user)
            except get_user_model().DoesNotExist as error:
                raise CommandError(_("Utilisateur inconnu : %(user)s") % {"user": user}) from error
        try:
            data = Path(file).read_bytes()
        except OSError as error:
            raise CommandError(_("Lecture impossible de %(file)s : %(reason)s")
                               % {"file": file, "reason": error.strerror}) from error
        try:
            result = import_registrations(centre=centre_obj, actor=actor, data=data,
                                          dry_run=dry_run)
        except CandidateImportError as error:
            for issue in error.errors:
                self.stderr.write(str(issue))
            raise CommandError(str(error)) from error
        for line in result.summary():
            self.stdout.write(line)
        for warning in result.warnings:
            self.stdout.write(_("Avertissement, %(warning)s") % {"warning": warning})
        if dry_run:
            self.stdout.write(_("Simulation : rien n'a été enregistré."))
