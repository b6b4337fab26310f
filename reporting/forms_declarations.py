"""The upload of the Caisse des Dépôts' accusé de traitement."""

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _


class ReceiptUploadForm(forms.Form):
    file = forms.FileField(
        label=_("Accusé de traitement (XML)"),
        widget=forms.ClearableFileInput(attrs={"accept": ".xml,application/xml,text/xml"}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_action = "reporting:declarations_receipt"
        self.helper.add_input(Submit("submit", _("Importer l'accusé")))

    def clean_file(self):
        uploaded = self.cleaned_data["file"]
        limit = settings.CDC_DECLARATION["RECEIPT_MAX_BYTES"]
        if uploaded.size > limit:
            raise forms.ValidationError(_("Accusé refusé : le fichier dépasse %(mb)d Mo.")
                                        % {"mb": limit // (1024 * 1024)})
        return uploaded
