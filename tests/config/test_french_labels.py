"""Every field of the application's models is named in French: the admin heads its lists,
filters and forms with these names, and Django names a field without one after its code
(« decided at », « created by »)."""

from django.apps import apps
from django.utils import translation

APPS = ["certifications", "candidates", "commissions", "evaluations", "reporting"]
# Field names that are already the French word.
SAME_IN_FRENCH = {"abstentions", "action", "bloc", "centre", "certification", "certifications",
                  "code", "commission", "date", "description", "message", "motivation",
                  "organisation", "position", "session", "total", "version"}


def test_every_field_has_a_french_name():
    untranslated = []
    with translation.override("fr"):
        for app in APPS:
            for model in apps.get_app_config(app).get_models():
                if model.__name__.startswith("Historical"):
                    continue  # django-simple-history's copies (our fields, its own)
                for field in model._meta.get_fields():
                    if not getattr(field, "concrete", False) or field.auto_created:
                        continue
                    if (str(field.verbose_name) == field.name.replace("_", " ")
                            and field.name not in SAME_IN_FRENCH):
                        untranslated.append(f"{model._meta.label}.{field.name}")
    assert untranslated == []
