"""Documents are checked by their content and size, stored outside the web root, and a
replacement keeps the old version."""

import io
import zipfile

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile, TemporaryUploadedFile

from candidates import services
from candidates.models import Document
from tests.factories import make_registration

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64


def zip_bytes(members: dict[str, bytes], compression=zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


DOCX = zip_bytes({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document/>"})
ODT = zip_bytes({"mimetype": b"application/vnd.oasis.opendocument.text",
                 "content.xml": b"<office:document-content/>"}, zipfile.ZIP_STORED)


@pytest.fixture
def registration(media_root):
    return make_registration()


def upload(registration, name, data, kind="preuve"):
    return services.upload_document(registration=registration, kind=kind,
                                    uploaded=SimpleUploadedFile(name, data))


@pytest.mark.parametrize(("name", "data", "content_type"), [
    ("rapport.pdf", PDF, "application/pdf"),
    ("photo.png", PNG, "image/png"),
    ("photo.jpg", JPEG, "image/jpeg"),
    ("rapport.docx", DOCX,
     "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ("rapport.odt", ODT, "application/vnd.oasis.opendocument.text"),
])
def test_accepted_formats_are_recognised_by_content(registration, name, data, content_type):
    document = upload(registration, name, data)
    assert document.content_type == content_type
    assert document.size == len(data)


def test_a_pdf_named_txt_is_still_a_pdf(registration):
    assert upload(registration, "notes.txt", PDF).content_type == "application/pdf"


@pytest.mark.parametrize(("name", "data", "message"), [
    ("rapport.pdf", b"MZ\x90\x00\x03" + b"\x00" * 200, "programme"),
    ("rapport.pdf", b"\x7fELF\x02\x01\x01" + b"\x00" * 200, "programme"),
    ("script.pdf", b"#!/bin/sh\nrm -rf /\n", "programme"),
    ("rapport.pdf", b"", "vide"),
    ("rapport.docx", b"Ceci est du texte brut", "Format non reconnu"),
    ("archive.docx", zip_bytes({"a.txt": b"hello"}), "Format non reconnu"),
    ("rapport.pdf", b"%PDF-1.4\n truncated, no end", "incomplet"),
    ("evil.docx", zip_bytes({"[Content_Types].xml": b"<Types/>", "word/x.xml": b"x",
                             "../../etc/passwd": b"x"}), "chemins suspects"),
    ("bomb.docx", zip_bytes({"[Content_Types].xml": b"<Types/>",
                             "word/document.xml": b"\x00" * 5_000_000}), "anormalement compressé"),
])
def test_bad_files_are_refused_with_a_french_message(registration, name, data, message):
    with pytest.raises(ValidationError, match=message):
        upload(registration, name, data)
    assert not Document.objects.exists()


def test_a_30_mb_file_is_refused(registration, tmp_path):
    big = TemporaryUploadedFile("gros.pdf", "application/pdf", 30 * 1024 * 1024, None)
    big.write(b"%PDF-1.4\n" + b"0" * (30 * 1024 * 1024 - 20) + b"\n%%EOF\n")
    big.seek(0)
    with pytest.raises(ValidationError, match="taille maximale de 20 Mo"):
        services.upload_document(registration=registration, kind="preuve", uploaded=big)
    big.close()
    assert not Document.objects.exists()


def test_replacing_the_activity_report_keeps_the_old_version(registration):
    first = upload(registration, "v1.pdf", PDF, kind="rapport_activites")
    second = upload(registration, "v2.pdf", PDF + b" ", kind="rapport_activites")
    first.refresh_from_db()
    assert first.superseded_at is not None
    assert second.is_current and second.version_number == 2
    with first.file.open("rb") as stored:  # the old file is still there
        assert stored.read() == PDF


def test_files_are_stored_under_media_root_with_random_names(registration):
    document = upload(registration, "../../mon rapport.pdf", PDF)
    assert document.original_name == "mon rapport.pdf"
    assert "rapport" not in document.file.name
    assert str(settings.MEDIA_ROOT) in document.file.path
    assert not document.file.path.startswith(str(settings.STATIC_ROOT))


def test_closed_dossier_refuses_documents(registration):
    services.transition(registration=registration, to_state="abandon", reason="Départ")
    with pytest.raises(ValidationError, match="clos"):
        upload(registration, "rapport.pdf", PDF)
