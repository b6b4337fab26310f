"""``python manage.py seed_demo``: the demo of DESIGN.md §6, idempotent.

It lives in the rightmost app because it seeds every app, each through its own ``demo``
module, in the order data flows (certifications → candidates → commissions → evaluations).
"""

import time
from importlib import import_module

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils.translation import gettext as _

from candidates import demo as candidates_demo
from certifications import demo as certifications_demo
from commissions import demo as commissions_demo
from evaluations import demo as evaluations_demo
from evaluations import scale


class Command(BaseCommand):
    help = _("Charge les données de démonstration (idempotent).")

    def add_arguments(self, parser):
        parser.add_argument(
            "--scale", type=int, default=0, metavar="N",
            # Not lazy: argparse formats its help with re, which refuses a lazy string.
            help=_("Ajoute N années-centre de données de volume (≈2 000 inscriptions "
                              "chacune, grilles, jurys, décisions) pour mesurer les "
                              "performances ; une seule fois."))

    def handle(self, *args, **options):
        if options["scale"] < 0:
            raise CommandError(_("--scale attend un entier positif."))
        self.seed_demo()
        if options["scale"]:
            started = time.monotonic()
            counts = scale.seed_scale(options["scale"], log=self.stdout.write)
            for name, count in counts.items():
                self.stdout.write(f"  {count:>9} {name}")
            self.stdout.write(self.style.SUCCESS(
                _("Données de volume chargées en %(s).0f s.") % {"s": time.monotonic() - started}))

    @transaction.atomic
    def seed_demo(self):
        if not settings.DEBUG:
            raise CommandError(_(
                "Les comptes de démonstration (mot de passe « demo ») sont refusés quand DEBUG "
                "est désactivé."
            ))
        log = self.stdout.write
        seeded = certifications_demo.seed(log=log)
        centre, users = seeded["centres"][0], seeded["users"]
        staff = users["gestionnaire"]
        registrations = candidates_demo.seed(centre=centre, staff_user=staff, log=log)
        commissions_demo.seed(centre=centre, users=users, staff_user=staff,
                              registrations=registrations, log=log)
        # The past commission's grids are signed (registrations « évalué »), then the jury.
        evaluations_demo.seed(centre=centre, staff_user=staff, log=log)
        commissions_demo.seed_juries(centre=centre, users=users, staff_user=staff, log=log)
        # Holders to declare to the Caisse des Dépôts. reporting is now the rightmost app:
        # evaluations may not import it (import-linter), so its demo is loaded by name.
        import_module("reporting.demo").seed(centre=centre, staff_user=staff, log=log)
        # After the demo jury (which takes every « évalué » registration): a candidate whose
        # earlier validation partielle is carried over to a new registration (DOMAIN.md §6).
        evaluations_demo.seed_carried_over(centre=centre, users=users, staff_user=staff,
                                           log=log)
        self.stdout.write(self.style.SUCCESS(_("Démonstration prête.")))
