"""``python manage.py restore DIR``: restore a backup made by ``backup`` into an empty
database and storage (config.backup); refuses a non-empty database or a manifest that does
not match the directory before writing anything."""

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from config.backup import BackupError, restore_backup


class Command(BaseCommand):
    help = _("Restaure une sauvegarde (dossier backup-…) dans une base de données vide, "
             "après avoir vérifié chaque fichier contre le manifeste.")

    def add_arguments(self, parser):
        parser.add_argument("directory", metavar="DIR",
                            help=_("Dossier d'une sauvegarde (contient manifest.json)."))

    def handle(self, *args, directory, **options):
        try:
            manifest = restore_backup(directory)
        except BackupError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(self.style.SUCCESS(
            _("Sauvegarde du %(created)s (version %(version)s) restaurée : base et "
              "%(files)s fichier(s). Vérifiez-la avec « manage.py verify_integrity ».")
            % {"created": manifest["created_at"], "version": manifest["app_version"],
               "files": len(manifest["files"])}))
