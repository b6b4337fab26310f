"""Checking uploaded documents by their content, never by their name (issue: documents).

Accepted: PDF, DOCX, ODT, PNG, JPEG. The size is checked before a byte is read. A file must be
one thing only: a PDF that is also a ZIP, an image carrying a script, an HTML page behind a
PDF header are refused, and so is a name whose extension announces another format than the
content (the file would be opened as that format once downloaded). A DOCX/ODT is a ZIP: its
central directory is inspected (entries, sizes, compression ratio, encryption, paths, nested
archives) so that a decompression bomb is refused without being decompressed. The original
name is kept only for display, cleaned of paths and invisible characters; on disk the file
gets a random name (``models.document_path``).
"""

import hashlib
import io
import re
import stat
import struct
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass
from functools import wraps

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
ODT = "application/vnd.oasis.opendocument.text"
PNG = "image/png"
JPEG = "image/jpeg"

ACCEPTED_LABEL = "PDF, DOCX, ODT, PNG ou JPEG"
# The extensions a name may carry for each format; the first is added to a name without one.
EXTENSIONS = {
    PDF: ("pdf",), DOCX: ("docx",), ODT: ("odt",), PNG: ("png",), JPEG: ("jpg", "jpeg", "jpe"),
}
KNOWN_EXTENSIONS = {ext: kind for kind, names in EXTENSIONS.items() for ext in names}
# Names that a computer would run or render as a page once downloaded, whatever the content.
ACTIVE_EXTENSIONS = frozenset({
    "htm", "html", "xhtml", "shtml", "svg", "svgz", "xml", "xsl", "js", "mjs", "jse", "vbs",
    "vbe", "wsf", "wsh", "hta", "exe", "dll", "com", "scr", "bat", "cmd", "ps1", "psm1", "msi",
    "msp", "lnk", "jar", "sh", "bash", "php", "phtml", "py", "pl", "cgi", "asp", "aspx", "jsp",
    "swf", "reg", "inf", "url", "desktop", "app", "apk", "iso", "img", "docm", "dotm", "xlsm",
    "pptm",
})
MAX_NAME_LENGTH = 150

# ZIP containers (DOCX, ODT): limits read from the central directory, before any inflating.
MAX_UNCOMPRESSED_RATIO = 100
RATIO_FLOOR_BYTES = 1024 * 1024  # below this size a member's ratio says nothing
MAX_UNCOMPRESSED_BYTES = 200 * 1024 * 1024
MAX_ZIP_MEMBERS = 2000
# Office documents embed charts and objects as documents of their own (word/embeddings/…):
# inspected with the same limits, one level deep. Any other archive inside is refused.
EMBEDDED_OFFICE = (".docx", ".xlsx", ".pptx", ".odt", ".ods", ".odp", ".odg", ".odf")
MAX_EMBEDDED_BYTES = 20 * 1024 * 1024
ARCHIVE_SUFFIXES = (".zip", ".jar", ".war", ".apk", ".7z", ".rar", ".gz", ".tgz", ".bz2",
                    ".xz", ".tar", ".cab", ".iso", ".zst", ".lz", ".lzma", ".arj")
ARCHIVE_MAGICS = (b"PK\x03\x04", b"Rar!", b"7z\xbc\xaf\x27\x1c", b"\x1f\x8b", b"BZh",
                  b"\xfd7zXZ\x00", b"MSCF", b"\x28\xb5\x2f\xfd")

# Signatures of executables and scripts that must never hide inside an accepted file.
FORBIDDEN_PREFIXES = (b"MZ", b"\x7fELF", b"#!", b"\xcf\xfa\xed\xfe", b"\xca\xfe\xba\xbe")
# Markup or script that a browser would run: never in a document's raw bytes. Looked for in
# the whole file (PDF and ZIP bodies are compressed: these never appear there by chance).
ACTIVE_MARKERS = (b"<script", b"<html", b"<!doctype html", b"<iframe", b"<?php", b"<%@",
                  b"javascript:", b"vbscript:")
MARKER_OVERLAP = max(len(marker) for marker in ACTIVE_MARKERS)
# Readers accept « %PDF- » anywhere in the first KiB: there it makes any file a PDF too.
PDF_MAGIC_WINDOW = 1024


@dataclass(frozen=True)
class CheckedFile:
    content_type: str
    size: int
    sha256: str
    name: str = ""


def _refuse(message: str):
    raise ValidationError(message)


# ---------------------------------------------------------------------------
# Names
# ---------------------------------------------------------------------------
def safe_name(name: str | None) -> str:
    """The name to show for an uploaded file: its last path component, without control or
    invisible characters (NUL, bidirectional overrides that disguise ``exe.pdf``), leading
    dots or surrounding spaces, at most MAX_NAME_LENGTH characters with its extension kept.
    Never used on disk."""
    name = unicodedata.normalize("NFC", str(name or ""))
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    # Any space or line break becomes a space; then C* go: control, format (U+202E…),
    # surrogates, private use, unassigned.
    name = "".join(" " if char.isspace() else char for char in name
                   if char.isspace() or not unicodedata.category(char).startswith("C"))
    name = " ".join(name.split()).lstrip(". ").rstrip(". ")
    if len(name) > MAX_NAME_LENGTH:
        stem, dot, extension = name.rpartition(".")
        if dot and 0 < len(extension) <= 10:
            name = stem[:MAX_NAME_LENGTH - len(extension) - 1].rstrip(". ") + "." + extension
        else:
            name = name[:MAX_NAME_LENGTH]
    return name or "document"


def _extension(name: str) -> str:
    stem, dot, extension = name.rpartition(".")
    return extension.lower() if dot and stem else ""


def _checked_name(name: str, content_type: str) -> str:
    """The displayed name, once its extension agrees with the content: an accepted format's
    extension on another format, or an extension of active content, is refused; any other
    name gets the content's extension added, so that the download opens as what it is."""
    extension = _extension(name)
    if extension in ACTIVE_EXTENSIONS:
        _refuse(_("Le nom du fichier se termine par « .%(ext)s » : ce type de fichier est "
                  "refusé. Renommez-le avec l'extension de son format (%(formats)s).")
                % {"ext": extension, "formats": ACCEPTED_LABEL})
    claimed = KNOWN_EXTENSIONS.get(extension)
    if claimed == content_type:
        return name
    if claimed is not None:
        _refuse(_("Le nom du fichier annonce un fichier « .%(ext)s » mais son contenu est "
                  "d'un autre format (%(real)s) : il est refusé.")
                % {"ext": extension, "real": EXTENSIONS[content_type][0].upper()})
    return safe_name(f"{name}.{EXTENSIONS[content_type][0]}")


# ---------------------------------------------------------------------------
# ZIP containers
# ---------------------------------------------------------------------------
def _suspicious_path(name: str) -> bool:
    return (name.startswith("/") or "\\" in name or "\x00" in name
            or ".." in name.split("/") or re.match(r"^[A-Za-z]:", name) is not None)


def _inspect_zip(archive: zipfile.ZipFile, *, depth: int, totals: dict) -> set[str]:
    """Refuse what the central directory reveals; return the member names."""
    infos = archive.infolist()
    totals["members"] += len(infos)
    if totals["members"] > MAX_ZIP_MEMBERS:
        _refuse(_("Le document contient trop d'éléments."))
    names: set[str] = set()
    for info in infos:
        name = info.filename
        if _suspicious_path(name):
            _refuse(_("Le document contient des chemins suspects."))
        if name in names:
            _refuse(_("Le document contient deux éléments du même nom (archive piégée ?)."))
        names.add(name)
        if info.flag_bits & 0x1:
            _refuse(_("Le document est chiffré ou protégé par un mot de passe : enregistrez-le "
                      "sans protection."))
        if stat.S_ISLNK(info.external_attr >> 16):
            _refuse(_("Le document contient des chemins suspects."))
        totals["bytes"] += info.file_size
        totals["compressed"] += info.compress_size
        if totals["bytes"] > MAX_UNCOMPRESSED_BYTES:
            _refuse(_("Le document décompressé est trop volumineux."))
        if (info.file_size > RATIO_FLOOR_BYTES
                and info.file_size > max(info.compress_size, 1) * MAX_UNCOMPRESSED_RATIO):
            _refuse(_("Le document est anormalement compressé (archive piégée ?)."))
        lowered = name.lower()
        if lowered.endswith(ARCHIVE_SUFFIXES):
            _refuse(_("Le document contient une autre archive : il est refusé."))
        if lowered.endswith(EMBEDDED_OFFICE):
            _inspect_embedded(archive, info, depth=depth, totals=totals)
        elif info.file_size and not name.endswith("/") and _starts_like_archive(archive, info):
            _refuse(_("Le document contient une autre archive : il est refusé."))
    # Many small members, each under the floor, may still add up to a bomb.
    if (totals["bytes"] > RATIO_FLOOR_BYTES
            and totals["bytes"] > max(totals["compressed"], 1) * MAX_UNCOMPRESSED_RATIO):
        _refuse(_("Le document est anormalement compressé (archive piégée ?)."))
    return names


def _starts_like_archive(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bool:
    with archive.open(info) as member:
        return member.read(8).startswith(ARCHIVE_MAGICS)


def _inspect_embedded(archive: zipfile.ZipFile, info: zipfile.ZipInfo, *, depth: int,
                      totals: dict) -> None:
    """An object embedded in the document (a chart's workbook): the same limits, and no
    archive inside it."""
    if depth >= 1 or info.file_size > MAX_EMBEDDED_BYTES:
        _refuse(_("Le document contient une autre archive : il est refusé."))
    data = archive.read(info)
    if not data.startswith(b"PK\x03\x04"):
        _refuse(_("Le document est endommagé."))
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as inner:
            _inspect_zip(inner, depth=depth + 1, totals=totals)
    except zipfile.BadZipFile:
        _refuse(_("Le document est endommagé."))


# What zipfile raises, besides BadZipFile, on an archive it cannot read: an unknown version
# or compression method, a wrong checksum or length, a truncated entry.
ZIP_READ_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, RuntimeError,
                   NotImplementedError, struct.error)


def _zip_kind(stream) -> str | None:
    try:
        archive = zipfile.ZipFile(stream)
    except zipfile.BadZipFile:
        return None
    except ZIP_READ_ERRORS as error:
        raise ValidationError(_("Le document est endommagé.")) from error
    try:
        with archive:
            totals = {"members": 0, "bytes": 0, "compressed": 0}
            names = _inspect_zip(archive, depth=0, totals=totals)
            if "mimetype" in names:
                info = archive.getinfo("mimetype")
                if info.file_size <= 100 and archive.read(info).strip() == ODT.encode():
                    return ODT
            if "[Content_Types].xml" in names and any(n.startswith("word/") for n in names):
                return DOCX
    except ZIP_READ_ERRORS as error:
        raise ValidationError(_("Le document est endommagé.")) from error
    return None


# ---------------------------------------------------------------------------
# Sniffing and checking
# ---------------------------------------------------------------------------
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


def _single_format(head: bytes, content_type: str, uploaded) -> None:
    """A file that other software would read as another format is refused (polyglot)."""
    if content_type != PDF and b"%PDF-" in head[:PDF_MAGIC_WINDOW]:
        _refuse(_("Ce fichier est à la fois un document et un PDF (fichier hybride) : il est "
                  "refusé."))
    # A JPEG whose first segment length reads « /* » opens a JavaScript comment.
    if content_type == JPEG and head[4:6] == b"/*":
        _refuse(_("Cette image contient aussi du code (fichier hybride) : elle est refusée."))
    if content_type in (PDF, PNG, JPEG):
        uploaded.seek(0)
        try:
            is_zip = zipfile.is_zipfile(uploaded)
        finally:
            uploaded.seek(0)
        if is_zip:
            _refuse(_("Ce fichier contient aussi une archive ZIP (fichier hybride) : il est "
                      "refusé."))


def _digest_and_scan(uploaded) -> str:
    """SHA-256 of the file, read chunk by chunk, refusing active markup on the way."""
    digest = hashlib.sha256()
    tail = b""
    uploaded.seek(0)
    for chunk in uploaded.chunks():
        digest.update(chunk)
        window = (tail + chunk).lower()
        if any(marker in window for marker in ACTIVE_MARKERS):
            _refuse(_("Ce fichier contient du code HTML ou un script (fichier hybride) : il "
                      "est refusé."))
        tail = window[-MARKER_OVERLAP:]
    uploaded.seek(0)
    return digest.hexdigest()


def check_upload(uploaded) -> CheckedFile:
    """Validate an uploaded file (Django UploadedFile) and return what it really is. Its
    ``name`` is replaced by the safe display name (``CheckedFile.name``).
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
    name = _checked_name(safe_name(getattr(uploaded, "name", "")), content_type)
    _single_format(head, content_type, uploaded)
    if content_type == PDF:
        uploaded.seek(max(0, size - 2048))
        tail = uploaded.read()
        if b"%%EOF" not in tail:
            raise ValidationError(_("Le PDF est incomplet ou endommagé."))
    sha256 = _digest_and_scan(uploaded)
    uploaded.name = name
    return CheckedFile(content_type=content_type, size=size, sha256=sha256, name=name)


# ---------------------------------------------------------------------------
# Reading the request
# ---------------------------------------------------------------------------
class SizeCapUploadHandler(FileUploadHandler):
    """Stops taking in an upload once it passes ``max_bytes``, instead of spooling the rest
    to disk and checking the size afterwards; the rest of the body is read and dropped.
    Installed first by the views that accept documents from anyone holding a link;
    ``request.upload_too_large`` tells the view why the file is missing."""

    FORM_OVERHEAD = 64 * 1024  # the form's other fields and the multipart boundaries

    def __init__(self, request=None, *, max_bytes: int):
        super().__init__(request)
        self.max_bytes = max_bytes
        self.received = 0
        self.announced_too_large = False

    def _stop(self):
        self.request.upload_too_large = True
        raise StopUpload(connection_reset=False)

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        # Raising here would escape the parser: the refusal waits for the first file.
        self.announced_too_large = bool(
            content_length and content_length > self.max_bytes + self.FORM_OVERHEAD)

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        if self.announced_too_large:
            self._stop()

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > self.max_bytes:
            self._stop()
        return raw_data

    def file_complete(self, file_size):
        return None


def capped_upload(view):
    """Install the upload size cap before anything reads the body. CSRF middleware reads it
    first for any protected view: this view is exempted from the middleware and protected
    inside, once the cap is in place."""
    protected = csrf_protect(view)

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        request.upload_handlers.insert(0, SizeCapUploadHandler(
            request, max_bytes=settings.CANDIDATES["DOCUMENT_MAX_BYTES"]))
        return protected(request, *args, **kwargs)

    return csrf_exempt(wrapper)
