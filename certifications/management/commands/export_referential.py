"""python manage.py export_referential CODE [--version LABEL] [--kind KIND]"""

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from certifications.exchange import dump_referential
from certifications.models import Certification, CertificationKind


class Command(BaseCommand):
    help = _(
        "Écrit une version de référentiel au format « referentiel/1 » sur la sortie "
        "standard (par défaut la dernière version publiée).")

    def create_parser(self, prog_name, subcommand, **kwargs):
        # --version names the referential version here, not the program's version that
        # every Django command offers.
        return super().create_parser(prog_name, subcommand, conflict_handler="resolve", **kwargs)

    def add_arguments(self, parser):
        parser.add_argument("code", help=_("code de la certification, tel qu'écrit"))
        parser.add_argument("--version", dest="label", metavar="LABEL",
                            help=_("libellé de la version (défaut : dernière version publiée)"))
        parser.add_argument("--kind", choices=CertificationKind.values,
                            help=_("type, quand plusieurs certifications partagent ce code"))

    def handle(self, *args, code, label, kind, **options):
        certifications = Certification.objects.filter(code=code)
        if kind:
            certifications = certifications.filter(kind=kind)
        certifications = list(certifications)
        if not certifications:
            raise CommandError(_("Aucune certification de code « %(code)s ».") % {"code": code})
        if len(certifications) > 1:
            raise CommandError(
                _("Plusieurs certifications ont le code « %(code)s » (%(kinds)s) : précisez "
                  "--kind.") % {"code": code, "kinds": ", ".join(c.kind for c in certifications)}
            )
        certification = certifications[0]
        if label:
            version = certification.versions.filter(label=label).first()
            if version is None:
                raise CommandError(_("%(certification)s n'a pas de version « %(label)s ».")
                                   % {"certification": f"{certification.kind} {code}",
                                      "label": label})
        else:
            version = certification.current_version()
            if version is None:
                raise CommandError(_("%(certification)s n'a aucune version publiée.")
                                   % {"certification": f"{certification.kind} {code}"})
        self.stdout.write(dump_referential(version), ending="")
