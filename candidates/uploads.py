"""Checking uploaded documents by their content, never by their name (issue: documents).

Accepted: PDF, DOCX, ODT, PNG, JPEG. A DOCX/ODT is a ZIP: its members are inspected so that
a renamed archive, a polyglot or a decompression bomb is refused.
"""

import hashlib
import zipfile
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
ODT = "application/vnd.oasis.opendocument.text"
PNG = "image/png"
JPEG = "image/jpeg"

ACCEPTED_LABEL = "PDF, DOCX, ODT, PNG ou JPEG"
MAX_UNCOMPRESSED_RATIO = 100
MAX_UNCOMPRESSED_BYTES = 200 * 1024 * 1024
MAX_ZIP_MEMBERS = 2000

# Signatures of executables and scripts that must never hide inside an accepted file.
FORBIDDEN_PREFIXES = (b"MZ", b"\x7fELF", b"#!", b"\xcf\xfa\xed\xfe", b"\xca\xfe\xba\xbe")


@dataclass(frozen=True)
class CheckedFile:
    content_type: str
    size: int
    sha256: str


def _zip_kind(stream) -> str | None:
    try:
        archive = zipfile.ZipFile(stream)
    except zipfile.BadZipFile:
        return None
    with archive:
        infos = archive.infolist()
        if len(infos) > MAX_ZIP_MEMBERS:
            raise ValidationError(_("Le document contient trop d'éléments."))
        total = 0
        for info in infos:
            name = info.filename
            if name.startswith("/") or ".." in name.split("/") or "\\" in name:
                raise ValidationError(_("Le document contient des chemins suspects."))
            total += info.file_size
            if info.compress_size and info.file_size / info.compress_size > MAX_UNCOMPRESSED_RATIO:
                raise ValidationError(
                    _("Le document est anormalement compressé (archive piégée ?).")
                )
        if total > MAX_UNCOMPRESSED_BYTES:
            raise ValidationError(_("Le document décompressé est trop volumineux."))
        names = {info.filename for info in infos}
        if "mimetype" in names and archive.read("mimetype").strip() == ODT.encode():
            return ODT
        if "[Content_Types].xml" in names and any(n.startswith("word/") for n in names):
            return DOCX
    return None


def sniff(data: bytes, stream) -> str | None:
    if data.startswith(b"%PDF-"):
        return PDF
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if data.startswith(b"PK\x03\x04"):
        return _zip_kind(stream)
    return None


def check_upload(uploaded) -> CheckedFile:
    """Validate an uploaded file (Django UploadedFile) and return what it really is.
    Raises ValidationError with a French message."""
    max_bytes = settings.CANDIDATES["DOCUMENT_MAX_BYTES"]
    size = uploaded.size or 0
    if size == 0:
        raise ValidationError(_("Le fichier est vide."))
    if size > max_bytes:
        raise ValidationError(_("Le fichier dépasse la taille maximale de %(max)s Mo.")
                              % {"max": max_bytes // (1024 * 1024)})
    uploaded.seek(0)
    head = uploaded.read(8192)
    if head.startswith(FORBIDDEN_PREFIXES):
        raise ValidationError(_("Ce fichier est un programme, pas un document : il est refusé."))
    uploaded.seek(0)
    content_type = sniff(head, uploaded)
    if content_type is None:
        raise ValidationError(_("Format non reconnu : seuls les documents %(formats)s sont "
                                "acceptés (le contenu du fichier est vérifié, pas son nom).")
                              % {"formats": ACCEPTED_LABEL})
    if content_type == PDF:
        uploaded.seek(max(0, size - 2048))
        tail = uploaded.read()
        if b"%%EOF" not in tail:
            raise ValidationError(_("Le PDF est incomplet ou endommagé."))
    digest = hashlib.sha256()
    uploaded.seek(0)
    for chunk in uploaded.chunks():
        digest.update(chunk)
    uploaded.seek(0)
    return CheckedFile(content_type=content_type, size=size, sha256=digest.hexdigest())
