"""Trigram indexes for the candidate search (PostgreSQL only; SQLite has nothing to create).

``candidates.selectors.matching`` searches each word with ``LIKE '%…%'``, which a B-tree index
cannot serve. On PostgreSQL, a GIN index with ``gin_trgm_ops`` (extension ``pg_trgm``) can,
provided it is built on exactly the expression the ORM writes:

- names, compared without accents (``config.unaccent``):
  ``UPPER(immutable_unaccent("col"))::text LIKE '%WORD%'``;
- the reference (``icontains``): ``UPPER("reference"::text) LIKE UPPER('%word%')``.

``immutable_unaccent`` wraps the ``unaccent`` extension in a function declared IMMUTABLE
(``unaccent()`` is only STABLE, which an index refuses). Both extensions are « trusted »: the
owner of the database may create them.
"""

from django.db import migrations

# (index, table, indexed expression)
INDEXES = [
    ("cand_birth_name_search_trgm", "candidates_candidate",
     'UPPER(immutable_unaccent("birth_name"))'),
    ("cand_usage_name_search_trgm", "candidates_candidate",
     'UPPER(immutable_unaccent("usage_name"))'),
    ("cand_first_names_search_trgm", "candidates_candidate",
     'UPPER(immutable_unaccent("first_names"))'),
    ("cand_company_name_search_trgm", "candidates_company",
     'UPPER(immutable_unaccent("name"))'),
    ("cand_reference_search_trgm", "candidates_registration", 'UPPER("reference"::text)'),
]

FUNCTION = """
CREATE OR REPLACE FUNCTION immutable_unaccent(text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
    AS $$ SELECT {schema}.unaccent('{schema}.unaccent'::regdictionary, $1) $$
"""


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS unaccent")
    with schema_editor.connection.cursor() as cursor:
        # The function names the dictionary with its schema: a search_path of a session
        # (or of pg_dump's restore) never changes what the index contains.
        cursor.execute("SELECT extnamespace::regnamespace::text FROM pg_extension "
                       "WHERE extname = 'unaccent'")
        schema = cursor.fetchone()[0]
    schema_editor.execute(FUNCTION.format(schema=schema))
    for name, table, expression in INDEXES:
        schema_editor.execute(f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" '
                              f"USING gin (({expression}) gin_trgm_ops)")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _table, _expression in INDEXES:
        schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')
    schema_editor.execute("DROP FUNCTION IF EXISTS immutable_unaccent(text)")


class Migration(migrations.Migration):

    dependencies = [
        ("candidates", "0002_registration_external_reference"),
    ]

    operations = [
        migrations.RunPython(create, drop, elidable=False),
    ]
