"""Dates written fast must say exactly what Django's localize says, in every language and at
every hour (time zone changes included)."""

import datetime
import zoneinfo

import pytest
from django.utils import formats, timezone, translation

from config import dateformats

PARIS = zoneinfo.ZoneInfo("Europe/Paris")
DATES = [datetime.date(2026, month, day) for month in range(1, 13) for day in (1, 9, 28)] + [
    datetime.date(1, 1, 1), datetime.date(999, 12, 31), datetime.date(2024, 2, 29)]
MOMENTS = [
    datetime.datetime(2026, 3, 29, 0, 30, tzinfo=datetime.UTC),  # around the spring change
    datetime.datetime(2026, 3, 29, 1, 30, tzinfo=datetime.UTC),
    datetime.datetime(2026, 10, 25, 0, 30, tzinfo=datetime.UTC),  # around the autumn change
    datetime.datetime(2026, 10, 25, 1, 30, tzinfo=datetime.UTC),
    datetime.datetime(2026, 12, 31, 23, 5, 9, tzinfo=datetime.UTC),  # next year in Paris
    datetime.datetime(2026, 7, 4, 9, 7, 3, 123456, tzinfo=PARIS),
    datetime.datetime(2026, 1, 1, 0, 0, tzinfo=datetime.UTC),
    datetime.datetime(2026, 6, 15, 12, 0),  # naive: written as it is
]


def djangos(value):
    return formats.localize(timezone.template_localtime(value))


# French (the application's), English and German (formats of parts not written here: Django
# writes them), Spanish (escaped letters in its formats).
@pytest.mark.parametrize("language", ["fr", "en", "de", "es"])
def test_dates_and_moments_are_written_as_django_writes_them(language):
    with translation.override(language), timezone.override(PARIS):
        for value in [*DATES, *MOMENTS]:
            assert dateformats.localize(value) == djangos(value), value
            assert type(dateformats.localize(value)) is str


def test_the_french_formats_are_written_here_not_by_django(monkeypatch):
    with translation.override("fr"):
        assert dateformats._plan(str(formats.get_format("DATE_FORMAT")), False) is not None
        assert dateformats._plan(str(formats.get_format("DATETIME_FORMAT")), True) is not None
        # A date has no hour: a format asking for one is left to Django (which refuses it).
        assert dateformats._plan("j F Y H:i", False) is None


def test_other_values_are_djangos():
    with translation.override("fr"):
        for value in [datetime.time(9, 30), 1234.5, True, "texte", None]:
            assert dateformats.localize(value) == djangos(value)
