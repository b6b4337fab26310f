"""Backups that restore (issue 11 §3): the database, every stored file, and a manifest.

A backup is one directory ``<BACKUP_DIR>/backup-YYYYMMDD-HHMMSS`` (UTC) holding:

- ``database.dump`` (PostgreSQL, ``pg_dump --format=custom``: one consistent snapshot) or
  ``database.sqlite3`` (SQLite, through sqlite3's online backup API);
- ``files/<name>``: every file of Django's default storage, read through the storage API
  (local directory or S3 alike);
- ``manifest.json``: path, size and SHA-256 of each of those, the application version, the
  database vendor, the last applied migration of each app, the creation time.

It is written under a ``.partial`` name and renamed at the end, so a directory with the final
name is always complete. The database is dumped before the files are copied: stored files are
written once and never changed, so every file the dump refers to is already in storage (a file
created meanwhile is copied too, harmlessly).

Restoring refuses a target database that already holds tables and a manifest that does not
match the directory, both before anything is written. This module imports no app: it works on
tables and storage names only.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import sqlite3
import subprocess
import tomllib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

from celery import shared_task
from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.core.mail import mail_admins
from django.db import connection, connections
from django.db.migrations.recorder import MigrationRecorder
from django.utils.translation import gettext as _

from config import ops_status

logger = logging.getLogger(__name__)

FORMAT = 1
MANIFEST = "manifest.json"
FILES_DIR = "files"
DUMP_NAMES = {"postgresql": "database.dump", "sqlite": "database.sqlite3"}
NAME_PATTERN = re.compile(r"^backup-\d{8}-\d{6}$")
BLOCK = 1024 * 1024


class BackupError(Exception):
    """A backup or restore that cannot proceed; the message is French, for the operator."""


@dataclass(frozen=True)
class BackupResult:
    path: Path
    size: int
    files: int


# ---------------------------------------------------------------------------
# Facts recorded in the manifest
# ---------------------------------------------------------------------------
def app_version() -> str:
    """``git describe`` of the deployed tree, else the version of pyproject.toml (an image
    built without .git)."""
    try:
        described = subprocess.run(
            ["git", "describe", "--tags", "--always", "--dirty"],  # noqa: S607
            cwd=settings.BASE_DIR, capture_output=True, text=True, timeout=10, check=True)
        if described.stdout.strip():
            return described.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        pass
    with (Path(settings.BASE_DIR) / "pyproject.toml").open("rb") as handle:
        return tomllib.load(handle)["project"]["version"]


def migration_state() -> dict[str, str]:
    """The last applied migration of each app (names are numbered, so the greatest)."""
    state: dict[str, str] = {}
    for app, name in MigrationRecorder(connection).applied_migrations():
        state[app] = max(state.get(app, ""), name)
    return dict(sorted(state.items()))


def _sha256_and_size(path: Path) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with path.open("rb") as handle:
        while block := handle.read(BLOCK):
            digest.update(block)
            size += len(block)
    return digest.hexdigest(), size


# ---------------------------------------------------------------------------
# The database
# ---------------------------------------------------------------------------
def _vendor() -> str:
    if connection.vendor not in DUMP_NAMES:
        raise BackupError(_("Base de données « %(vendor)s » non prise en charge par la "
                            "sauvegarde (PostgreSQL ou SQLite).") % {"vendor": connection.vendor})
    return connection.vendor


def _libpq_env() -> dict[str, str]:
    """The connection parameters of DATABASES["default"] as libpq variables: no password on
    a command line (visible to every user of the machine)."""
    params = settings.DATABASES["default"]
    env = dict(os.environ)
    for variable, value in (("PGDATABASE", params.get("NAME")), ("PGUSER", params.get("USER")),
                            ("PGPASSWORD", params.get("PASSWORD")),
                            ("PGHOST", params.get("HOST")), ("PGPORT", params.get("PORT")),
                            ("PGSSLMODE", params.get("OPTIONS", {}).get("sslmode"))):
        if value:
            env[variable] = str(value)
    return env


def _run(command: list[str], what: str) -> None:
    try:
        # S603: the argument list is ours, and no shell is involved.
        subprocess.run(command, env=_libpq_env(), capture_output=True, text=True,  # noqa: S603
                       check=True)
    except FileNotFoundError as error:
        raise BackupError(_("%(what)s : commande « %(cmd)s » introuvable (installez le client "
                            "PostgreSQL de la version du serveur).")
                          % {"what": what, "cmd": command[0]}) from error
    except subprocess.CalledProcessError as error:
        raise BackupError(_("%(what)s : %(cmd)s a échoué (code %(code)s) : %(err)s") % {
            "what": what, "cmd": command[0], "code": error.returncode,
            "err": error.stderr.strip()}) from error


def _dump_database(target: Path) -> None:
    if connection.vendor == "postgresql":
        _run(["pg_dump", "--format=custom", "--file", str(target)],
             _("Sauvegarde de la base"))
        return
    if connection.in_atomic_block:
        # sqlite3's backup waits for ever on the write lock this transaction holds.
        raise BackupError(_("Une base SQLite se sauvegarde hors de toute transaction."))
    connection.ensure_connection()
    destination = sqlite3.connect(target)
    try:
        connection.connection.backup(destination)
    finally:
        destination.close()


def _database_tables() -> list[str]:
    with connection.cursor() as cursor:
        return connection.introspection.table_names(cursor, include_views=True)


def _restore_database(source: Path) -> None:
    if connection.vendor == "postgresql":
        # One transaction: a failure leaves the target as empty as it was.
        _run(["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error",
              "--single-transaction", "--dbname", settings.DATABASES["default"]["NAME"],
              str(source)], _("Restauration de la base"))
        return
    connection.ensure_connection()
    origin = sqlite3.connect(source)
    try:
        origin.backup(connection.connection)
    finally:
        origin.close()
    connections.close_all()  # the next query reopens the restored file


# ---------------------------------------------------------------------------
# The stored files
# ---------------------------------------------------------------------------
def stored_names(storage=default_storage, directory: str = "") -> list[str]:
    """Every file name of ``storage``, recursively, as the storage names them."""
    subdirectories, files = storage.listdir(directory)
    names = [f"{directory}/{name}" if directory else name for name in files]
    for subdirectory in subdirectories:
        names += stored_names(storage, f"{directory}/{subdirectory}" if directory
                              else subdirectory)
    return sorted(names)


def _copy_from_storage(name: str, target: Path) -> dict:
    target.parent.mkdir(parents=True, exist_ok=True)
    digest, size = hashlib.sha256(), 0
    with default_storage.open(name, "rb") as source, target.open("wb") as out:
        while block := source.read(BLOCK):
            digest.update(block)
            size += len(block)
            out.write(block)
    return {"path": name, "size": size, "sha256": digest.hexdigest()}


# ---------------------------------------------------------------------------
# Backing up
# ---------------------------------------------------------------------------
def create_backup(parent: Path | str) -> BackupResult:
    """Write a complete backup in a new subdirectory of ``parent``; return where."""
    vendor = _vendor()
    parent = Path(parent)
    parent.mkdir(parents=True, exist_ok=True)
    created_at = datetime.now(UTC)
    final = parent / created_at.strftime("backup-%Y%m%d-%H%M%S")
    if final.exists():
        raise BackupError(_("Le dossier %(path)s existe déjà.") % {"path": final})
    partial = final.with_name(final.name + ".partial")
    partial.mkdir()
    try:
        dump = partial / DUMP_NAMES[vendor]
        _dump_database(dump)
        dump_hash, dump_size = _sha256_and_size(dump)
        files = [_copy_from_storage(name, partial / FILES_DIR / name)
                 for name in stored_names()]
        manifest = {
            "format": FORMAT,
            "created_at": created_at.isoformat(),
            "app_version": app_version(),
            "database": {"vendor": vendor, "path": dump.name, "size": dump_size,
                         "sha256": dump_hash},
            "migrations": migration_state(),
            "files": files,
        }
        (partial / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False),
                                        encoding="utf-8")
        partial.rename(final)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return BackupResult(path=final, size=dump_size + sum(f["size"] for f in files),
                        files=len(files))


def prune(parent: Path | str, *, keep: int) -> list[Path]:
    """Delete all but the ``keep`` newest complete backups of ``parent`` (names sort by date);
    leave anything else in the directory alone. Returns the deleted paths."""
    backups = sorted(path for path in Path(parent).iterdir()
                     if path.is_dir() and NAME_PATTERN.match(path.name)
                     and (path / MANIFEST).is_file())
    doomed = backups[:-keep] if keep > 0 else backups
    for path in doomed:
        shutil.rmtree(path)
    return doomed


# ---------------------------------------------------------------------------
# Restoring
# ---------------------------------------------------------------------------
def _safe_relative(name: str) -> PurePosixPath:
    path = PurePosixPath(name)
    if not name or path.is_absolute() or ".." in path.parts:
        raise BackupError(_("Manifeste invalide : chemin de fichier refusé « %(name)s ».")
                          % {"name": name})
    return path


def read_manifest(directory: Path | str) -> dict:
    """The manifest of ``directory``, checked against every file there: each listed file
    present with its size and SHA-256, and no file that the manifest does not list."""
    directory = Path(directory)
    try:
        manifest = json.loads((directory / MANIFEST).read_text(encoding="utf-8"))
        database, files = manifest["database"], manifest["files"]
    except FileNotFoundError as error:
        raise BackupError(_("Pas de manifest.json dans %(path)s : ce n'est pas une "
                            "sauvegarde.") % {"path": directory}) from error
    except (ValueError, KeyError, TypeError) as error:
        raise BackupError(_("manifest.json illisible ou incomplet.")) from error
    if manifest.get("format") != FORMAT:
        raise BackupError(_("Format de sauvegarde %(format)s inconnu.")
                          % {"format": manifest.get("format")})
    expected = {str(_safe_relative(database["path"])): database}
    expected.update({f"{FILES_DIR}/{_safe_relative(entry['path'])}": entry for entry in files})
    present = {path.relative_to(directory).as_posix() for path in directory.rglob("*")
               if path.is_file()} - {MANIFEST}
    problems = [_("fichier manquant : %(path)s") % {"path": path}
                for path in sorted(expected.keys() - present)]
    problems += [_("fichier absent du manifeste : %(path)s") % {"path": path}
                 for path in sorted(present - expected.keys())]
    for path in sorted(expected.keys() & present):
        digest, size = _sha256_and_size(directory / path)
        if (digest, size) != (expected[path]["sha256"], expected[path]["size"]):
            problems.append(_("contenu différent du manifeste : %(path)s") % {"path": path})
    if problems:
        raise BackupError(_("La sauvegarde ne correspond pas à son manifeste ; rien n'a été "
                            "restauré. %(problems)s") % {"problems": " ; ".join(problems)})
    return manifest


def restore_backup(directory: Path | str) -> dict:
    """Restore the backup in ``directory`` into the configured, empty database and storage.
    Every check runs before the first write. Returns the manifest."""
    directory = Path(directory)
    manifest = read_manifest(directory)
    vendor = _vendor()
    if manifest["database"]["vendor"] != vendor:
        raise BackupError(_("Sauvegarde d'une base %(saved)s : elle ne se restaure pas dans "
                            "une base %(target)s.")
                          % {"saved": manifest["database"]["vendor"], "target": vendor})
    tables = _database_tables()
    if tables:
        raise BackupError(_("La base cible n'est pas vide (%(count)s table(s), dont "
                            "« %(table)s ») : la restauration se fait dans une base neuve, "
                            "créée vide, sans migrate.") % {"count": len(tables),
                                                             "table": sorted(tables)[0]})
    clashes = [entry["path"] for entry in manifest["files"]
               if default_storage.exists(entry["path"])]
    if clashes:
        raise BackupError(_("Le stockage contient déjà %(count)s fichier(s) de la sauvegarde "
                            "(dont « %(path)s ») : restaurez dans un stockage vide.")
                          % {"count": len(clashes), "path": clashes[0]})

    _restore_database(directory / manifest["database"]["path"])
    for entry in manifest["files"]:
        with (directory / FILES_DIR / entry["path"]).open("rb") as handle:
            saved = default_storage.save(entry["path"], File(handle))
        if saved != entry["path"]:
            raise BackupError(_("Le stockage a enregistré « %(path)s » sous un autre nom "
                                "(%(saved)s).") % {"path": entry["path"], "saved": saved})
    return manifest


# ---------------------------------------------------------------------------
# The nightly job (Celery beat, CELERY_BEAT_SCHEDULE["nightly-backup"])
# ---------------------------------------------------------------------------
@shared_task(name="config.backup.nightly_backup")
def nightly_backup() -> str | None:
    """Back up into BACKUP_DIR and keep the BACKUP_KEEP newest. A failure is mailed to
    ADMINS and recorded for /healthz, then raised (the task shows as failed); older backups
    are pruned only after a success."""
    if not settings.BACKUP_DIR:
        return None
    try:
        result = create_backup(settings.BACKUP_DIR)
        prune(settings.BACKUP_DIR, keep=settings.BACKUP_KEEP)
    except Exception as error:
        logger.exception("Nightly backup failed")
        ops_status.record("backup", ok=False, error=str(error))
        mail_admins(_("Échec de la sauvegarde nocturne"),
                    _("La sauvegarde dans %(dir)s a échoué :\n\n%(error)s")
                    % {"dir": settings.BACKUP_DIR, "error": error})
        raise
    ops_status.record("backup", ok=True, path=str(result.path), size=result.size)
    return str(result.path)
