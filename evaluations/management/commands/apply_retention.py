"""python manage.py apply_retention [--dry-run] [--today YYYY-MM-DD]"""

import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from evaluations.retention import apply_retention


def _day(value: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(_("Date invalide : %(value)s (attendu AAAA-MM-JJ).")
                           % {"value": value}) from exc


class Command(BaseCommand):
    help = _("Efface les données personnelles des dossiers arrivés au terme de leur durée de "
             "conservation (DOMAIN.md §8), en gardant le fait de la certification.")

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true",
                            help=_("compte ce qui serait effacé, sans rien modifier"))
        parser.add_argument("--today", type=_day, metavar="AAAA-MM-JJ",
                            help=_("date de référence (par défaut : aujourd'hui)"))

    def handle(self, *args, dry_run, today, **options):
        report = apply_retention(today=today, dry_run=dry_run)
        for line in report.lines():
            self.stdout.write(line)
        if report.failed:
            raise CommandError(ngettext(
                "%(count)d dossier en échec : il reste à traiter.",
                "%(count)d dossiers en échec : ils restent à traiter.",
                len(report.failed)) % {"count": len(report.failed)})
