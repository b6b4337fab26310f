"""``python manage.py backup DIR``: database dump, stored files and manifest in a new
``DIR/backup-YYYYMMDD-HHMMSS`` (config.backup). It lives here, next to ``restore`` and
``verify_integrity``, because a command needs an app; the logic imports none."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from config import ops_status
from config.backup import BackupError, create_backup, prune


class Command(BaseCommand):
    help = _("Sauvegarde la base de données et les fichiers stockés dans un nouveau "
             "sous-dossier daté de DIR, avec un manifeste (SHA-256 de chaque fichier).")

    def add_arguments(self, parser):
        parser.add_argument("directory", metavar="DIR",
                            help=_("Dossier qui reçoit les sauvegardes."))
        parser.add_argument("--keep", type=int, default=0, metavar="N",
                            help=_("Ne garde ensuite que les N sauvegardes les plus récentes "
                                   "de DIR (0 : toutes)."))

    def handle(self, *args, directory, keep=0, **options):
        try:
            result = create_backup(directory)
        except BackupError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(self.style.SUCCESS(
            _("Sauvegarde écrite dans %(path)s : %(files)s fichier(s), %(size)s octets.")
            % {"path": result.path, "files": result.files, "size": result.size}))
        if settings.BACKUP_DIR and Path(directory).resolve() == Path(
                settings.BACKUP_DIR).resolve():
            # A backup made by hand into the configured directory counts for /healthz, e.g.
            # the first one of a new installation, before its first night.
            ops_status.record("backup", ok=True, path=str(result.path), size=result.size)
        if keep > 0:
            for path in prune(directory, keep=keep):
                self.stdout.write(_("Ancienne sauvegarde supprimée : %(path)s") % {"path": path})
