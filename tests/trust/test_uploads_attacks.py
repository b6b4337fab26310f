"""Hostile uploads: polyglots, files whose name and content disagree, oversized files (refused
before being read), decompression bombs and other traps in DOCX/ODT, and names that try to
escape the storage folder or to disguise their extension. Each is refused in French, or
neutralised, and nothing lands outside the registration's folder under MEDIA_ROOT."""

import io
import stat
import struct
import warnings
import zipfile
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.files.uploadhandler import MemoryFileUploadHandler, TemporaryFileUploadHandler
from django.test.client import BOUNDARY, encode_multipart
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from candidates import services, uploads
from candidates.models import Document, LinkPurpose
from candidates.tasks import link_url
from certifications.exchange import ReferentialFormatError, import_referentials
from tests.factories import make_registration, real_pdf

# ---------------------------------------------------------------------------
# Files
# ---------------------------------------------------------------------------
PDF = real_pdf()
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64 + b"\xff\xd9"


def zip_bytes(members, compression=zipfile.ZIP_DEFLATED) -> bytes:
    """members: [(name or ZipInfo, data)], in order (duplicates allowed)."""
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # « Duplicate name »: on purpose
        with zipfile.ZipFile(buffer, "w", compression) as archive:
            for name, data in members:
                archive.writestr(name, data)
    return buffer.getvalue()


DOCX_PARTS = [("[Content_Types].xml", b"<Types/>"), ("word/document.xml", b"<w:document/>")]
DOCX = zip_bytes(DOCX_PARTS)
XLSX = zip_bytes([("[Content_Types].xml", b"<Types/>"), ("xl/workbook.xml", b"<workbook/>")])


def docx_with(*members, compression=zipfile.ZIP_DEFLATED) -> bytes:
    return zip_bytes([*DOCX_PARTS, *members], compression)


def patch_central_directory(data: bytes, *, offset: int, fmt: str, value) -> bytes:
    """Change one field of every central directory entry (what readers trust for sizes and
    flags), the way a forged archive does."""
    data = bytearray(data)
    start = 0
    while (found := data.find(b"PK\x01\x02", start)) != -1:
        struct.pack_into(fmt, data, found + offset, value)
        start = found + 4
    return bytes(data)


def encrypted_docx() -> bytes:
    """Bit 0 of the flags set in the local and central headers: « encrypted »."""
    data = bytearray(patch_central_directory(DOCX, offset=8, fmt="<H", value=0x1))
    start = 0
    while (found := data.find(b"PK\x03\x04", start)) != -1:
        struct.pack_into("<H", data, found + 6, 0x1)
        start = found + 4
    return bytes(data)


def symlink_docx() -> bytes:
    link = zipfile.ZipInfo("word/link")
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    return docx_with((link, b"/etc/passwd"))


class Untouchable(SimpleUploadedFile):
    """An upload that announces its size and fails the test if a byte of it is read."""

    def __init__(self, name: str, size: int):
        super().__init__(name, b"", "application/pdf")
        self.size = size

    def read(self, *args, **kwargs):
        raise AssertionError("lu avant la vérification de la taille")

    chunks = open = seek = read


@pytest.fixture
def registration(media_root):
    return make_registration()


def upload(registration, name, data, kind="preuve") -> Document:
    return services.upload_document(registration=registration, kind=kind,
                                    uploaded=SimpleUploadedFile(name, data))


def files_under(root: Path) -> set[Path]:
    return {path for path in root.rglob("*") if path.is_file()} if root.exists() else set()


def assert_refused(registration, name, data, fragment, tmp_path):
    before = files_under(tmp_path)
    with pytest.raises(ValidationError) as caught:
        upload(registration, name, data)
    assert fragment in " ".join(caught.value.messages)
    assert not Document.objects.exists()
    assert files_under(tmp_path) == before


pytestmark = pytest.mark.django_db


# ---------------------------------------------------------------------------
# Polyglots: one file, two formats
# ---------------------------------------------------------------------------
@pytest.mark.parametrize(("name", "data", "fragment"), [
    ("rapport.pdf", PDF + zip_bytes([("x.html", b"<p>x</p>")]) + b"\n%%EOF\n",
     "archive ZIP (fichier hybride)"),
    ("photo.png", PNG + zip_bytes([("a.txt", b"a")]), "archive ZIP (fichier hybride)"),
    ("rapport.pdf", b"%PDF-1.4\n<html><body><script>alert(document.cookie)</script>\n%%EOF\n",
     "HTML ou un script"),
    ("rapport.pdf", b"%PDF-1.4\n1 0 obj<</URI (JavaScript:alert(1))>>endobj\n%%EOF\n",
     "HTML ou un script"),
    ("photo.png", PNG + b"\x00\x00\x00\x20tEXtComment\x00<SCRIPT src=//x.example></script>",
     "HTML ou un script"),
    ("photo.jpg", b"\xff\xd8\xff\xe0/*" + b"\x00" * 32 + b"*/=alert(1);/*" + b"\xff\xd9",
     "fichier hybride"),
    ("rapport.docx", zip_bytes([("word/%PDF-1.4 cover", b"x"), *DOCX_PARTS],
                               zipfile.ZIP_STORED), "à la fois un document et un PDF"),
    ("rapport.docx", docx_with(("word/footer.xml", b"<x/><script>alert(1)</script>"),
                               compression=zipfile.ZIP_STORED), "HTML ou un script"),
    ("image.gif", b"GIF89a/*\x01\x00\x01\x00\x00\xff\x00,*/=alert(1)//;", "Format non reconnu"),
])
def test_a_polyglot_is_refused(registration, tmp_path, name, data, fragment):
    assert_refused(registration, name, data, fragment, tmp_path)


# ---------------------------------------------------------------------------
# Name and content must agree
# ---------------------------------------------------------------------------
@pytest.mark.parametrize(("name", "data", "fragment"), [
    ("rapport.pdf", PNG, "annonce un fichier « .pdf »"),
    ("rapport.docx", PDF, "annonce un fichier « .docx »"),
    ("photo.jpg", PNG, "annonce un fichier « .jpg »"),
    ("rapport.odt", DOCX, "annonce un fichier « .odt »"),
    ("rapport.html", PDF, "« .html »"),
    ("rapport.pdf.svg", PNG, "« .svg »"),
    ("rapport.PDF.EXE", PDF, "« .exe »"),
])
def test_a_name_announcing_another_format_is_refused(registration, tmp_path, name, data,
                                                     fragment):
    assert_refused(registration, name, data, fragment, tmp_path)


@pytest.mark.parametrize(("name", "data", "shown"), [
    ("rapport.PDF", PDF, "rapport.PDF"),
    ("photo.jpeg", JPEG, "photo.jpeg"),
    ("notes.txt", PDF, "notes.txt.pdf"),
    ("rapport", DOCX, "rapport.docx"),
])
def test_a_name_without_a_known_extension_gets_the_contents_one(registration, name, data,
                                                                 shown):
    assert upload(registration, name, data).original_name == shown


# ---------------------------------------------------------------------------
# Size: refused on the announced size, before any byte is read
# ---------------------------------------------------------------------------
def test_an_oversized_document_is_refused_without_being_read(registration):
    too_big = Untouchable("rapport.pdf", settings.CANDIDATES["DOCUMENT_MAX_BYTES"] + 1)

    with pytest.raises(ValidationError, match="taille maximale de 20 Mo"):
        services.upload_document(registration=registration, kind="preuve", uploaded=too_big)
    assert not Document.objects.exists()


def test_an_oversized_referential_is_refused_without_being_read(db):
    too_big = Untouchable("referentiel.json",
                          settings.CERTIFICATION["REFERENTIAL_MAX_BYTES"] + 1)

    with pytest.raises(ReferentialFormatError, match="trop volumineux"):
        import_referentials([("referentiel.json", too_big)])


def test_a_referential_without_announced_size_is_not_read_beyond_the_limit(db, settings):
    settings.CERTIFICATION = {**settings.CERTIFICATION, "REFERENTIAL_MAX_BYTES": 1000}
    stream = io.BytesIO(b"{" + b" " * 10_000_000 + b"}")

    with pytest.raises(ReferentialFormatError, match="trop volumineux"):
        import_referentials([("referentiel.json", stream)])
    assert stream.tell() == 1001


def spooled_bytes(monkeypatch) -> list[int]:
    """Count what Django's own upload handlers keep (in memory or in a temporary file)."""
    counted = [0]
    for handler in (MemoryFileUploadHandler, TemporaryFileUploadHandler):
        original = handler.receive_data_chunk

        def counting(self, raw_data, start, original=original):
            counted[0] += len(raw_data)
            return original(self, raw_data, start)

        monkeypatch.setattr(handler, "receive_data_chunk", counting)
    return counted


def candidate_link_path(registration) -> str:
    link = services.issue_link(registration=registration, purpose=LinkPurpose.CANDIDATE_UPLOAD,
                               actor=None)
    return link_url(link).removeprefix(settings.SITE_URL)


def test_a_30_mb_upload_through_the_link_is_stopped_while_read(registration, client, tmp_path,
                                                                monkeypatch):
    path = candidate_link_path(registration)
    big = tmp_path / "rapport.pdf"
    with big.open("wb") as handle:
        handle.write(b"%PDF-1.4\n")
        handle.truncate(30 * 1024 * 1024)
    spooled = spooled_bytes(monkeypatch)

    with big.open("rb") as handle:
        response = client.post(path, {"file": handle})

    assert response.status_code == 200
    assert "Le fichier dépasse la taille maximale de 20 Mo." in response.content.decode()
    assert spooled[0] == 0
    assert not Document.objects.exists()


def test_the_size_cap_stops_a_body_that_hides_its_length(rf):
    """A chunked upload announces no length: the cap counts what arrives."""
    request = rf.post("/")
    handler = uploads.SizeCapUploadHandler(request, max_bytes=1000)
    handler.handle_raw_input(None, {}, None, BOUNDARY)
    handler.new_file("file", "rapport.pdf", "application/pdf", None)

    handler.receive_data_chunk(b"x" * 600, 0)
    with pytest.raises(uploads.StopUpload):
        handler.receive_data_chunk(b"x" * 600, 600)
    assert request.upload_too_large is True


def test_the_link_upload_keeps_its_csrf_protection(registration):
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)
    path = candidate_link_path(registration)

    response = browser.post(path, {"file": SimpleUploadedFile("rapport.pdf", PDF)})

    assert response.status_code == 403
    assert not Document.objects.exists()


# ---------------------------------------------------------------------------
# DOCX / ODT: decompression bombs and other traps, seen in the central directory
# ---------------------------------------------------------------------------
@pytest.mark.parametrize(("data", "fragment"), [
    (docx_with(("word/media/bomb.bin", b"\x00" * 5_000_000)), "anormalement compressé"),
    (docx_with(*[(f"word/media/part{n}.bin", b"\x00" * 900_000) for n in range(4)]),
     "anormalement compressé"),
    (patch_central_directory(DOCX, offset=24, fmt="<I", value=0xFFFFFFF0),
     "décompressé est trop volumineux"),
    (docx_with(*[(f"word/part{n}.xml", b"") for n in range(uploads.MAX_ZIP_MEMBERS)],
               compression=zipfile.ZIP_STORED), "trop d'éléments"),
    (docx_with(("word/embeddings/archive.zip", zip_bytes([("a", b"a")]))), "autre archive"),
    (docx_with(("word/media/image1.png", zip_bytes([("a", b"a")]))), "autre archive"),
    (docx_with(("word/media/photos.7z", b"7z\xbc\xaf\x27\x1c")), "autre archive"),
    (docx_with(("word/embeddings/chart.xlsx",
                zip_bytes([("[Content_Types].xml", b"<Types/>"),
                           ("xl/inner.zip", zip_bytes([("a", b"a")]))]))), "autre archive"),
    (encrypted_docx(), "chiffré"),
    (docx_with(("word/document.xml", b"<w:document>2</w:document>")), "même nom"),
    (docx_with(("../../../etc/cron.d/x", b"x")), "chemins suspects"),
    (docx_with(("/etc/passwd", b"x")), "chemins suspects"),
    (docx_with(("C:/Windows/win.ini", b"x")), "chemins suspects"),
    (docx_with(("word\\..\\..\\x", b"x")), "chemins suspects"),
    (symlink_docx(), "chemins suspects"),
])
def test_a_trapped_document_archive_is_refused(registration, tmp_path, data, fragment):
    assert_refused(registration, "rapport.docx", data, fragment, tmp_path)


ODT_HEAD = ("mimetype", b"application/vnd.oasis.opendocument.text")


def odt_with_patched_mimetype(*, local_offset: int, central_offset: int, fmt: str,
                              value) -> bytes:
    data = bytearray(zip_bytes([ODT_HEAD, ("content.xml", b"<office:document-content/>")],
                               zipfile.ZIP_STORED))
    struct.pack_into(fmt, data, data.find(b"PK\x03\x04") + local_offset, value)
    struct.pack_into(fmt, data, data.find(b"PK\x01\x02") + central_offset, value)
    return bytes(data)


@pytest.mark.parametrize("data", [
    # wrong checksum: crashed (BadZipFile escaped as a server error)
    odt_with_patched_mimetype(local_offset=14, central_offset=16, fmt="<I", value=0),
    # a compression method nobody implements: NotImplementedError
    odt_with_patched_mimetype(local_offset=8, central_offset=10, fmt="<H", value=97),
])
def test_a_damaged_archive_is_refused_in_french_not_with_a_server_error(registration,
                                                                        tmp_path, data):
    assert_refused(registration, "rapport.odt", data, "endommagé", tmp_path)


def test_a_docx_with_an_embedded_chart_workbook_is_accepted(registration):
    document = upload(registration, "rapport.docx",
                      docx_with(("word/embeddings/Microsoft_Excel_Worksheet.xlsx", XLSX)))

    assert document.content_type == uploads.DOCX


# ---------------------------------------------------------------------------
# Names: paths, NUL, backslashes, length, bidirectional overrides
# ---------------------------------------------------------------------------
@pytest.mark.parametrize(("name", "shown"), [
    ("../../etc/passwd.pdf", "passwd.pdf"),
    ("/etc/passwd.pdf", "passwd.pdf"),
    ("..\\..\\Windows\\system32\\rapport.pdf", "rapport.pdf"),
    ("C:\\Users\\zoe\\rapport.pdf", "rapport.pdf"),
    ("rap\x00port.pdf", "rapport.pdf"),
    ("\u202erapport.pdf", "rapport.pdf"),
    ("rapport\u200b\u2066.pdf", "rapport.pdf"),
    ("  ..rapport.pdf  ", "rapport.pdf"),
    ("rapport\r\nX-Evil: 1.pdf", "rapport X-Evil: 1.pdf"),
    ("....", "document.pdf"),
    ("x" * 1000 + ".pdf", "x" * (uploads.MAX_NAME_LENGTH - 4) + ".pdf"),
])
def test_a_tricky_name_is_neutralised_and_the_file_stays_in_its_folder(registration, tmp_path,
                                                                       name, shown):
    before = files_under(tmp_path)

    document = upload(registration, name, PDF)

    assert document.original_name == shown
    folder = (Path(settings.MEDIA_ROOT) / "dossiers" / str(registration.pk)).resolve()
    [new_file] = files_under(tmp_path) - before
    assert new_file.resolve().parent == folder
    assert Path(document.file.path).resolve() == new_file.resolve()
    assert len(new_file.name) == 32 and all(c in "0123456789abcdef" for c in new_file.name)


@pytest.mark.parametrize("name", [
    "rapport.pdf\x00.exe",  # a NUL that would cut « .exe » off somewhere else
    "rapport\u202efdp.exe",  # shows as « rapportexe.pdf »
    "rapport\u202efdp.html",
])
def test_a_name_hiding_an_active_extension_is_refused(registration, tmp_path, name):
    assert_refused(registration, name, PDF, "ce type de fichier est refusé", tmp_path)


def raw_upload(client, path, filename: str, data: bytes):
    """A multipart body written by hand: the test client would clean the name itself."""
    body = encode_multipart(BOUNDARY, {}).replace(
        f"--{BOUNDARY}--".encode(),
        (f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; '
         f'filename="{filename}"\r\nContent-Type: application/pdf\r\n\r\n').encode()
        + data + f"\r\n--{BOUNDARY}--\r\n".encode())
    return client.generic("POST", path, body,
                          content_type=f"multipart/form-data; boundary={BOUNDARY}")


def test_a_path_in_the_uploaded_name_never_leaves_the_registration_folder(registration, client,
                                                                          tmp_path):
    path = candidate_link_path(registration)
    before = files_under(tmp_path)

    response = raw_upload(client, path, "../../../../tmp/evil\u202efdp.pdf", PDF)

    assert response.status_code == 302
    document = Document.objects.get()
    assert document.original_name == "evilfdp.pdf"
    [new_file] = files_under(tmp_path) - before
    assert new_file.parent == Path(settings.MEDIA_ROOT) / "dossiers" / str(registration.pk)
    assert "evil" not in new_file.name


def test_an_executable_name_through_the_link_is_refused_in_french(registration, client,
                                                                   tmp_path):
    path = candidate_link_path(registration)
    before = files_under(tmp_path)

    response = raw_upload(client, path, "rapport\u202efdp.exe", PDF)

    assert response.status_code == 200
    assert "ce type de fichier est refusé" in response.content.decode()
    assert not Document.objects.exists()
    assert files_under(tmp_path) == before


# ---------------------------------------------------------------------------
# Any bytes: a document or a French refusal, never another exception
# ---------------------------------------------------------------------------
@hypothesis_settings(max_examples=80, deadline=None,
                     suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(prefix=st.sampled_from([b"", b"%PDF-1.7\n", b"PK\x03\x04", b"\x89PNG\r\n\x1a\n",
                               b"\xff\xd8\xff", DOCX[:60]]),
       body=st.binary(max_size=400), name=st.text(max_size=40))
def test_any_upload_is_a_document_or_a_french_refusal(prefix, body, name):
    uploaded = SimpleUploadedFile("x", prefix + body)
    uploaded._name = name  # the name as a caller may pass it, not cleaned by Django
    try:
        checked = uploads.check_upload(uploaded)
    except ValidationError as error:
        assert error.messages and all(message.strip() for message in error.messages)
    else:
        assert checked.content_type in uploads.EXTENSIONS
        assert checked.name == uploaded.name and "/" not in checked.name


@hypothesis_settings(max_examples=60, deadline=None)
@given(start=st.integers(0, len(DOCX) - 1), noise=st.binary(min_size=1, max_size=6))
def test_a_damaged_docx_is_a_document_or_a_french_refusal(start, noise):
    damaged = DOCX[:start] + noise + DOCX[start + len(noise):]
    try:
        uploads.check_upload(SimpleUploadedFile("rapport.docx", damaged))
    except ValidationError as error:
        assert error.messages


def test_a_30_mb_upload_by_staff_is_stopped_while_read(registration, client, tmp_path,
                                                       monkeypatch):
    """The staff's document page takes the same cap as the personal link (it used to spool
    the whole file to disk and check its size afterwards)."""
    from django.urls import reverse

    from certifications.models import Role
    from tests.factories import member

    client.force_login(member(Role.STAFF, centre=registration.centre))
    big = tmp_path / "piece.pdf"
    with big.open("wb") as handle:
        handle.write(b"%PDF-1.4\n")
        handle.truncate(30 * 1024 * 1024)
    spooled = spooled_bytes(monkeypatch)

    with big.open("rb") as handle:
        response = client.post(reverse("candidates:document_upload", args=[registration.pk]),
                               {"kind": "autre", "file": handle})

    assert response.status_code == 200
    assert "Le fichier dépasse la taille maximale de 20 Mo." in response.content.decode()
    assert spooled[0] == 0
    assert not Document.objects.exists()
