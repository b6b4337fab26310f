"""Validators of French identifiers used by the candidates app."""

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

LA_POSTE_SIREN = "356000000"


def luhn_valid(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def normalise_siret(value: str) -> str:
    return "".join(value.split())


def validate_siret(value: str) -> None:
    """14 digits with a valid Luhn checksum (La Poste's establishments: sum of digits % 5)."""
    siret = normalise_siret(value)
    if len(siret) != 14 or not siret.isdigit():
        raise ValidationError(_("Le SIRET doit comporter 14 chiffres."), code="siret_length")
    if siret.startswith(LA_POSTE_SIREN) and siret != LA_POSTE_SIREN + "00012":
        if sum(int(c) for c in siret) % 5 == 0:
            return
        raise ValidationError(_("Ce numéro SIRET n'est pas valide (clé de contrôle)."),
                              code="siret_checksum")
    if not luhn_valid(siret):
        raise ValidationError(_("Ce numéro SIRET n'est pas valide (clé de contrôle)."),
                              code="siret_checksum")


# ---------------------------------------------------------------------------
# Identity for the declaration of holders (DOMAIN.md §7–§8)
# ---------------------------------------------------------------------------
# INSEE commune code: department (2 digits, or 2A/2B for Corsica; 97x overseas, 99 abroad)
# then 3 digits. A postal code is 5 digits, never a letter.
INSEE_CODE = re.compile(r"(?:\d{2}|2[AB])\d{3}")
POSTAL_CODE = re.compile(r"\d{5}")

# ISO 3166-1 alpha-2, the officially assigned codes.
_ISO_ALPHA_2 = """
AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR
BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ
EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW
GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY
KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV
MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY
QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG
TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM
ZW
"""
ISO_COUNTRY_CODES = frozenset(_ISO_ALPHA_2.split())


def normalise_code(value: str) -> str:
    return "".join((value or "").split()).upper()


def validate_insee_code(value: str) -> None:
    if not INSEE_CODE.fullmatch(normalise_code(value)):
        raise ValidationError(
            _("Code INSEE invalide : 5 caractères, par exemple 44109, 2A004 (Corse) ou 99134 "
              "(né à l'étranger)."), code="insee_code")


def validate_postal_code(value: str) -> None:
    if not POSTAL_CODE.fullmatch(normalise_code(value)):
        raise ValidationError(_("Code postal invalide : 5 chiffres, par exemple 44000."),
                              code="postal_code")


def validate_country_code(value: str) -> None:
    if value and normalise_code(value) not in ISO_COUNTRY_CODES:
        raise ValidationError(
            _("Code pays inconnu : 2 lettres de la norme ISO 3166 (FR, BE, MA…)."),
            code="country_code")
