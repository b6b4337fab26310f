"""Reading the Caisse des Dépôts' accusé de traitement (DOMAIN.md §7), safely.

Root ``rapport``; ``nomFichier``; the accepted awards' ``idTechnique`` under ``PassagesOK``;
each refused award a ``passage`` with ``idTechnique`` and ``messageErreur``. Element names
are compared case-insensitively. The parser (defusedxml over expat, streamed) refuses any
DTD, entity or external reference; a file too large, malformed, or in a foreign namespace
is refused whole with a French message.
"""

import io
from dataclasses import dataclass, field
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import iterparse
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from reporting.holders_xml import NAMESPACE

# The receipt in the file's own namespace, or in none.
ACCEPTED_NAMESPACES = {"", NAMESPACE}


class ReceiptRefused(ValidationError):
    """The receipt is refused whole; nothing was changed."""


@dataclass
class ParsedReceipt:
    file_name: str = ""
    accepted: list[str] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)


def _split(tag: str) -> tuple[str, str]:
    if tag.startswith("{"):
        namespace, _sep, local = tag[1:].partition("}")
        return namespace, local.lower()
    return "", tag.lower()


def parse(data: bytes) -> ParsedReceipt:
    limit = settings.CDC_DECLARATION["RECEIPT_MAX_BYTES"]
    if len(data) > limit:
        raise ReceiptRefused(_("Accusé refusé : le fichier dépasse %(mb)d Mo.")
                             % {"mb": limit // (1024 * 1024)})
    result = ParsedReceipt()
    path: list[str] = []
    passage: dict[str, str] = {}
    try:
        for event, element in iterparse(io.BytesIO(data), events=("start", "end"),
                                        forbid_dtd=True, forbid_entities=True,
                                        forbid_external=True):
            namespace, name = _split(element.tag)
            if event == "start":
                if namespace not in ACCEPTED_NAMESPACES:
                    raise ReceiptRefused(_(
                        "Accusé refusé : espace de noms inattendu « %(ns)s ».") % {"ns": namespace})
                if not path and name != "rapport":
                    raise ReceiptRefused(_(
                        "Accusé refusé : l'élément racine doit être « rapport », pas « %(name)s »."
                    ) % {"name": name})
                path.append(name)
                if name == "passage":
                    passage = {}
                continue
            text = (element.text or "").strip()
            path.pop()
            if name == "nomfichier" and not path[1:]:
                result.file_name = text
            elif name == "idtechnique" and "passagesok" in path:
                if text:
                    result.accepted.append(text)
            elif name in ("idtechnique", "messageerreur") and "passage" in path:
                passage[name] = text
            elif name == "passage":
                if not passage.get("idtechnique"):
                    raise ReceiptRefused(_("Accusé refusé : un passage refusé n'a pas "
                                           "d'idTechnique."))
                result.refused[passage["idtechnique"]] = passage.get("messageerreur", "")
            if path:
                element.clear()
    except DefusedXmlException as error:
        raise ReceiptRefused(_("Accusé refusé : le fichier contient une DTD ou des entités, "
                               "interdites pour des raisons de sécurité.")) from error
    except ParseError as error:
        raise ReceiptRefused(_("Accusé refusé : ce n'est pas un fichier XML bien formé "
                               "(%(detail)s).") % {"detail": error}) from error
    if not result.accepted and not result.refused:
        raise ReceiptRefused(_("Accusé refusé : il ne nomme aucun passage."))
    return result
