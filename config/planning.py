"""Query planning helpers for PostgreSQL (no-ops elsewhere)."""

from contextlib import contextmanager

from django.db import DatabaseError, connection
from django.db.models import Lookup, QuerySet


@contextmanager
def joins_as_written():
    """Run the queries inside with PostgreSQL keeping the joins in the order the ORM wrote
    them (``join_collapse_limit = 1``, put back on the way out).

    For a query that follows unique keys out of one row — a page's object with a dozen
    ``select_related`` — that order is already the best one, and searching the others is
    most of the cost: the registration page's 12-table read planned in ≈ 2.9 ms and ran in
    ≈ 0.2 ms at N=20. Not for queries that filter or aggregate many rows: those need the
    planner's choice of order."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET join_collapse_limit = 1")
    try:
        yield
    finally:
        # The connection outlives the request (CONN_MAX_AGE): always put the setting back.
        # Should that fail, the transaction is aborted, and its rollback undoes the SET.
        try:
            with connection.cursor() as cursor:
                cursor.execute("RESET join_collapse_limit")
        except DatabaseError:
            pass


class InArray(Lookup):
    """``InArray(F("field"), subquery)``: the rows whose ``field`` is among the subquery's
    values, written ``field = ANY(ARRAY(subquery))`` on PostgreSQL and ``field IN
    (subquery)`` elsewhere.

    PostgreSQL runs the ARRAY subquery once, before the outer query, and looks its values up
    in the field's index; several of them joined by OR become one bitmap of index probes.
    ``field IN (subquery) OR …`` can only be tested row by row: the candidate search read
    every one of the 40 000 registrations for each of its two queries (≈ 25 ms each at N=20,
    for a handful of matches)."""

    lookup_name = "in_array"
    prepare_rhs = False

    def get_prep_lookup(self):
        # A set of values: the subquery's ordering (its model's default one) is work for
        # nothing, as Django's ``__in`` knows.
        return self.rhs.order_by() if isinstance(self.rhs, QuerySet) else self.rhs

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        template = "%s = ANY(ARRAY%s)" if connection.vendor == "postgresql" else "%s IN %s"
        return template % (lhs, rhs), (*lhs_params, *rhs_params)
