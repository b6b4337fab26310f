"""Backups that restore (issue 11 §3, config/backup.py).

The round trips run as real ``manage.py`` processes on databases of their own (never the
pytest database): seed, back up, drop the database and the files, restore into a new empty
database, then compare everything. The refusals and the nightly job run in-process on the
test database and a temporary storage."""

import hashlib
import io
import json
import subprocess
import sys
from pathlib import Path

import psycopg2
import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.db import connection

from config import ops_status
from config.backup import MANIFEST, create_backup, nightly_backup, stored_names

ROOT = Path(__file__).resolve().parents[2]

# Prints, on its last line, what must survive a backup and restore: the rows of every model,
# the SHA-256 of every stored file, the hashes each generated document records, and what
# verify_integrity finds.
SNAPSHOT = """
import hashlib, io, json
from django.apps import apps
from django.core.management import CommandError, call_command
from django.core.files.storage import default_storage
from config.backup import stored_names, migration_state
from evaluations.models import GeneratedDocument

def sha(name):
    with default_storage.open(name, "rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest()

report = io.StringIO()
try:
    call_command("verify_integrity", stdout=report)
    outcome = "ok"
except CommandError as error:
    outcome = str(error)

print(json.dumps({
    "counts": {m._meta.label: m._base_manager.count() for m in apps.get_models()},
    "files": {name: sha(name) for name in stored_names()},
    "documents": sorted([d.verification_code, d.content_sha256, d.file_sha256, d.file.name]
                        for d in GeneratedDocument.objects.all()),
    "migrations": migration_state(),
    "integrity": [report.getvalue(), outcome],
}))
"""

# Fills and signs one more grid (the demo's upcoming commission) as its members would; the
# PDF is rendered by the task, eagerly (no broker in the child's environment).
SIGN_A_GRID = """
from certifications.demo import DEMO_PASSWORD
from commissions.models import MemberRole, ScheduledCandidate
from evaluations import services
from evaluations.demo import _fill
from evaluations.models import GeneratedDocument, GridState

item = (ScheduledCandidate.objects.exclude(grid__state=GridState.SIGNED)
        .order_by("commission__date", "start_time").first())
members = sorted(item.commission.members.select_related("evaluator__user"),
                 key=lambda m: m.role != MemberRole.PRESIDENT)
president = members[0].evaluator.user
grid = services.ensure_grid(scheduled=item, actor=president)
services.record_attendance(grid=grid, attendance="present", actor=president)
_fill(grid, president)
services.submit_for_signature(grid=grid, actor=president)
for member in members:
    services.sign_grid(grid=grid, member=member, password=DEMO_PASSWORD, consent=True,
                       ip="127.0.0.1", user_agent="test_backup")
print(GeneratedDocument.objects.get(grid=grid).file.name)
"""

# What a laptop's SQLite demo needs to prove its round trip: rows and one stored file.
SQLITE_SEED = """
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
get_user_model().objects.create_user("sauvegarde", password="x" * 12)
print(default_storage.save("documents/essai.pdf", ContentFile(b"%PDF-1.7 essai")))
"""


def _manage(*args, env, check=True):
    result = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=900)
    if check:
        assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    return result


def _last_line(result) -> str:
    return result.stdout.strip().splitlines()[-1]


def _snapshot(env) -> dict:
    return json.loads(_last_line(_manage("shell", "-c", SNAPSHOT, env=env)))


def _env(tmp_path, database_url) -> dict:
    # Not os.environ: a broker configured for the suite would send the PDF to a worker.
    return {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "DEBUG": "1",
            "DATABASE_URL": database_url, "MEDIA_ROOT": str(tmp_path / "media"),
            "VAR_DIR": str(tmp_path / "var"), "EMAIL_URL": "dummy:", "HOME": str(tmp_path)}


def _round_trip(tmp_path, env, *, drop_database, seed) -> tuple[dict, dict, bytes]:
    """Seed, back up, lose everything, restore; returns the snapshots and the PDF read
    before. The restore target is a new, empty database under the same name."""
    _manage("migrate", "-v", "0", env=env)
    pdf_name = seed()
    pdf = (tmp_path / "media" / pdf_name).read_bytes()
    before = _snapshot(env)

    backup = tmp_path / "backups"
    _manage("backup", str(backup), env=env)
    [directory] = list(backup.iterdir())

    drop_database()
    for path in sorted((tmp_path / "media").rglob("*"), reverse=True):
        path.unlink() if path.is_file() else path.rmdir()
    assert list((tmp_path / "media").iterdir()) == []

    restored = _manage("restore", str(directory), env=env)
    assert "restaurée" in restored.stdout
    after = _snapshot(env)

    again = _manage("restore", str(directory), env=env, check=False)
    assert again.returncode == 1 and "n'est pas vide" in again.stderr
    assert _snapshot(env) == after
    return before, after, pdf


@pytest.fixture
def postgres_database(tmp_path):
    """A database of this test's own, next to the test database, dropped at the end."""
    params = connection.settings_dict
    name = f"{params['NAME']}_roundtrip"
    server = {"user": params["USER"], "host": params["HOST"] or "127.0.0.1",
              "port": params["PORT"] or 5432, "password": params["PASSWORD"] or None}

    def execute(*statements):
        admin = psycopg2.connect(dbname="postgres", **server)
        admin.autocommit = True
        try:
            with admin.cursor() as cursor:
                for statement in statements:
                    cursor.execute(statement)
        finally:
            admin.close()

    def recreate():
        execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"')

    recreate()
    password = f":{server['password']}" if server["password"] else ""
    url = f"postgres://{server['user']}{password}@{server['host']}:{server['port']}/{name}"
    yield url, recreate
    execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.postgres
@pytest.mark.slow
@pytest.mark.django_db
def test_postgresql_round_trip_restores_every_row_file_and_signed_pdf(tmp_path,
                                                                     postgres_database):
    url, recreate = postgres_database
    env = _env(tmp_path, url)

    def seed():
        _manage("seed_demo", env=env)
        return _last_line(_manage("shell", "-c", SIGN_A_GRID, env=env))

    before, after, pdf = _round_trip(tmp_path, env, drop_database=recreate, seed=seed)

    assert after == before
    # verify_integrity is clean: every signed grid, signature, decision, PV, document and file
    # checks out after the restore.
    assert after["integrity"][1] == "ok"
    assert after["integrity"][0].splitlines()[-1].startswith("Intégrité vérifiée")
    assert before["counts"]["evaluations.GeneratedDocument"] >= 2
    assert before["counts"]["evaluations.Signature"] >= 2
    assert any(name.endswith(".pdf") for name in before["files"])
    signed_pdf = next(name for name in before["files"] if name.startswith("documents/grille/"))
    assert pdf.startswith(b"%PDF")
    restored_pdfs = [(tmp_path / "media" / name).read_bytes() for name in before["files"]
                     if name.startswith("documents/grille/")]
    assert pdf in restored_pdfs and signed_pdf
    # The sequences came back too: a new row takes a fresh id instead of failing.
    created = _manage("shell", "-c", "from django.contrib.auth import get_user_model; "
                      "print(get_user_model().objects.create(username='apres').pk)", env=env)
    assert int(_last_line(created)) > before["counts"]["auth.User"]


@pytest.mark.slow
def test_sqlite_round_trip(tmp_path):
    """``make run``'s database: copied through sqlite3's backup API, restored into a new file."""
    env = _env(tmp_path, f"sqlite:///{tmp_path / 'db.sqlite3'}")

    def seed():
        return _last_line(_manage("shell", "-c", SQLITE_SEED, env=env))

    def drop_database():
        (tmp_path / "db.sqlite3").unlink()

    before, after, pdf = _round_trip(tmp_path, env, drop_database=drop_database, seed=seed)
    assert after == before
    assert after["integrity"][1] == "ok"
    assert before["counts"]["auth.User"] == 1
    assert pdf == b"%PDF-1.7 essai"
    manifest = json.loads(next((tmp_path / "backups").glob(f"*/{MANIFEST}")).read_text())
    assert manifest["database"]["vendor"] == "sqlite"
    assert manifest["database"]["path"] == "database.sqlite3"


# ---------------------------------------------------------------------------
# In-process: the backup's contents and the refusals
# ---------------------------------------------------------------------------
@pytest.fixture
def stored(media_root):
    return {
        default_storage.save("documents/grille/a.pdf", ContentFile(b"%PDF-1.7 a")),
        default_storage.save("dossiers/3/b", ContentFile(b"rapport")),
    }


@pytest.fixture
def backup_dir(transactional_db, tmp_path, stored):
    # Transactional: a SQLite database is copied outside any transaction.
    return create_backup(tmp_path / "backups").path


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_the_manifest_lists_every_stored_file_the_database_and_the_version(backup_dir):
    manifest = json.loads((backup_dir / MANIFEST).read_text())
    assert backup_dir.name.startswith("backup-")
    assert manifest["files"] == [
        {"path": "documents/grille/a.pdf", "size": 10, "sha256": _sha(b"%PDF-1.7 a")},
        {"path": "dossiers/3/b", "size": 7, "sha256": _sha(b"rapport")},
    ]
    assert (backup_dir / "files/dossiers/3/b").read_bytes() == b"rapport"
    database = manifest["database"]
    assert database["vendor"] == connection.vendor
    assert _sha((backup_dir / database["path"]).read_bytes()) == database["sha256"]
    assert manifest["app_version"]
    assert manifest["migrations"]["evaluations"].startswith("00")
    assert manifest["created_at"]


def test_restore_refuses_a_database_that_is_not_empty(backup_dir, stored):
    users = get_user_model().objects.count()
    with pytest.raises(CommandError, match="La base cible n'est pas vide"):
        call_command("restore", str(backup_dir))
    assert get_user_model().objects.count() == users
    assert set(stored_names()) == stored


@pytest.mark.parametrize("damage", ["file", "dump", "missing", "extra", "manifest"])
def test_restore_refuses_a_backup_that_does_not_match_its_manifest_before_the_database(
        backup_dir, damage):
    manifest_path = backup_dir / MANIFEST
    if damage == "file":
        (backup_dir / "files/documents/grille/a.pdf").write_bytes(b"%PDF-1.7 A")
        expected = "contenu différent du manifeste : files/documents/grille/a.pdf"
    elif damage == "dump":
        dump = next(backup_dir.glob("database.*"))
        dump.write_bytes(dump.read_bytes() + b"\0")
        expected = f"contenu différent du manifeste : {dump.name}"
    elif damage == "missing":
        (backup_dir / "files/dossiers/3/b").unlink()
        expected = "fichier manquant : files/dossiers/3/b"
    elif damage == "extra":
        (backup_dir / "files/intrus.pdf").write_bytes(b"%PDF")
        expected = "fichier absent du manifeste : files/intrus.pdf"
    else:
        manifest = json.loads(manifest_path.read_text())
        manifest["files"][1]["sha256"] = "0" * 64
        manifest_path.write_text(json.dumps(manifest))
        expected = "contenu différent du manifeste : files/dossiers/3/b"
    # The test database is not empty: the manifest error shows it was checked first.
    with pytest.raises(CommandError, match=expected):
        call_command("restore", str(backup_dir))


def test_restore_refuses_a_path_outside_the_storage(backup_dir):
    manifest = json.loads((backup_dir / MANIFEST).read_text())
    manifest["files"][0]["path"] = "../../etc/passwd"
    (backup_dir / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(CommandError, match="chemin de fichier refusé"):
        call_command("restore", str(backup_dir))


def test_restore_refuses_a_directory_without_manifest(db, tmp_path):
    with pytest.raises(CommandError, match="Pas de manifest.json"):
        call_command("restore", str(tmp_path))


# ---------------------------------------------------------------------------
# The nightly job
# ---------------------------------------------------------------------------
def _old_backup(parent: Path, stamp: str) -> Path:
    path = parent / f"backup-{stamp}"
    path.mkdir(parents=True)
    (path / MANIFEST).write_text("{}")
    return path


def test_nightly_backup_keeps_the_newest_and_records_success(transactional_db, tmp_path,
                                                             stored, settings):
    parent = tmp_path / "backups"
    olds = [_old_backup(parent, f"2026010{day}-023000") for day in (1, 2, 3)]
    unrelated = parent / "notes"
    unrelated.mkdir()
    settings.BACKUP_DIR, settings.BACKUP_KEEP = str(parent), 2

    path = Path(nightly_backup.delay().get())

    assert sorted(parent.iterdir()) == sorted([olds[2], path, unrelated])
    assert (path / MANIFEST).is_file()
    status = ops_status.read("backup")
    assert status["ok"] is True and status["path"] == str(path) and status["size"] > 0


def test_nightly_backup_failure_is_mailed_to_admins_and_recorded(db, tmp_path, settings):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    old = _old_backup(tmp_path / "kept", "20260101-023000")
    settings.BACKUP_DIR, settings.BACKUP_KEEP = str(blocker), 1
    settings.ADMINS = [("Exploitation", "exploitation@example.org")]

    with pytest.raises(OSError):
        nightly_backup.delay()

    [message] = mail.outbox
    assert "Échec de la sauvegarde nocturne" in message.subject
    assert message.to == ["exploitation@example.org"]
    assert str(blocker) in message.body
    status = ops_status.read("backup")
    assert status["ok"] is False and "not-a-directory" in status["error"]
    assert old.is_dir()


def test_nightly_backup_does_nothing_without_backup_dir(db, settings):
    settings.BACKUP_DIR = ""
    assert nightly_backup.delay().get() is None


def test_beat_schedules_the_backup_only_when_backup_dir_is_set(tmp_path):
    code = ("from django.conf import settings; "
            "e = settings.CELERY_BEAT_SCHEDULE.get('nightly-backup'); "
            "print(e and (e['task'], sorted(e['schedule'].hour), sorted(e['schedule'].minute)))")
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "DEBUG": "1",
           "VAR_DIR": str(tmp_path), "HOME": str(tmp_path)}
    scheduled = _manage("shell", "-c", code, env={**env, "BACKUP_DIR": str(tmp_path),
                                                  "BACKUP_TIME": "03:15"})
    assert _last_line(scheduled) == "('config.backup.nightly_backup', [3], [15])"
    assert _last_line(_manage("shell", "-c", code, env=env)) == "None"


def test_the_task_is_registered_with_the_worker():
    from config.celery import app

    app.loader.import_default_modules()
    assert "config.backup.nightly_backup" in app.tasks


def test_backup_command_writes_a_new_directory_and_keeps_the_newest(transactional_db, tmp_path,
                                                                    stored):
    parent = tmp_path / "backups"
    old = _old_backup(parent, "20260101-023000")
    out = io.StringIO()
    call_command("backup", str(parent), "--keep", "1", stdout=out)
    [made] = list(parent.iterdir())
    assert made != old and (made / MANIFEST).is_file()
    assert str(made) in out.getvalue() and "2 fichier(s)" in out.getvalue()


def test_a_backup_by_hand_into_backup_dir_counts_for_healthz(transactional_db, tmp_path,
                                                             stored, settings):
    cache.delete(ops_status.PREFIX + "backup")
    settings.BACKUP_DIR = str(tmp_path / "backups")
    call_command("backup", str(tmp_path / "elsewhere"), stdout=io.StringIO())
    assert ops_status.read("backup") is None  # another directory: not the configured backups

    call_command("backup", settings.BACKUP_DIR, stdout=io.StringIO())

    status = ops_status.read("backup")
    assert status["ok"] is True and status["path"].startswith(settings.BACKUP_DIR)
