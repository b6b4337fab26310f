"""Validators of French identifiers used by the candidates app."""

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
