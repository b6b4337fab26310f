"""The rows of the test database, kept in memory and put back.

A transactional test (the browser tests: the live server must see committed rows) ends with
its database emptied, so a fixture such as the demo (``seed_demo``, ≈ 5 s) would be built
again for every test. ``restore_or_build`` builds it once per test process, keeps every
row of every table (and the id sequences), and puts them back for the next tests in a
fraction of a second: the same rows, ids included, as the build made.

Only the database is restored. Files a build writes stay where the first build wrote them:
the demo's PDFs under the default MEDIA_ROOT, since every browser test asks for ``demo``
before its own ``media_root`` (a test asking the other way round would have the first build
write into its temporary directory).
"""

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field

from django.contrib.contenttypes.models import ContentType
from django.db import connections, transaction

# Migrations history: not emptied between tests, and not the fixture's.
KEPT_TABLES = {"django_migrations"}


@dataclass
class Snapshot:
    # table -> (column names, rows)
    tables: dict[str, tuple[list[str], list[tuple]]] = field(default_factory=dict)
    # (name, last value): PostgreSQL's sequences (None: never used), SQLite's sqlite_sequence.
    sequences: list[tuple] = field(default_factory=list)


_snapshots: dict[tuple, Snapshot] = {}


def _quote(connection, name: str) -> str:
    return connection.ops.quote_name(name)


def _tables(connection) -> list[str]:
    with connection.cursor() as cursor:
        listed = connection.introspection.get_table_list(cursor)
    return sorted(t.name for t in listed if t.type == "t" and t.name not in KEPT_TABLES)


def _sqlite_stored(value):
    """A value as SQLite stores it: Django's converters hand back dates and times, which
    the sqlite3 module does not take back; Django writes them as their ``str()``."""
    if isinstance(value, datetime.date | datetime.time):  # datetime is a date too
        return str(value)
    return value


def take(alias: str = "default") -> Snapshot:
    connection = connections[alias]
    snapshot = Snapshot()
    with connection.cursor() as cursor:
        for table in _tables(connection):
            cursor.execute(f"SELECT * FROM {_quote(connection, table)}")  # noqa: S608
            columns = [column[0] for column in cursor.description]
            rows = cursor.fetchall()
            if connection.vendor == "sqlite":
                rows = [tuple(map(_sqlite_stored, row)) for row in rows]
            snapshot.tables[table] = (columns, rows)
        if connection.vendor == "postgresql":
            cursor.execute("SELECT schemaname || '.' || sequencename, last_value "
                           "FROM pg_sequences WHERE schemaname = current_schema()")
            snapshot.sequences = cursor.fetchall()
        elif connection.vendor == "sqlite":
            cursor.execute("SELECT name, seq FROM sqlite_sequence")
            snapshot.sequences = cursor.fetchall()
    return snapshot


def restore(snapshot: Snapshot, alias: str = "default") -> None:
    """Empty every table and put the snapshot's rows back, in one transaction. The foreign
    keys Django creates are checked at commit (DEFERRABLE INITIALLY DEFERRED on both
    backends), so the tables can be filled in any order."""
    connection = connections[alias]
    with transaction.atomic(using=alias), connection.cursor() as cursor:
        tables = _tables(connection)
        if connection.vendor == "postgresql":
            cursor.execute("TRUNCATE " + ", ".join(_quote(connection, t) for t in tables)
                           + " CASCADE")
        else:
            for table in tables:
                cursor.execute(f"DELETE FROM {_quote(connection, table)}")  # noqa: S608
        for table, (columns, rows) in snapshot.tables.items():
            if not rows:
                continue
            names = ", ".join(_quote(connection, c) for c in columns)
            insert = f"INSERT INTO {_quote(connection, table)} ({names}) VALUES "  # noqa: S608
            if connection.vendor == "postgresql":
                # Rows by the thousand per statement: row by row, a volume of a few
                # thousand grids took seconds.
                from psycopg2.extras import execute_values

                execute_values(cursor.cursor, insert + "%s", rows, page_size=1000)
            else:
                cursor.executemany(insert + "(" + ", ".join(["%s"] * len(columns)) + ")",
                                   rows)
        if connection.vendor == "postgresql":
            for sequence, last_value in snapshot.sequences:
                if last_value is None:  # never used: the next value is the first
                    cursor.execute("SELECT setval(%s, 1, false)", [sequence])
                else:
                    cursor.execute("SELECT setval(%s, %s, true)", [sequence, last_value])
        elif connection.vendor == "sqlite":
            cursor.execute("DELETE FROM sqlite_sequence")
            cursor.executemany("INSERT INTO sqlite_sequence (name, seq) VALUES (%s, %s)",
                               snapshot.sequences)
    # Content types are cached by id in the process (the live server's thread too); the
    # emptied database had given them other ids.
    ContentType.objects.clear_cache()


def restore_or_build(key: str, build: Callable[[], None], alias: str = "default") -> None:
    """Run ``build`` the first time ``key`` is asked for in this process and keep what it
    made; afterwards, restore that instead of building again."""
    connection = connections[alias]
    cache_key = (key, alias, connection.vendor, connection.settings_dict["NAME"])
    snapshot = _snapshots.get(cache_key)
    if snapshot is None:
        build()
        _snapshots[cache_key] = take(alias)
    else:
        restore(snapshot, alias)
