"""Settings read from the environment (DESIGN.md §6): production-like values pass Django's
deployment checks; a production start without a secret key is refused."""

import os
import secrets
import subprocess
import sys

import pytest
from django.conf import settings


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    # A fresh interpreter (settings are read once, at import) with only the variables given:
    # nothing leaks from the test session (DATABASE_URL of CI, DJANGO_ALLOW_ASYNC_UNSAFE…).
    inherited = {
        key: os.environ[key] for key in ("PATH", "HOME", "LANG", "TMPDIR") if key in os.environ
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env={**inherited, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_production_settings_pass_the_deployment_checks(tmp_path):
    result = _manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50)[:50],
        ALLOWED_HOSTS="certif.example.org",
        DATABASE_URL=f"sqlite:///{tmp_path / 'x.sqlite3'}",
        # Rate limits and login throttling count across web processes: a shared cache.
        CACHE_URL="redis://127.0.0.1:6379/1",
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_start_without_secret_key_is_refused(tmp_path):
    result = _manage(
        "check",
        DEBUG="0",
        ALLOWED_HOSTS="certif.example.org",
        DATABASE_URL=f"sqlite:///{tmp_path / 'x.sqlite3'}",
    )

    assert result.returncode != 0
    assert "SECRET_KEY doit être défini" in result.stderr


@pytest.mark.postgres
def test_no_server_side_cursors_on_postgresql():
    """A DECLARE … WITH HOLD per form select cost ~15 ms a page (issue 7 bench)."""
    from django.db import connection

    assert connection.vendor == "postgresql"
    assert connection.settings_dict["DISABLE_SERVER_SIDE_CURSORS"] is True


def test_database_and_cache_waits_are_bounded_in_production():
    """A PostgreSQL or Redis that hangs instead of refusing fails a request, and /healthz,
    within seconds rather than holding every gunicorn worker."""
    code = ("from django.conf import settings as s; "
            "print(s.DATABASES['default']['OPTIONS']['connect_timeout'], "
            "s.CACHES['default']['OPTIONS']['socket_connect_timeout'], "
            "s.CACHES['default']['OPTIONS']['socket_timeout'])")
    result = _manage("shell", "-v", "0", "-c", code, DEBUG="0", SECRET_KEY="k" * 60,
                     ALLOWED_HOSTS="certif.example.org", LOG_LEVEL="WARNING",
                     DATABASE_URL="postgres://certif@127.0.0.1:5432/certif",
                     CACHE_URL="redis://127.0.0.1:6379/1")

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["5", "2", "2"]


def test_static_files_collect_with_hashed_names(settings, tmp_path):
    """Production serves static files under hashed names (WhiteNoise's manifest storage): a
    vendored file that names a missing one (a source map) makes collectstatic fail — and the
    deployment with it (found by the bench on Chart.js)."""
    from django.core.management import call_command

    settings.STATIC_ROOT = tmp_path / "static"
    settings.STORAGES = {**settings.STORAGES, "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"}}
    call_command("collectstatic", "--noinput", verbosity=0)
    manifest = (tmp_path / "static" / "staticfiles.json").read_text()
    assert "vendor/chartjs/chart.umd.min.js" in manifest
