"""``python manage.py export_holders [--out FILE]``: every award due for declaration, as one
Caisse des Dépôts XML file (DOMAIN.md §7), recorded as a batch like the page's button."""

import sys
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from certifications.models import Centre
from reporting import services


class Command(BaseCommand):
    help = _("Génère le fichier de déclaration des titulaires à la Caisse des Dépôts.")

    def add_arguments(self, parser):
        parser.add_argument("--out", help=_("Fichier à écrire (sortie standard par défaut)."))
        parser.add_argument("--centre", help=_("Code du centre (tous les centres par défaut)."))
        parser.add_argument("--user", help=_("Identifiant du compte qui génère le lot."))

    def handle(self, *args, **options):
        centre = None
        if options["centre"]:
            centre = Centre.objects.filter(code=options["centre"]).first()
            if centre is None:
                raise CommandError(_("Centre inconnu : %(code)s.") % {"code": options["centre"]})
        actor = None
        if options["user"]:
            actor = get_user_model().objects.filter(username=options["user"]).first()
            if actor is None:
                raise CommandError(_("Compte inconnu : %(user)s.") % {"user": options["user"]})
        out = open(options["out"], "wb") if options["out"] else sys.stdout.buffer  # noqa: SIM115
        try:
            generated = services.generate_batch(
                actor=actor, out=out, centre=centre,
                centre_ids=[centre.pk] if centre else None)
        except ValidationError as error:
            if options["out"]:
                out.close()
                # Nothing was recorded: leave no half-written file behind.
                Path(options["out"]).unlink(missing_ok=True)
            raise CommandError(" ".join(error.messages)) from error
        if options["out"]:
            out.close()
        self.stderr.write(_("Lot %(flux)s : %(count)d passage(s), SHA-256 %(sha)s.") % {
            "flux": generated.batch.id_flux, "count": generated.count,
            "sha": generated.batch.sha256})
