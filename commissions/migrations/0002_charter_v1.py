from django.db import migrations
from django.utils import timezone


def publish_first_charter(apps, schema_editor):
    from commissions.charter import CHARTER_V1_LABEL, CHARTER_V1_TEXT

    CharterVersion = apps.get_model("commissions", "CharterVersion")
    CharterVersion.objects.get_or_create(
        label=CHARTER_V1_LABEL,
        defaults={"text": CHARTER_V1_TEXT, "published_at": timezone.now()},
    )


class Migration(migrations.Migration):
    dependencies = [("commissions", "0001_initial")]
    operations = [migrations.RunPython(publish_first_charter, migrations.RunPython.noop)]
