"""Forms of the grid pages. They parse and present; the rules (completeness, signature,
impartiality, lock) are checked by ``evaluations.services``, whose refusals the views show in
French on the form. The grid's own fields are saved one at a time by the autosave endpoint and
are not a Django form (see ``views_grid.save_field``)."""

from crispy_forms.bootstrap import StrictButton
from crispy_forms.helper import FormHelper
from crispy_forms.layout import Field, Layout
from django import forms
from django.utils.translation import gettext_lazy as _

from evaluations.models import IncidentKind

ATTENDANCE_CHOICES = [
    ("present", _("Présent")),
    ("excuse", _("Absent excusé")),
    ("absent", _("Absent")),
]


def _helper(action: str, label, *fields, css_class: str = "btn-primary") -> FormHelper:
    helper = FormHelper()
    helper.form_action = action
    helper.form_method = "post"
    helper.layout = Layout(*fields, StrictButton(label, type="submit", css_class=css_class))
    return helper


class AttendanceForm(forms.Form):
    attendance = forms.ChoiceField(label=_("Présence du candidat"), choices=ATTENDANCE_CHOICES,
                                   widget=forms.RadioSelect)

    def __init__(self, *args, action: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper(action, _("Enregistrer la présence"),
                              Field("attendance", wrapper_class="mb-2"),
                              css_class="btn-outline-primary btn-sm")


class IncidentForm(forms.Form):
    kind = forms.ChoiceField(label=_("Nature"), choices=IncidentKind.choices)
    description = forms.CharField(
        label=_("Description"), widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Ce qui s'est passé, à quelle heure, ce qui a été fait sur le moment."))

    def __init__(self, *args, action: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper(action, _("Signaler l'incident"), "kind", "description",
                              css_class="btn-outline-danger btn-sm")


class IncidentResolveForm(forms.Form):
    resolution = forms.CharField(
        label=_("Résolution"), widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Comment l'incident a été traité (motif conservé dans le journal)."))

    def __init__(self, *args, action: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper(action, _("Marquer comme résolu"), "resolution",
                              css_class="btn-outline-success btn-sm")


class SignForm(forms.Form):
    """Re-authentication and the consent affirmation of DESIGN.md §4b."""

    consent = forms.BooleanField(
        label=_("J'atteste avoir lu la déclaration ci-dessus, y compris l'absence de tout lien "
                "ou conflit d'intérêts avec le candidat, et je signe la grille."),
        error_messages={"required": _("Cochez la déclaration pour signer.")})
    password = forms.CharField(label=_("Mot de passe"), strip=False,
                               widget=forms.PasswordInput(attrs={"autocomplete":
                                                                 "current-password"}))

    def __init__(self, *args, action: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper(action, _("Signer la grille"), "consent", "password",
                              css_class="btn-primary")


class ReopenForm(forms.Form):
    reason = forms.CharField(
        label=_("Motif de la réouverture"), widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Les signatures seront invalidées et le motif conservé dans le journal de "
                    "la grille."))

    def __init__(self, *args, action: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper(action, _("Rouvrir la grille"), "reason", css_class="btn-danger")
