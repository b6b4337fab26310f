"""Pages of a search in one pass over its matches (no business code here).

Django's paginator asks two questions of the queryset: how many rows (``COUNT(*)``), then
which rows are on the page (``ORDER BY … LIMIT``). For a search both have to find every
match, so the search runs twice; and for the second one PostgreSQL, not knowing how rare
the matches are, may walk the whole date index looking for them (≈ 25 ms for a reference
among 40 000 registrations, where finding it takes 2 ms).

``OnePassPaginator`` asks once: the keys of the page's rows with the number of matches
beside each (``COUNT(*) OVER ()``), which makes the database find all the matches first,
through their indexes; then it reads those few rows by key from ``rows``. Two queries, as
before, but the search runs once. Only when that first read comes back empty (no match, or a
page beyond the last) does it count the usual way, to say which page to show instead."""

from django.core.paginator import Paginator
from django.db.models import Count, QuerySet, Window

TOTAL = "_one_pass_total"


class OnePassPaginator(Paginator):
    """``object_list``: the matches, ordered; ``rows``: the queryset the page's rows are read
    from by primary key (with its related rows; no search conditions). The page keeps the
    order of ``object_list``. No orphans: a short last page stays a page."""

    def __init__(self, object_list: QuerySet, per_page: int, *, rows: QuerySet,
                 allow_empty_first_page: bool = True):
        super().__init__(object_list, per_page, allow_empty_first_page=allow_empty_first_page)
        self.rows = rows

    def get_page(self, number):
        try:
            number = int(number)
        except (TypeError, ValueError):
            number = 1
        if number >= 1 and not self.object_list.query.distinct:
            page = self._one_pass(number)
            if page is not None:
                return page
        return super().get_page(number)

    def _one_pass(self, number: int):
        bottom = (number - 1) * self.per_page
        keys = list(self.object_list.annotate(**{TOTAL: Window(Count("*"))})
                    .values_list("pk", TOTAL)[bottom:bottom + self.per_page])
        if not keys:
            return None  # nothing here: the usual count says which page to show instead
        # The count a plain paginator would make (a cached property); this page holds rows,
        # so it is a valid page of that count.
        self.__dict__["count"] = keys[0][1]
        position = {pk: index for index, (pk, _total) in enumerate(keys)}
        rows = sorted(self.rows.filter(pk__in=position), key=lambda row: position[row.pk])
        return self._get_page(rows, number, self)
