"""``python manage.py import_holders_receipt FILE``: the Caisse des Dépôts' accusé de
traitement (DOMAIN.md §7), refused whole or applied whole; the same file twice changes
nothing."""

from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from reporting import services


class Command(BaseCommand):
    help = _("Importe un accusé de traitement de la Caisse des Dépôts.")

    def add_arguments(self, parser):
        parser.add_argument("file")

    def handle(self, *args, **options):
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(_("Fichier introuvable : %(path)s.") % {"path": path})
        limit = settings.CDC_DECLARATION["RECEIPT_MAX_BYTES"]
        if path.stat().st_size > limit:
            raise CommandError(_("Accusé refusé : le fichier dépasse %(mb)d Mo.")
                               % {"mb": limit // (1024 * 1024)})
        try:
            result = services.import_receipt(data=path.read_bytes())
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error
        self.stdout.write(result.summary())
        for id_technique in result.refused:
            self.stdout.write(f"  KO {id_technique}")
