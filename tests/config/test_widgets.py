"""FastSelect renders exactly what Django's Select renders (whitespace aside), faster."""

import re

import pytest
from django import forms

from config.widgets import FastSelect

CHOICES = [("", "Tous"), ("x<", "X & <b>"), ("Groupe « é »", [("1", "Un"), ("2", "Deux")]),
           (3, "Trois")]


def _normalise(html: str) -> str:
    return re.sub(r">\s+<", "><", str(html)).strip()


@pytest.mark.parametrize("value", ["", "x<", "2", "3", None])
@pytest.mark.parametrize("attrs", [None, {"class": "form-select", "required": True,
                                          "data-x": 'a"b'}])
def test_fast_select_matches_django_select(value, attrs):
    fast = FastSelect(choices=CHOICES).render("f", value, attrs=attrs)
    plain = forms.Select(choices=CHOICES).render("f", value, attrs=attrs)
    assert _normalise(fast) == _normalise(plain)
    assert "<b>" not in fast
