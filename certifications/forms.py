from django import forms
from django.utils.translation import gettext_lazy as _


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ".json,application/json"}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data]
        return [single(data, initial)]


class ReferentialImportForm(forms.Form):
    files = MultipleFileField(
        label=_("Fichiers de référentiel (JSON, format referentiel/1)"),
        help_text=_("Tous les fichiers sont importés ensemble, ou aucun."),
    )
    dry_run = forms.BooleanField(
        label=_("Simulation : indiquer ce qui changerait sans rien enregistrer"),
        required=False, initial=True,
    )
