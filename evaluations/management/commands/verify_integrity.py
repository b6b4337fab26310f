"""``python manage.py verify_integrity``: check every signed content against its hash and its
source (evaluations.integrity); exit status 1 when anything no longer matches, so that a
scheduled run (cron, CI) alerts."""

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from evaluations.integrity import CHUNK, check_integrity


class Command(BaseCommand):
    help = _("Vérifie que les grilles signées, signatures, décisions définitives, procès-verbaux "
             "et documents correspondent toujours à leurs empreintes ; code de sortie 1 en cas "
             "d'anomalie.")

    def add_arguments(self, parser):
        parser.add_argument("--quiet", action="store_true",
                            help=_("N'affiche que les anomalies."))
        parser.add_argument("--no-files", action="store_true",
                            help=_("Ne relit pas les fichiers PDF enregistrés."))
        parser.add_argument("--chunk-size", type=int, default=CHUNK,
                            help=_("Nombre de lignes lues par requête."))

    def handle(self, *args, quiet=False, no_files=False, chunk_size=CHUNK, **options):
        report = check_integrity(files=not no_files, chunk_size=max(1, chunk_size))
        if not quiet:
            checked = report.checked
            self.stdout.write(_(
                "Contrôlés : %(grids)s grille(s) signée(s), %(signatures)s signature(s), "
                "%(decisions)s décision(s) définitive(s), %(minutes)s procès-verbal(aux), "
                "%(documents)s document(s), %(files)s fichier(s).") % {
                    key: checked.get(key, 0) for key in ("grids", "signatures", "decisions",
                                                         "minutes", "documents", "files")})
        for finding in report.findings:
            code = (_(" — code %(code)s") % {"code": finding.code}) if finding.code else ""
            self.stdout.write(self.style.ERROR(
                _("%(label)s n° %(id)s%(code)s : %(message)s") % {
                    "label": finding.label, "id": finding.object_id, "code": code,
                    "message": finding.message}))
        if report.ok:
            if not quiet:
                self.stdout.write(self.style.SUCCESS(
                    _("Intégrité vérifiée : tout contenu signé correspond à son empreinte.")))
            return
        # CommandError: its message on stderr and exit status 1 from the command line.
        raise CommandError(_("%(count)s anomalie(s) : des données signées ont été modifiées "
                             "en dehors de l'application.") % {"count": len(report.findings)})
