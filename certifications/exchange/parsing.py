"""Parsing and checking one « referentiel/1 » file (shared/data/README.md).

A parsed document is *normalised*: it has exactly the shape `export_referential` produces
(default rating scale filled in, optional keys only when they hold something), so that "is
this file the version we already hold?" is a plain dict comparison.
"""

import copy
import json
import re
from bisect import bisect_right
from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from certifications.models import (
    DEFAULT_RATING_SCALE,
    KINDS_WITH_BLOCS,
    Bloc,
    Certification,
    CertificationKind,
    Competence,
    Criterion,
    Modality,
    RatingLevel,
    ReferentialVersion,
    Registry,
)

FORMAT = "referentiel/1"
PARENT_KINDS = [CertificationKind.CQPM.value, CertificationKind.CQPI.value]

CERTIFICATION_KEYS = ("kind", "code", "title", "registry", "issuing_body", "level", "parent")
VERSION_KEYS = ("label", "valid_from", "valid_until")
LEVEL_KEYS = ("code", "label", "mastered")
BLOC_KEYS = ("code", "title", "competences")
BLOC_OPTIONAL_KEYS = ("registry_code", "shared_with", "knowledge")
COMPETENCE_KEYS = ("code", "title", "modalities", "criteria")
COMPETENCE_OPTIONAL_KEYS = ("conditions", "expected_results", "knowledge")
CRITERION_KEYS = ("code", "text")
REFERENCE_KEYS = ("kind", "code")

ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_MISSING = object()  # a key absent from its object (already reported by the object check)

# json's messages are English; the usual ones, in the language of the rest of the report.
JSON_REASONS = {
    "Expecting value": gettext_lazy("valeur attendue"),
    "Expecting ',' delimiter": gettext_lazy("virgule attendue"),
    "Expecting ':' delimiter": gettext_lazy("deux-points attendu"),
    "Expecting property name enclosed in double quotes": gettext_lazy(
        "nom de clé entre guillemets attendu"
    ),
    "Unterminated string starting at": gettext_lazy("chaîne non terminée"),
    "Invalid control character at": gettext_lazy("caractère de contrôle dans une chaîne"),
    "Invalid \\escape": gettext_lazy("séquence d'échappement invalide"),
    "Invalid \\uXXXX escape": gettext_lazy("séquence \\uXXXX invalide"),
    "Extra data": gettext_lazy("données après la fin du document"),
    "Unexpected UTF-8 BOM (decode using utf-8-sig)": gettext_lazy(
        "marque d'ordre des octets (BOM) inattendue"),
    "Illegal trailing comma before end of object": gettext_lazy(
        "virgule en trop avant la fin de l'objet"),
    "Illegal trailing comma before end of array": gettext_lazy(
        "virgule en trop avant la fin de la liste"),
}


def _max_length(model, field_name: str) -> int:
    return model._meta.get_field(field_name).max_length


# ---------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class FormatIssue:
    """One refusal: which file, where in the document (JSON path), why (in French)."""

    source: str
    path: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = [self.source] if self.source else []
        if self.line is not None:
            where.append(_("ligne %(line)d") % {"line": self.line})
        if self.path:
            where.append(self.path)
        return f"{', '.join(where)} : {self.message}" if where else self.message


class ReferentialFormatError(Exception):
    """One or more files were refused; nothing was imported."""

    def __init__(self, errors: list[FormatIssue]):
        self.errors = list(errors)
        super().__init__("\n".join(str(issue) for issue in self.errors))


# ---------------------------------------------------------------------------
# Parsing
# ---------------------------------------------------------------------------
class _JSONObject(dict):
    """A decoded JSON object that remembers the keys it saw twice (json keeps the last one)."""

    duplicate_keys: tuple[str, ...] = ()


def _object_pairs(pairs: list[tuple[str, object]]) -> _JSONObject:
    obj = _JSONObject(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        duplicates = []
        for key, _value in pairs:
            if key in seen:
                duplicates.append(key)
            seen.add(key)
        obj.duplicate_keys = tuple(duplicates)
    return obj


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _either(choices: list[str]) -> str:
    """« A, B ou C »."""
    return _("%(first)s ou %(last)s") % {"first": ", ".join(choices[:-1]), "last": choices[-1]}


def _is_blank(value) -> bool:
    return not isinstance(value, str) or not value.strip()


class _Checker:
    """Walks a decoded document, records every issue, and builds the normalised document."""

    def __init__(self, source: str):
        self.source = source
        self.issues: list[FormatIssue] = []

    def error(self, path: str, message: str) -> None:
        self.issues.append(FormatIssue(self.source, path, message))

    # -- shapes ---------------------------------------------------------------
    def mapping(self, value, path: str, required: tuple, optional: tuple = ()) -> dict | None:
        """A JSON object with all the required keys and no key outside required + optional."""
        if not isinstance(value, dict):
            self.error(path, _("un objet est attendu"))
            return None
        for key in getattr(value, "duplicate_keys", ()):
            self.error(_join(path, key), _("clé en double"))
        allowed = required + optional
        for key in value:
            if key not in allowed:
                self.error(_join(path, key), _("clé inconnue (clés permises : %(keys)s)")
                           % {"keys": ", ".join(allowed)})
        for key in required:
            if key not in value:
                self.error(_join(path, key), _("clé obligatoire manquante"))
        return value

    def array(self, obj: dict, key: str, path: str, *, required: str = "") -> list | None:
        """The list under key (None when absent or wrong); `required` is the message of
        the refusal of an empty list."""
        if key not in obj:
            return None
        value, path = obj[key], _join(path, key)
        if not isinstance(value, list):
            self.error(path, _("une liste est attendue"))
            return None
        if required and not value:
            self.error(path, required)
        return value

    def text(self, obj: dict, key: str, path: str, *, max_length: int | None = None,
             blank: bool = False) -> str | None:
        if key not in obj:
            return None
        value, path = obj[key], _join(path, key)
        if not isinstance(value, str):
            self.error(path, _("une chaîne de caractères est attendue"))
            return None
        if not blank and not value.strip():
            self.error(path, _("ne doit pas être vide"))
            return None
        if max_length and len(value) > max_length:
            self.error(path, _("ne doit pas dépasser %(max)d caractères") % {"max": max_length})
            return None
        return value

    def choice(self, obj: dict, key: str, path: str, choices: list[str]) -> str | None:
        if key not in obj:
            return None
        value = obj[key]
        if not isinstance(value, str) or value not in choices:
            self.error(_join(path, key), _("valeur « %(value)s » non permise : %(choices)s attendu")
                       % {"value": value, "choices": _either(choices)})
            return None
        return value

    def date(self, obj: dict, key: str, path: str, *, nullable: bool = False) -> str | None:
        if key not in obj or (nullable and obj[key] is None):
            return None
        value = obj[key]
        try:
            if not isinstance(value, str) or not ISO_DATE.fullmatch(value):
                raise ValueError(value)
            date.fromisoformat(value)
        except ValueError:
            self.error(_join(path, key), _("date invalide : AAAA-MM-JJ attendu") if not nullable
                       else _("date invalide : AAAA-MM-JJ ou null attendu"))
            return None
        return value

    def unique_codes(self, items: list[tuple[str, str | None]]) -> None:
        """items: (path of the item, its code); refuses a code seen earlier in the same parent."""
        first_seen: dict[str, str] = {}
        for path, code in items:
            if code is None:
                continue
            if code in first_seen:
                self.error(_join(path, "code"), _("code « %(code)s » en double (déjà utilisé "
                                                  "par %(other)s)")
                           % {"code": code, "other": first_seen[code]})
            else:
                first_seen[code] = path

    def strings(self, obj: dict, key: str, path: str) -> list[str]:
        """An optional list of non-empty strings (knowledge)."""
        items = self.array(obj, key, path) or []
        for index, item in enumerate(items):
            if _is_blank(item):
                self.error(f"{_join(path, key)}[{index}]",
                           _("une chaîne de caractères non vide est attendue"))
        return list(items)

    def reference(self, value, path: str, kinds: list[str]) -> dict | None:
        """{"kind", "code"} of another certification (a parent, a shared bloc)."""
        obj = self.mapping(value, path, REFERENCE_KEYS)
        if obj is None:
            return None
        kind = self.choice(obj, "kind", path, kinds)
        code = self.text(obj, "code", path, max_length=_max_length(Certification, "code"))
        return {"kind": kind, "code": code}

    # -- the document ---------------------------------------------------------
    def document(self, data) -> dict:
        root = self.mapping(data, "", ("format", "certification", "version"),
                           ("activities", "rating_scale", "blocs", "competences"))
        if root is None:
            return {}
        if "format" in root and root["format"] != FORMAT:
            self.error("format", _("format « %(found)s » inconnu : « %(expected)s » attendu")
                       % {"found": root["format"], "expected": FORMAT})
        certification = self.certification(root.get("certification", _MISSING))
        document = {
            "format": FORMAT,
            "certification": certification,
            "version": self.version(root.get("version", _MISSING)),
        }
        activities = self.text(root, "activities", "", blank=True)
        if activities:
            document["activities"] = activities
        document["rating_scale"] = self.rating_scale(root)
        document["blocs"], document["competences"] = self.content(root, certification["kind"])
        return document

    def certification(self, value) -> dict:
        path = "certification"
        obj = None if value is _MISSING else self.mapping(value, path, CERTIFICATION_KEYS)
        if obj is None:
            return dict.fromkeys(CERTIFICATION_KEYS)
        kind = self.choice(obj, "kind", path, CertificationKind.values)
        result = {
            "kind": kind,
            "code": self.text(obj, "code", path, max_length=_max_length(Certification, "code")),
            "title": self.text(obj, "title", path,
                               max_length=_max_length(Certification, "title")),
            "registry": self.registry(obj, path),
            "issuing_body": self.text(obj, "issuing_body", path, blank=True,
                                      max_length=_max_length(Certification, "issuing_body")),
            "level": self.level(obj, path),
            "parent": None,
        }
        parent = obj.get("parent")
        if kind == CertificationKind.BLOC and "parent" in obj:
            if parent is None:
                self.error(_join(path, "parent"), _("un bloc indique la certification dont il "
                                                    "fait partie : {\"kind\", \"code\"} attendu"))
            else:
                result["parent"] = self.reference(parent, _join(path, "parent"), PARENT_KINDS)
        elif kind is not None and parent is not None:
            self.error(_join(path, "parent"),
                       _("seul un bloc a une certification parente : null attendu"))
        return result

    def registry(self, obj: dict, path: str) -> dict | None:
        if obj.get("registry") is None:
            return None
        path = _join(path, "registry")
        registry = self.mapping(obj["registry"], path, ("name", "number"))
        if registry is None:
            return None
        return {
            "name": self.choice(registry, "name", path, Registry.values),
            "number": self.text(registry, "number", path,
                                max_length=_max_length(Certification, "registry_number")),
        }

    def level(self, obj: dict, path: str) -> int | None:
        value = obj.get("level")
        if value is None:
            return None
        # bool is an int in Python, not in JSON.
        if isinstance(value, bool) or not isinstance(value, int) or not 3 <= value <= 8:
            self.error(_join(path, "level"), _("niveau invalide : entier de 3 à 8 ou null attendu"))
            return None
        return value

    def version(self, value) -> dict:
        path = "version"
        obj = None if value is _MISSING else self.mapping(value, path, VERSION_KEYS)
        if obj is None:
            return dict.fromkeys(VERSION_KEYS)
        result = {
            "label": self.text(obj, "label", path,
                               max_length=_max_length(ReferentialVersion, "label")),
            "valid_from": self.date(obj, "valid_from", path),
            "valid_until": self.date(obj, "valid_until", path, nullable=True),
        }
        if result["valid_from"] and result["valid_until"] \
                and result["valid_until"] <= result["valid_from"]:
            self.error(_join(path, "valid_until"),
                       _("la fin de validité doit être postérieure au début (%(start)s)")
                       % {"start": result["valid_from"]})
        return result

    def rating_scale(self, root: dict) -> list[dict]:
        if "rating_scale" not in root:
            return copy.deepcopy(DEFAULT_RATING_SCALE)
        path = "rating_scale"
        items = self.array(root, "rating_scale", "")
        if items is None:
            return []
        if len(items) < 2:
            self.error(path, _("l'échelle doit compter au moins deux niveaux"))
        levels, codes, flags = [], [], []
        for index, item in enumerate(items):
            item_path = f"{path}[{index}]"
            obj = self.mapping(item, item_path, LEVEL_KEYS)
            if obj is None:
                flags.append(None)
                continue
            code = self.text(obj, "code", item_path,
                             max_length=_max_length(RatingLevel, "code"))
            codes.append((item_path, code))
            mastered = obj.get("mastered")
            if "mastered" in obj and not isinstance(mastered, bool):
                self.error(_join(item_path, "mastered"), _("true ou false est attendu"))
                mastered = None
            flags.append(mastered)
            levels.append({
                "code": code,
                "label": self.text(obj, "label", item_path,
                                   max_length=_max_length(RatingLevel, "label")),
                "mastered": mastered,
            })
        self.unique_codes(codes)
        if len(items) >= 2 and None not in flags:
            if True not in flags:
                self.error(path, _("au moins un niveau doit être « maîtrisé » (mastered: true)"))
            if False not in flags:
                self.error(path, _("au moins un niveau doit être « non maîtrisé » "
                                   "(mastered: false)"))
        return levels

    def content(self, root: dict, kind: str | None) -> tuple[list, list]:
        """Blocs for CQPM, CQPI and BLOC; competences directly for CCPM and CCPI."""
        with_blocs = kind in KINDS_WITH_BLOCS if kind else bool(root.get("blocs"))
        used, unused = ("blocs", "competences") if with_blocs else ("competences", "blocs")
        if kind and root.get(unused):
            if with_blocs:
                message = _("un %(kind)s se compose de blocs : ses compétences se déclarent dans "
                            "les blocs (liste vide attendue ici)")
            else:
                message = _("un %(kind)s n'a pas de blocs : ses compétences se déclarent dans "
                            "« competences » (liste vide attendue ici)")
            self.error(unused, message % {"kind": kind})
        if with_blocs:
            message = _("au moins un bloc est requis pour un %(kind)s") % {"kind": kind}
        else:
            message = _("au moins une compétence est requise pour un %(kind)s") % {"kind": kind}
        if kind and used not in root:
            self.error(used, message)
        items = self.array(root, used, "", required=message if kind else "") or []
        if with_blocs:
            return self.blocs(items), []
        return [], self.competences(items, "competences")

    def blocs(self, items: list) -> list[dict]:
        blocs, codes = [], []
        for index, item in enumerate(items):
            path = f"blocs[{index}]"
            obj = self.mapping(item, path, BLOC_KEYS, BLOC_OPTIONAL_KEYS)
            if obj is None:
                continue
            code = self.text(obj, "code", path, max_length=_max_length(Bloc, "code"))
            codes.append((path, code))
            bloc = {
                "code": code,
                "title": self.text(obj, "title", path, max_length=_max_length(Bloc, "title")),
            }
            registry_code = self.text(obj, "registry_code", path, blank=True,
                                      max_length=_max_length(Bloc, "registry_code"))
            if registry_code:
                bloc["registry_code"] = registry_code
            shared_path = _join(path, "shared_with")
            shared = [
                self.reference(other, f"{shared_path}[{position}]", CertificationKind.values)
                for position, other in enumerate(self.array(obj, "shared_with", path) or [])
            ]
            if shared:
                bloc["shared_with"] = shared
            knowledge = self.strings(obj, "knowledge", path)
            if knowledge:
                bloc["knowledge"] = knowledge
            competences = self.array(obj, "competences", path,
                                    required=_("au moins une compétence est requise")) or []
            bloc["competences"] = self.competences(competences, _join(path, "competences"))
            blocs.append(bloc)
        self.unique_codes(codes)
        return blocs

    def competences(self, items: list, path: str) -> list[dict]:
        competences, codes = [], []
        for index, item in enumerate(items):
            item_path = f"{path}[{index}]"
            obj = self.mapping(item, item_path, COMPETENCE_KEYS, COMPETENCE_OPTIONAL_KEYS)
            if obj is None:
                continue
            code = self.text(obj, "code", item_path, max_length=_max_length(Competence, "code"))
            codes.append((item_path, code))
            competence = {
                "code": code,
                "title": self.text(obj, "title", item_path,
                                   max_length=_max_length(Competence, "title")),
            }
            for key in ("conditions", "expected_results"):
                value = self.text(obj, key, item_path, blank=True)
                if value:
                    competence[key] = value
            knowledge = self.strings(obj, "knowledge", item_path)
            if knowledge:
                competence["knowledge"] = knowledge
            competence["modalities"] = self.modalities(obj, item_path)
            competence["criteria"] = self.criteria(obj, item_path)
            competences.append(competence)
        self.unique_codes(codes)
        return competences

    def modalities(self, obj: dict, path: str) -> list[str]:
        items = self.array(obj, "modalities", path,
                          required=_("au moins une modalité d'évaluation est requise")) or []
        path = _join(path, "modalities")
        seen = set()
        for index, item in enumerate(items):
            if not isinstance(item, str) or item not in Modality.values:
                self.error(f"{path}[{index}]", _("modalité « %(value)s » inconnue : %(choices)s "
                                                 "attendu")
                           % {"value": item, "choices": _either(Modality.values)})
            elif item in seen:
                self.error(f"{path}[{index}]", _("modalité « %(value)s » en double")
                           % {"value": item})
            else:
                seen.add(item)
        return list(items)

    def criteria(self, obj: dict, path: str) -> list[dict]:
        items = self.array(obj, "criteria", path,
                          required=_("au moins un critère est requis")) or []
        criteria, codes = [], []
        for index, item in enumerate(items):
            item_path = f"{_join(path, 'criteria')}[{index}]"
            criterion = self.mapping(item, item_path, CRITERION_KEYS)
            if criterion is None:
                continue
            code = self.text(criterion, "code", item_path,
                             max_length=_max_length(Criterion, "code"))
            codes.append((item_path, code))
            criteria.append({"code": code, "text": self.text(criterion, "text", item_path)})
        self.unique_codes(codes)
        return criteria


_WHITESPACE = re.compile(r"[ \t\n\r]*")


def _key_lines(text: str) -> dict[str, int]:
    """Line of each JSON path in a (syntactically valid) text: to point at a refused key."""
    newlines = [match.start() for match in re.finditer("\n", text)]
    decoder = json.JSONDecoder()
    lines: dict[str, int] = {}

    def skip(position: int) -> int:
        return _WHITESPACE.match(text, position).end()

    def value(position: int, path: str) -> int:
        position = skip(position)
        lines.setdefault(path, bisect_right(newlines, position) + 1)
        opening = text[position]
        if opening not in "{[":
            return decoder.raw_decode(text, position)[1]
        closing = "}" if opening == "{" else "]"
        position = skip(position + 1)
        index = 0
        while text[position] != closing:
            if opening == "{":
                key, after = json.decoder.scanstring(text, position + 1)
                child = _join(path, key)
                lines.setdefault(child, bisect_right(newlines, position) + 1)
                position = skip(after) + 1  # past ":"
            else:
                child = f"{path}[{index}]"
                index += 1
            position = skip(value(position, child))
            if text[position] == ",":
                position = skip(position + 1)
        return position + 1

    value(0, "")
    return lines


def _lines_or_none(text: str) -> dict[str, int]:
    """``_key_lines``, or no lines at all when the text nests deeper than the interpreter's
    stack allows (json accepted it): the issues are still reported, without their line."""
    try:
        return _key_lines(text)
    except RecursionError:
        return {}


# Characters no stored text may hold: NUL (refused by PostgreSQL), the other C0 controls but
# TAB, LF and CR, and lone surrogates (``"\ud800"`` is valid JSON, not encodable text).
_FORBIDDEN_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")


def _forbidden_characters(data, source: str) -> list[FormatIssue]:
    """Every string of the decoded document (keys too) with a character no text may hold,
    walked without recursion."""
    issues, stack = [], [("", data)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, str):
            if _FORBIDDEN_CHARACTERS.search(value):
                issues.append(FormatIssue(source, path, _(
                    "caractère de contrôle ou invalide dans le texte")))
        elif isinstance(value, dict):
            for key, item in value.items():
                if _FORBIDDEN_CHARACTERS.search(key):
                    issues.append(FormatIssue(source, path, _(
                        "caractère de contrôle ou invalide dans un nom de clé")))
                    continue
                stack.append((_join(path, key), item))
        elif isinstance(value, list):
            stack.extend((f"{path}[{index}]", item) for index, item in enumerate(value))
    return sorted(issues, key=lambda issue: issue.path)


def _line_of(path: str, lines: dict[str, int]) -> int | None:
    """The line of path, or of its closest ancestor present in the text (a missing key)."""
    while path:
        if path in lines:
            return lines[path]
        path = re.sub(r"(\.[^.\[]*|\[\d+\])$", "", path) if re.search(r"[.\[]", path) else ""
    return lines.get("")


def _too_large(size: int, source: str) -> None:
    limit = settings.CERTIFICATION["REFERENTIAL_MAX_BYTES"]
    if size > limit:
        raise ReferentialFormatError([FormatIssue(source, "", _(
            "le fichier est trop volumineux (%(size)s) : %(limit)s au plus"
        ) % {"size": filesizeformat(size), "limit": filesizeformat(limit)})])


def read_limited(stream, *, source: str = "") -> bytes:
    """The content of an uploaded file, refused on its announced size before any byte is
    read, and never read beyond the limit (a size may be missing or wrong)."""
    size = getattr(stream, "size", None)
    if size is not None:
        _too_large(size, source)
    if hasattr(stream, "seek"):
        stream.seek(0)
    data = stream.read(settings.CERTIFICATION["REFERENTIAL_MAX_BYTES"] + 1)
    _too_large(len(data), source)
    return data


def _decode(raw: bytes | str, source: str) -> str:
    _too_large(len(raw.encode("utf-8", "surrogatepass")) if isinstance(raw, str) else len(raw),
               source)
    if isinstance(raw, str):
        return raw
    try:
        # A byte order mark is what some Windows editors write: accept it.
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ReferentialFormatError([FormatIssue(
            source, "", _("le fichier n'est pas encodé en UTF-8 (octet invalide en position "
                          "%(position)d)") % {"position": error.start},
            line=raw[:error.start].count(b"\n") + 1,
        )]) from error


def _load(text: str, source: str):
    try:
        return json.loads(text, object_pairs_hook=_object_pairs)
    except json.JSONDecodeError as error:
        reason = str(JSON_REASONS.get(error.msg, error.msg))
        raise ReferentialFormatError([FormatIssue(
            source, "", _("JSON invalide : %(reason)s (colonne %(column)d)")
            % {"reason": reason, "column": error.colno},
            line=error.lineno,
        )]) from error
    except RecursionError as error:
        raise ReferentialFormatError([FormatIssue(
            source, "", _("JSON invalide : imbrication trop profonde"))]) from error
    except ValueError as error:
        # Python refuses to convert an integer of more than 4 300 digits (int_max_str_digits).
        raise ReferentialFormatError([FormatIssue(
            source, "", _("JSON invalide : nombre trop long"))]) from error


def parse_referential(raw: bytes | str, *, source: str = "") -> dict:
    """Check one file against every rule of the format and return the normalised document.

    Raises ReferentialFormatError listing every issue found, each with its JSON path."""
    text = _decode(raw, source)
    data = _load(text, source)
    issues = _forbidden_characters(data, source)
    if issues:
        # Refused before anything else: later messages would quote these strings.
        lines = _lines_or_none(text)
        raise ReferentialFormatError([
            FormatIssue(issue.source, issue.path, issue.message, _line_of(issue.path, lines))
            for issue in issues
        ])
    checker = _Checker(source)
    document = checker.document(data)
    if checker.issues:
        lines = _lines_or_none(text)
        raise ReferentialFormatError([
            FormatIssue(issue.source, issue.path, issue.message, _line_of(issue.path, lines))
            for issue in checker.issues
        ])
    return document
