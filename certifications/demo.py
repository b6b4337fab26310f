"""Demo data of the certifications app: two centres, the demo accounts (DESIGN.md §6) and
the sample referentials. Idempotent; called by ``seed_demo``."""

from pathlib import Path

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db import transaction

from certifications import exchange
from certifications.models import Centre, CentreMembership, Role

DEMO_PASSWORD = "demo"  # noqa: S105 - demo only; seed_demo refuses to run with DEBUG off
REFERENTIALS_DIR = Path(__file__).resolve().parent / "fixtures" / "referentials"
STAFF_GROUP = "Gestionnaires"
STAFF_APPS = ["certifications", "candidates", "commissions", "evaluations"]

CENTRES = [
    {"code": "uimm-loire-atlantique", "reference_prefix": "UIMM44",
     "name": "UIMM Loire-Atlantique — Service Certifications",
     "address": "2 rue de la Métallurgie\n44000 Nantes", "email": "certifications@uimm44.example",
     "phone": "02 40 00 00 00"},
    {"code": "uimm-bretagne", "reference_prefix": "UIMM35",
     "name": "UIMM Bretagne — Service Certifications",
     "address": "10 boulevard de l'Industrie\n35000 Rennes",
     "email": "certifications@uimm35.example",
     "phone": "02 99 00 00 00"},
]

# username, first name, last name, role, centre index, is_staff
ACCOUNTS = [
    ("gestionnaire", "Claire", "Gestin", Role.STAFF, 0, True),
    ("gestionnaire2", "Yann", "Le Goff", Role.STAFF, 1, True),
    ("evaluateur1", "Marc", "Durand", Role.EVALUATOR, 0, False),
    ("evaluateur2", "Sophie", "Martin", Role.EVALUATOR, 0, False),
    ("evaluateur3", "Karim", "Benali", Role.EVALUATOR, 0, False),
    ("jury1", "Hélène", "Roux", Role.JURY, 0, False),
    ("jury2", "Paul", "Lefèvre", Role.JURY, 0, False),
    ("jury3", "Nadia", "Cherif", Role.JURY, 0, False),
    ("jury4", "Thomas", "Bernard", Role.JURY, 0, False),
]


def staff_group() -> Group:
    group, _ = Group.objects.get_or_create(name=STAFF_GROUP)
    permissions = Permission.objects.filter(content_type__app_label__in=STAFF_APPS)
    group.permissions.add(*permissions, *Permission.objects.filter(
        content_type__app_label="auth", codename__in=["view_user", "view_group"]))
    return group


@transaction.atomic
def seed(log=print) -> dict:
    centres = []
    for data in CENTRES:
        centre, _ = Centre.objects.update_or_create(code=data["code"], defaults=data)
        centres.append(centre)
    group = staff_group()
    user_model = get_user_model()
    users = {}
    for username, first, last, role, centre_index, is_staff in ACCOUNTS:
        user, created = user_model.objects.get_or_create(
            username=username,
            defaults={"first_name": first, "last_name": last, "is_staff": is_staff,
                      "email": f"{username}@demo.example"},
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save()
        if is_staff:
            user.groups.add(group)
        CentreMembership.objects.get_or_create(user=user, centre=centres[centre_index], role=role)
        users[username] = user
    files = [(p.name, p.read_bytes()) for p in sorted(REFERENTIALS_DIR.glob("*.json"))]
    for report in exchange.import_referentials(files):
        log(report.summary())
    log(f"{len(centres)} centres, {len(users)} comptes de démonstration (mot de passe « demo »).")
    return {"centres": centres, "users": users}
