"""Queryset infrastructure, no business meaning: a queryset for evidence and audit rows (the
application never bulk-updates or deletes them; their models refuse per-row changes too), and
reading a large queryset in bounded memory."""

from collections.abc import Iterator

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise ValidationError(_("Ces enregistrements ne se modifient pas."))

    def delete(self):
        raise ValidationError(_("Ces enregistrements ne se suppriment pas."))


def in_chunks(queryset: models.QuerySet, size: int = 500, *, limit: int | None = None
              ) -> Iterator:
    """The queryset's rows in its order (the first ``limit`` of them), ``size`` at a time.
    Server-side cursors are off on PostgreSQL (settings), so ``.iterator()`` would load every
    row at once: here memory holds the list of primary keys and one chunk of rows. The first
    query takes any row locks the queryset asks for (select_for_update)."""
    keys = queryset.values_list("pk", flat=True)
    pks = list(keys[:limit] if limit is not None else keys)
    for start in range(0, len(pks), size):
        yield from queryset.filter(pk__in=pks[start:start + size])
