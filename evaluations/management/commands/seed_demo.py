"""``python manage.py seed_demo``: the demo of DESIGN.md §6, idempotent.

It lives in the rightmost app because it seeds every app, each through its own ``demo``
module, in the order data flows (certifications → candidates → commissions → evaluations).
"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from candidates import demo as candidates_demo
from certifications import demo as certifications_demo
from commissions import demo as commissions_demo
from evaluations import demo as evaluations_demo


class Command(BaseCommand):
    help = gettext_lazy("Charge les données de démonstration (idempotent).")

    @transaction.atomic
    def handle(self, *args, **options):
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
        self.stdout.write(self.style.SUCCESS(_("Démonstration prête.")))
