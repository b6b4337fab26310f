from django.db import migrations, models


def fill_prefixes(apps, schema_editor):
    Centre = apps.get_model("certifications", "Centre")
    for centre in Centre.objects.all():
        centre.reference_prefix = f"C{centre.pk:03d}"
        centre.save(update_fields=["reference_prefix"])


class Migration(migrations.Migration):
    dependencies = [("certifications", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="centre",
            name="reference_prefix",
            field=models.CharField(default="", max_length=12, verbose_name="préfixe des références",
                                   help_text="Début des références d'inscription de ce centre, "
                                             "par exemple « UIMM44 »."),
            preserve_default=False,
        ),
        migrations.RunPython(fill_prefixes, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="centre",
            name="reference_prefix",
            field=models.CharField(help_text="Début des références d'inscription de ce centre, "
                                             "par exemple « UIMM44 ».",
                                   max_length=12, unique=True,
                                   verbose_name="préfixe des références"),
        ),
    ]
