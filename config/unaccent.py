"""Accent-insensitive comparisons that behave the same on SQLite and PostgreSQL.

``Unaccent(expression)`` calls the SQL function ``immutable_unaccent``:
- on PostgreSQL, the candidates migration 0003 creates it over the ``unaccent`` extension and
  declares it IMMUTABLE (``unaccent()`` itself is only STABLE), so that an index may be built
  on it;
- on SQLite, ``register_sqlite_functions`` adds it to every connection, in Python.
Both remove diacritics (« Hélène » → « Helene ») and spell ligatures out (« Œ » → « OE »);
``strip_accents`` does the same to the text a person types. (Punctuation is left alone: PG's
unaccent also rewrites « ’ » and « « », which no name search depends on.)
"""

import unicodedata

from django.db.models import CharField, Func

FUNCTION = "immutable_unaccent"
# Letters NFKD does not decompose, spelt out as PostgreSQL's unaccent rules do.
UNDECOMPOSED = str.maketrans({
    "œ": "oe", "Œ": "OE", "æ": "ae", "Æ": "AE", "ß": "ss", "ø": "o", "Ø": "O", "ł": "l",
    "Ł": "L", "đ": "d", "Đ": "D", "ð": "d", "Ð": "D", "þ": "th", "Þ": "TH", "ı": "i",
})


def strip_accents(text: str | None) -> str | None:
    if text is None:
        return None
    decomposed = unicodedata.normalize("NFKD", text.translate(UNDECOMPOSED))
    return "".join(char for char in decomposed if not unicodedata.combining(char))


class Unaccent(Func):
    function = FUNCTION
    arity = 1
    output_field = CharField()


def register_sqlite_functions(sender=None, connection=None, **kwargs) -> None:
    """``connection_created`` receiver (candidates.apps): SQLite gets ``immutable_unaccent``."""
    if connection is not None and connection.vendor == "sqlite":
        connection.connection.create_function(FUNCTION, 1, strip_accents, deterministic=True)
