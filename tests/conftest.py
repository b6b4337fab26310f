"""Suite-wide fixtures: fast hashing, eager Celery unless a test asks for the real worker,
skips with a reason for tests whose services are absent."""

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.utils import translation

from config.celery import app as celery_app
from tests.factories import real_pdf


def pytest_collection_modifyitems(config, items):
    broker = bool(settings.CELERY_BROKER_URL)
    for item in items:
        if "worker" in item.keywords and not broker:
            item.add_marker(pytest.mark.skip(
                reason="pas de broker (CELERY_BROKER_URL) : le worker réel tourne dans .ci/run"
            ))
        if "postgres" in item.keywords and connection.vendor != "postgresql":
            item.add_marker(pytest.mark.skip(
                reason="nécessite PostgreSQL (DATABASE_URL) : exécuté par .ci/run"
            ))


@pytest.fixture(autouse=True)
def _fast_and_eager(settings, request):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    # Every test client is 127.0.0.1 and the count lives in the process's cache: the verify
    # page's limit per address would trip across tests (tests/trust/test_verify_abuse.py sets
    # its own).
    settings.RATELIMIT_RATES = {**settings.RATELIMIT_RATES, "VERIFY": "100000/m"}
    # What one test kept in the process's cache (kept statistics, rate counts) is not the
    # next one's: ids repeat across tests once a database is emptied.
    cache.clear()
    eager = "worker" not in request.keywords
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = eager
    yield
    celery_app.conf.task_always_eager = previous
    # A request in English must not leave English active for the next test.
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture(name="real_pdf")
def real_pdf_fixture() -> bytes:
    """A genuine one-page PDF (tests.factories.real_pdf)."""
    return real_pdf()
