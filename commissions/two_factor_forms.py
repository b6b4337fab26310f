"""Forms of the two-factor pages: a code (from the app, or a recovery code) and the reason
of a staff reset. They parse; commissions.two_factor decides."""

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.utils.translation import gettext_lazy as _


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code"), max_length=24, strip=True,
        help_text=_("Le code à 6 chiffres affiché par votre application d'authentification, "
                    "ou l'un de vos codes de secours."),
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autofocus": True,
                                      "autocapitalize": "off", "spellcheck": "false"}))

    def __init__(self, *args, submit_label=None, help_text=None, **kwargs):
        super().__init__(*args, **kwargs)
        if help_text is not None:
            self.fields["code"].help_text = help_text
        self.helper = FormHelper()
        self.helper.form_tag = False  # the template's form carries « next »
        self.helper.add_input(Submit("submit", submit_label or _("Valider")))


class ResetForm(forms.Form):
    reason = forms.CharField(
        label=_("Motif de la réinitialisation"), max_length=500,
        help_text=_("Par exemple : téléphone perdu, vérifié par appel au numéro connu du "
                    "centre. Le motif est conservé dans l'historique du compte."),
        widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.add_input(Submit("submit", _("Réinitialiser la double authentification"),
                                     css_class="btn-danger"))
