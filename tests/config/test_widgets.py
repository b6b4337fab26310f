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


def test_fast_select_matches_django_select_for_model_choices_and_lazy_or_safe_labels(db):
    from django.contrib.contenttypes.models import ContentType
    from django.utils.safestring import mark_safe
    from django.utils.translation import gettext_lazy

    field = forms.ModelChoiceField(ContentType.objects.order_by("pk")[:5],
                                   empty_label=gettext_lazy("Toutes"), widget=FastSelect)
    plain_field = forms.ModelChoiceField(ContentType.objects.order_by("pk")[:5],
                                         empty_label=gettext_lazy("Toutes"))
    chosen = ContentType.objects.order_by("pk")[2]
    for value in (None, chosen.pk, str(chosen.pk)):
        fast = field.widget.render("c", value, attrs={"id": "id_c"})
        plain = plain_field.widget.render("c", value, attrs={"id": "id_c"})
        assert _normalise(fast) == _normalise(plain)
    choices = [("a", mark_safe("<em>A</em>")), ("b", gettext_lazy("Toutes"))]
    assert (_normalise(FastSelect(choices=choices).render("f", "b"))
            == _normalise(forms.Select(choices=choices).render("f", "b")))


def test_only_the_first_matching_option_is_selected_as_django_does():
    choices = [("1", "Un"), ("1", "Encore un")]
    fast = FastSelect(choices=choices).render("f", "1")
    assert fast.count(" selected") == 1
    assert _normalise(fast) == _normalise(forms.Select(choices=choices).render("f", "1"))
