"""Stateless web (issue 11 §1): with ``STORAGE_BACKEND=s3`` the uploaded documents and the
generated PDFs go to the object store, never under MEDIA_ROOT, and come back only through the
permission-checked views; the bucket's objects cannot be read without credentials. Against a
real S3 API: moto's server mode on 127.0.0.1, as ``make prod-smoke`` runs it."""

import io
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
import zipfile
from pathlib import Path

import boto3
import pytest
from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage, storages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from pypdf import PdfReader
from storages.backends.s3 import S3Storage

from candidates.models import DocumentKind
from certifications.models import Role
from config.storage import S3_MAX_MEMORY_SIZE, default_storage_from_env
from evaluations.models import BatchExport, GeneratedDocument
from evaluations.tasks import build_commission_zip, render_grid_pdf
from tests.evaluations.conftest import *  # noqa: F403 — pytest fixtures
from tests.factories import UserFactory, make_registration, member

pytestmark = pytest.mark.django_db
CREDENTIALS = {"S3_ACCESS_KEY_ID": "uimm-test", "S3_SECRET_ACCESS_KEY": "uimm-test-secret"}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def s3_endpoint():
    """moto's S3 server, started once for the session and stopped at its end."""
    port = _free_port()
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1):
                break
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                pytest.fail("le serveur S3 de test (moto_server) n'a pas démarré")
            time.sleep(0.1)
    yield endpoint
    server.terminate()
    server.wait(timeout=10)


class Bucket:
    """A fresh bucket of the test server, seen with boto3 directly (not through Django)."""

    def __init__(self, endpoint: str):
        self.endpoint = endpoint
        self.name = f"uimm-{uuid.uuid4().hex[:12]}"
        self.client = boto3.client(
            "s3", endpoint_url=endpoint, region_name="fr-par",
            aws_access_key_id=CREDENTIALS["S3_ACCESS_KEY_ID"],
            aws_secret_access_key=CREDENTIALS["S3_SECRET_ACCESS_KEY"])
        self.client.create_bucket(Bucket=self.name,
                                  CreateBucketConfiguration={"LocationConstraint": "fr-par"})

    def keys(self) -> list[str]:
        listing = self.client.list_objects_v2(Bucket=self.name)
        return sorted(item["Key"] for item in listing.get("Contents", []))

    def read(self, key: str) -> bytes:
        return self.client.get_object(Bucket=self.name, Key=key)["Body"].read()


@pytest.fixture
def bucket(s3_endpoint, settings, tmp_path) -> Bucket:
    """Django's default storage switched to the object store, read from the same variables
    as production (config/storage.py); MEDIA_ROOT points to a directory that must stay
    empty. Overriding STORAGES resets ``storages`` and ``default_storage`` (Django's
    setting_changed), which every FileField resolves through."""
    bucket = Bucket(s3_endpoint)
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.STORAGES = {**settings.STORAGES, "default": default_storage_from_env({
        "STORAGE_BACKEND": "s3", "S3_BUCKET": bucket.name, "S3_ENDPOINT_URL": s3_endpoint,
        **CREDENTIALS})}
    assert isinstance(storages["default"], S3Storage)
    yield bucket
    storages["default"].connection.meta.client.close()
    bucket.client.close()
    assert not settings.MEDIA_ROOT.exists() or not any(settings.MEDIA_ROOT.rglob("*"))


def streamed(response) -> bytes:
    assert response.streaming  # served in blocks, not built whole in memory
    return b"".join(response.streaming_content)


def pdf_text(content: bytes) -> str:
    return " ".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(content))
                             .pages).split())


# ---------------------------------------------------------------------------
# Uploaded documents
# ---------------------------------------------------------------------------
def test_a_document_uploaded_by_staff_is_stored_in_the_bucket_and_served_by_the_checked_view(
        client, bucket, centre, staff, real_pdf):
    registration = make_registration(centre=centre, actor=staff)
    client.force_login(staff)

    response = client.post(reverse("candidates:document_upload", args=[registration.pk]),
                           {"kind": DocumentKind.EVIDENCE,
                            "file": SimpleUploadedFile("preuve.pdf", real_pdf)})

    assert response.status_code == 302
    document = registration.documents.get()
    assert bucket.keys() == [document.file.name]
    assert bucket.read(document.file.name) == real_pdf
    download = client.get(reverse("candidates:document_download", args=[document.pk]))
    assert download["Content-Disposition"] == 'attachment; filename="preuve.pdf"'
    assert streamed(download) == real_pdf
    page = client.get(reverse("candidates:registration_detail", args=[registration.pk]))
    assert reverse("candidates:document_download", args=[document.pk]) in page.content.decode()
    assert bucket.endpoint not in page.content.decode()


def test_a_document_in_the_bucket_is_404_for_the_staff_of_another_centre(
        client, bucket, centre, staff, real_pdf):
    registration = make_registration(centre=centre, actor=staff)
    client.force_login(staff)
    client.post(reverse("candidates:document_upload", args=[registration.pk]),
                {"kind": DocumentKind.EVIDENCE, "file": SimpleUploadedFile("a.pdf", real_pdf)})
    document = registration.documents.get()
    client.force_login(member(Role.STAFF))

    response = client.get(reverse("candidates:document_download", args=[document.pk]))

    assert response.status_code == 404


def test_the_personal_data_export_joins_the_documents_read_from_the_bucket(
        client, bucket, centre, staff, real_pdf):
    registration = make_registration(centre=centre, actor=staff)
    client.force_login(staff)
    client.post(reverse("candidates:document_upload", args=[registration.pk]),
                {"kind": DocumentKind.EVIDENCE, "file": SimpleUploadedFile("a.pdf", real_pdf)})

    response = client.post(reverse("personal_data_export", args=[registration.candidate_id]))

    archive = zipfile.ZipFile(io.BytesIO(streamed(response)))
    joined = [name for name in archive.namelist() if name.startswith("fichiers/")]
    assert [archive.read(name) for name in joined] == [real_pdf]


# ---------------------------------------------------------------------------
# Generated PDFs
# ---------------------------------------------------------------------------
@pytest.fixture
def rendered(bucket, signed) -> GeneratedDocument:
    """The signed grid's PDF, rendered by the real task (eager here, as without a broker)."""
    document = GeneratedDocument.objects.get(grid=signed)
    assert not document.file  # the test transaction never commits: the task is pending
    render_grid_pdf.delay(document_id=document.pk)
    document.refresh_from_db()
    return document


@pytest.mark.slow
def test_the_grid_pdf_rendered_by_the_task_is_in_the_bucket_and_downloads(
        client, bucket, rendered, signed, staff):
    assert bucket.keys() == [rendered.file.name]
    stored = bucket.read(rendered.file.name)
    client.force_login(staff)

    response = client.get(reverse("grids:pdf", args=[signed.pk]))

    assert response.status_code == 200
    content = streamed(response)
    assert content == stored
    assert signed.snapshot["candidate"]["name"] in pdf_text(content)
    client.force_login(member(Role.STAFF))
    assert client.get(reverse("grids:pdf", args=[signed.pk])).status_code == 404


@pytest.mark.slow
def test_the_commission_zip_is_built_from_the_bucket_into_the_bucket(
        client, bucket, rendered, signed, commission, staff):
    batch = BatchExport.objects.create(commission=commission, requested_by=staff, total=1)

    assert build_commission_zip.delay(batch_id=batch.pk).get() is True

    batch.refresh_from_db()
    assert bucket.keys() == sorted([rendered.file.name, batch.file.name])
    client.force_login(staff)
    archive = zipfile.ZipFile(io.BytesIO(streamed(
        client.get(reverse("grids:zip_download", args=[batch.pk])))))
    reference = signed.scheduled.registration.reference
    assert archive.read(f"grille-{reference}.pdf") == bucket.read(rendered.file.name)


@pytest.mark.slow
def test_the_admin_shows_no_url_of_the_bucket(client, bucket, rendered):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))

    page = client.get(reverse("admin:evaluations_generateddocument_change",
                              args=[rendered.pk])).content.decode()

    assert rendered.file.name in page
    assert bucket.endpoint not in page and "X-Amz-Signature" not in page


# ---------------------------------------------------------------------------
# The bucket itself
# ---------------------------------------------------------------------------
def test_objects_are_not_readable_without_credentials(bucket):
    name = default_storage.save("documents/grille/essai.pdf", ContentFile(b"%PDF-1.7 secret"))
    plain = f"{bucket.endpoint}/{bucket.name}/{name}"

    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(plain, timeout=5)

    refused.value.close()
    assert refused.value.code == 403
    grants = bucket.client.get_object_acl(Bucket=bucket.name, Key=name)["Grants"]
    assert not [grant for grant in grants if "AllUsers" in grant["Grantee"].get("URI", "")]
    # A URL of the store, should one ever be made, is signed and short-lived (60 s) — and the
    # store does serve it: the plain URL was refused for want of a signature, not of a file.
    signed_url = default_storage.url(name)
    assert re.search(r"X-Amz-Expires=60\b", signed_url)
    with urllib.request.urlopen(signed_url, timeout=5) as response:
        assert response.read() == b"%PDF-1.7 secret"


def test_a_large_object_read_back_is_spooled_to_disk_not_held_in_memory(bucket):
    size = S3_MAX_MEMORY_SIZE + 1024
    name = default_storage.save("exports/gros.zip", ContentFile(b"x" * size))

    with default_storage.open(name, "rb") as stream:
        assert len(stream.read(4096)) == 4096
        assert stream.file._rolled  # SpooledTemporaryFile moved to a temporary file


# ---------------------------------------------------------------------------
# Configuration
# ---------------------------------------------------------------------------
def test_local_storage_is_the_default():
    assert default_storage_from_env({})["BACKEND"] == (
        "django.core.files.storage.FileSystemStorage")


def test_s3_options_are_read_from_the_environment():
    options = default_storage_from_env({
        "STORAGE_BACKEND": "s3", "S3_BUCKET": "docs", "S3_ENDPOINT_URL": "https://s3.example",
        "S3_REGION": "gra", "S3_URL_EXPIRE_SECONDS": "30", **CREDENTIALS})["OPTIONS"]

    assert (options["bucket_name"], options["endpoint_url"], options["region_name"]) == (
        "docs", "https://s3.example", "gra")
    assert (options["access_key"], options["secret_key"]) == ("uimm-test", "uimm-test-secret")
    assert options["querystring_auth"] is True and options["querystring_expire"] == 30
    assert options["default_acl"] is None and options["file_overwrite"] is False
    assert options["client_config"].s3 == {"addressing_style": "path"}


@pytest.mark.parametrize("environ, message", [
    ({"STORAGE_BACKEND": "s3"}, "S3_BUCKET doit être défini"),
    ({"STORAGE_BACKEND": "ftp"}, "STORAGE_BACKEND doit valoir « local » ou « s3 »"),
    ({"STORAGE_BACKEND": "s3", "S3_BUCKET": "b", "S3_URL_EXPIRE_SECONDS": "une minute"},
     "S3_URL_EXPIRE_SECONDS doit être un nombre de secondes"),
])
def test_an_unusable_storage_setting_is_refused_in_french(environ, message):
    with pytest.raises(ImproperlyConfigured, match=message):
        default_storage_from_env(environ)


def test_a_start_with_s3_and_no_bucket_is_refused_in_french():
    inherited = {key: os.environ[key] for key in ("PATH", "HOME", "LANG", "TMPDIR")
                 if key in os.environ}
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=django_settings.BASE_DIR, capture_output=True, text=True, timeout=120, check=False,
        env={**inherited, "DJANGO_SETTINGS_MODULE": "config.settings", "STORAGE_BACKEND": "s3"})

    assert result.returncode != 0
    assert "ImproperlyConfigured: S3_BUCKET doit être défini" in result.stderr


# ---------------------------------------------------------------------------
# No public URL of a private file anywhere
# ---------------------------------------------------------------------------
FILE_URL = re.compile(r"\b(file|bundle|document|stored)\.url\b|storage\.url\(")


def test_no_template_or_code_builds_a_url_of_a_stored_file():
    """Private files leave only through the permission-checked views: no ``file.url`` in a
    template or in the application's code."""
    root = Path(django_settings.BASE_DIR)
    sources = [*root.glob("templates/**/*.html"),
               *[path for app in ("certifications", "candidates", "commissions", "evaluations",
                                  "reporting", "config") for path in root.glob(f"{app}/**/*")
                 if path.suffix in (".py", ".html")]]
    offending = [f"{path.relative_to(root)}:{number}"
                 for path in sources
                 for number, line in enumerate(path.read_text().splitlines(), start=1)
                 if FILE_URL.search(line)]

    assert sources and offending == []
