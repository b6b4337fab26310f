"""The Caisse des Dépôts holders file (DOMAIN.md §7), written as a stream: the header, then
one passage at a time, each certification opened and closed as the sorted passages go by.
Nothing but the current passage is held in memory; the same payloads always give the same
bytes (reporting/schemas/cdc-accrochage-1.0.0.xsd describes the structure).
"""

import hashlib
import re
from collections.abc import Iterable
from xml.sax.saxutils import escape

NAMESPACE = "urn:cdc:cpf:pc5:schema:1.0.0"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
P = "cpf:"
FLUSH_BYTES = 64 * 1024


class HashingWriter:
    """Buffers UTF-8 text, writes it to ``out`` (binary, or None to only hash) in large
    chunks, and keeps the SHA-256 of everything written."""

    def __init__(self, out=None):
        self.out = out
        self.sha = hashlib.sha256()
        self.parts: list[str] = []
        self.size = 0

    def write(self, text: str) -> None:
        self.parts.append(text)
        self.size += len(text)
        if self.size >= FLUSH_BYTES:
            self.flush()

    def flush(self) -> None:
        if not self.parts:
            return
        data = "".join(self.parts).encode("utf-8")
        self.sha.update(data)
        if self.out is not None:
            self.out.write(data)
        self.parts, self.size = [], 0

    @property
    def hexdigest(self) -> str:
        self.flush()
        return self.sha.hexdigest()


# XML 1.0 refuses most control characters: never let one reach the file (tab and line
# feed are allowed). A pattern, not a test of each character: ≈ 1 s of a 16 000-passage file.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b-\x1f]")


def _clean(value: str) -> str:
    return escape(CONTROL_CHARACTERS.sub("", value))


def _el(indent: int, name: str, value) -> str:
    pad = "  " * indent
    if value is None:
        return f'{pad}<{P}{name} xsi:nil="true"/>\n'
    if isinstance(value, bool):
        value = "true" if value else "false"
    return f"{pad}<{P}{name}>{_clean(str(value))}</{P}{name}>\n"


def _passage(p: dict) -> str:
    """One ``passageCertification`` (indent 7), its children in the order of DOMAIN.md §7."""
    lines = [
        "              <cpf:passageCertification>\n",
        _el(8, "idTechnique", p["id"]),
        _el(8, "obtentionCertification", "PAR_ADMISSION"),
        _el(8, "donneeCertifiee", True),
        _el(8, "dateDebutValidite", p["start"]),
        _el(8, "dateFinValidite", p["end"]),
        _el(8, "presenceNiveauLangueEuro", False),
        _el(8, "presenceNiveauNumeriqueEuro", False),
        _el(8, "scoring", None),
        _el(8, "mentionValidee", None),
        "                <cpf:modalitesInscription>\n",
        _el(9, "modaliteAcces", p["access"]),
    ]
    if p.get("vae"):
        lines.append(_el(9, "voieAccesVAE", p["vae"]))
    lines += [
        "                </cpf:modalitesInscription>\n",
        "                <cpf:identificationTitulaire>\n",
        "                  <cpf:titulaire>\n",
        _el(10, "nomNaissance", p["birth_name"]),
        _el(10, "nomUsage", p["usage_name"]),
        _el(10, "prenom1", p["first_name"]),
        _el(10, "anneeNaissance", p["year"]),
        _el(10, "moisNaissance", p["month"]),
        _el(10, "jourNaissance", p["day"]),
        _el(10, "sexe", p["sex"]),
        "                    <cpf:codeCommuneNaissance>\n",
    ]
    if p["commune_kind"] == "insee":
        lines += ["                      <cpf:codeInseeNaissance>\n",
                  _el(12, "codeInsee", p["commune_code"]),
                  "                      </cpf:codeInseeNaissance>\n"]
    else:
        lines += ["                      <cpf:codePostalNaissance>\n",
                  _el(12, "codePostal", p["commune_code"]),
                  "                      </cpf:codePostalNaissance>\n"]
    lines += [
        "                    </cpf:codeCommuneNaissance>\n",
        _el(10, "libelleCommuneNaissance", p["commune_name"]),
        _el(10, "codePaysNaissance", p["country_code"]),
        _el(10, "libellePaysNaissance", p["country_name"]),
        "                  </cpf:titulaire>\n",
        "                </cpf:identificationTitulaire>\n",
        "              </cpf:passageCertification>\n",
    ]
    return "".join(lines)


def write_flux(writer: HashingWriter, *, header: dict, payloads: Iterable[dict]) -> int:
    """Write the whole file to ``writer``; ``payloads`` are sorted by (type, code). Returns
    the number of passages written."""
    writer.write('<?xml version="1.0" encoding="UTF-8"?>\n')
    writer.write(f'<cpf:flux xmlns:cpf="{NAMESPACE}" xmlns:xsi="{XSI}">\n')
    writer.write(_el(1, "idFlux", header["id_flux"]))
    writer.write(_el(1, "horodatage", header["horodatage"]))
    writer.write("  <cpf:emetteur>\n")
    writer.write(_el(2, "idClient", header["id_client"]))
    writer.write("    <cpf:certificateurs>\n      <cpf:certificateur>\n")
    writer.write(_el(4, "idClient", header["id_client"]))
    writer.write(_el(4, "idContrat", header["id_contrat"]))
    writer.write("        <cpf:certifications>\n")
    current = None
    count = 0
    for payload in payloads:
        key = (payload["type"], payload["code"])
        if key != current:
            if current is not None:
                writer.write("            </cpf:passageCertifications>\n"
                             "          </cpf:certification>\n")
            writer.write("          <cpf:certification>\n")
            writer.write(_el(6, "type", payload["type"]))
            writer.write(_el(6, "code", payload["code"]))
            writer.write(_el(6, "natureDeposant", header["nature_deposant"]))
            writer.write("            <cpf:passageCertifications>\n")
            current = key
        writer.write(_passage(payload))
        count += 1
    if current is not None:
        writer.write("            </cpf:passageCertifications>\n"
                     "          </cpf:certification>\n")
    writer.write("        </cpf:certifications>\n      </cpf:certificateur>\n"
                 "    </cpf:certificateurs>\n  </cpf:emetteur>\n</cpf:flux>\n")
    writer.flush()
    return count
