"""A queryset for evidence and audit rows: the application never bulk-updates or deletes
them (their models refuse per-row changes too). Infrastructure, no business meaning."""

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise ValidationError(_("Ces enregistrements ne se modifient pas."))

    def delete(self):
        raise ValidationError(_("Ces enregistrements ne se suppriment pas."))
