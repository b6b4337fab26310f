"""Forms of the commissions pages. They parse and present; the business rules (impartiality,
charter, habilitation, composition) are checked by ``commissions.services``, whose refusals
the views show in French next to the input kept on screen."""

from crispy_forms.bootstrap import FormActions, StrictButton
from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Column, Div, Field, Fieldset, Layout, Row
from django import forms
from django.utils.html import escape
from django.utils.translation import gettext_lazy as _

from candidates.forms import DateInput, certification_label
from candidates.validators import normalise_siret
from certifications.models import Certification, CertificationStatus
from commissions.models import (
    Answer,
    ApplicationStatus,
    Commission,
    CommissionStatus,
    EvaluatorApplication,
    MemberRole,
)


class TimeInput(forms.TimeInput):
    input_type = "time"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%H:%M")


class CertificationsField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return certification_label(obj)


def published_certifications():
    return Certification.objects.filter(status=CertificationStatus.PUBLISHED).order_by(
        "kind", "code")


def submit(label, css_class: str = "btn-primary", **kwargs) -> StrictButton:
    return StrictButton(label, type="submit", css_class=css_class, **kwargs)


def cancel_link() -> HTML:
    return HTML(f'<a class="btn btn-link" href="{{{{ cancel_url }}}}">{escape(_("Annuler"))}</a>')


# ---------------------------------------------------------------------------
# Staff: list, creation
# ---------------------------------------------------------------------------
class CommissionFilterForm(forms.Form):
    status = forms.ChoiceField(label=_("Statut"), required=False,
                               choices=[("", _("Tous")), *CommissionStatus.choices])
    year = forms.TypedChoiceField(label=_("Année"), required=False, coerce=int,
                                  empty_value=None)

    def __init__(self, *args, years, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["year"].choices = [("", _("Toutes")), *((y, y) for y in years)]
        self.helper = FormHelper()
        self.helper.form_method = "get"
        self.helper.disable_csrf = True
        self.helper.form_class = "mb-3"
        self.helper.layout = Layout(Row(
            Column("status", css_class="col-6 col-md-3"),
            Column("year", css_class="col-6 col-md-2"),
            Column(submit(_("Filtrer")),
                   HTML(f'<a class="btn btn-link" href="{{{{ request.path }}}}">'
                        f'{escape(_("Effacer"))}</a>'),
                   css_class="col-12 col-md-4 d-flex align-items-end mb-3"),
            css_class="g-2",
        ))

    def filters(self) -> dict:
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {"status": data.get("status") or "", "year": data.get("year")}


class CommissionForm(forms.ModelForm):
    certifications = CertificationsField(
        label=_("Certifications évaluées"), queryset=Certification.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choisissez au moins une certification.")},
    )

    class Meta:
        model = Commission
        fields = ["centre", "date", "start_time", "end_time", "remote", "place",
                  "certifications", "notes"]
        widgets = {
            "date": DateInput(),
            "start_time": TimeInput(),
            "end_time": TimeInput(),
            "notes": forms.Textarea(attrs={"rows": 3}),
        }
        help_texts = {
            "place": _("Adresse et atelier (laisser vide si la commission a lieu à distance)."),
            "notes": _("Accueil, équipements de protection, matériel : repris dans la "
                       "convocation."),
        }

    def __init__(self, *args, centres, **kwargs):
        super().__init__(*args, **kwargs)
        if len(centres) == 1:
            # The gestionnaire's only centre: nothing to choose.
            del self.fields["centre"]
            self.instance.centre = centres[0]
        else:
            self.fields["centre"].queryset = centres
            self.fields["centre"].empty_label = None
        self.fields["certifications"].queryset = published_certifications()
        self.helper = FormHelper()
        self.helper.form_method = "post"
        self.helper.layout = Layout(
            *(["centre"] if "centre" in self.fields else []),
            Row(Column("date", css_class="col-12 col-sm-4"),
                Column("start_time", css_class="col-6 col-sm-4"),
                Column("end_time", css_class="col-6 col-sm-4")),
            "remote",
            "place",
            Div(Field("certifications"), css_class="checkbox-scroll"),
            "notes",
            FormActions(submit(_("Créer la commission")), cancel_link()),
        )


class CancelForm(forms.Form):
    reason = forms.CharField(
        label=_("Motif de l'annulation"), max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("Indiquez le motif de l'annulation.")},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_method = "post"
        self.helper.form_id = "cancel-form"
        self.helper.layout = Layout(
            HTML('<input type="hidden" name="action" value="cancel">'),
            "reason",
            submit(_("Annuler la commission"), css_class="btn-outline-danger"),
        )


# ---------------------------------------------------------------------------
# Staff: composition
# ---------------------------------------------------------------------------
def _justification_field() -> forms.CharField:
    return forms.CharField(
        label=_("Justification de la dérogation"), required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Le centre autorise une dérogation à la règle d'impartialité, justifiée "
                    "par écrit : elle est conservée dans l'historique."),
    )


class AddMemberForm(forms.Form):
    """One suggested evaluator: add as président or membre."""

    evaluator = forms.IntegerField(widget=forms.HiddenInput)
    role = forms.ChoiceField(label=_("Rôle"), choices=MemberRole.choices, required=False)

    def __init__(self, *args, evaluator_id: int, initial_role: str, override: bool, **kwargs):
        kwargs.setdefault("initial", {}).update({"evaluator": evaluator_id, "role": initial_role})
        kwargs.setdefault("auto_id", f"id_member{evaluator_id}_%s")
        super().__init__(*args, **kwargs)
        if override:
            self.fields["justification"] = _justification_field()
        self.helper = FormHelper()
        self.helper.form_method = "post"
        self.helper.form_class = "add-member-form"
        self.helper.form_show_labels = override  # the select is labelled by aria-label
        self.helper.layout = Layout(
            HTML('<input type="hidden" name="action" value="add_member">'),
            "evaluator",
            *(["justification"] if override else []),
            Row(Column(Field("role", css_class="form-select-sm", aria_label=_("Rôle")),
                       css_class="col"),
                Column(submit(_("Ajouter"), css_class="btn-sm btn-primary"),
                       css_class="col-auto"),
                css_class="g-2 align-items-start"),
        )


    def clean_role(self):
        return self.cleaned_data.get("role") or MemberRole.MEMBER


class ScheduleForm(forms.Form):
    """One registration ready for evaluation: its time slot before the commission."""

    registration = forms.IntegerField(widget=forms.HiddenInput)
    start_time = forms.TimeField(label=_("Heure de passage"), widget=TimeInput(),
                                 error_messages={"required": _("Indiquez l'heure de passage.")})
    end_time = forms.TimeField(label=_("Fin"), required=False, widget=TimeInput())

    def __init__(self, *args, registration_id: int, override: bool, **kwargs):
        kwargs.setdefault("initial", {})["registration"] = registration_id
        kwargs.setdefault("auto_id", f"id_slot{registration_id}_%s")
        super().__init__(*args, **kwargs)
        if override:
            self.fields["justification"] = _justification_field()
        self.helper = FormHelper()
        self.helper.form_method = "post"
        self.helper.form_class = "schedule-form"
        self.helper.layout = Layout(
            HTML('<input type="hidden" name="action" value="schedule">'),
            "registration",
            *(["justification"] if override else []),
            Row(Column(Field("start_time", css_class="form-control-sm"), css_class="col"),
                Column(Field("end_time", css_class="form-control-sm"), css_class="col"),
                Column(submit(_("Convoquer"), css_class="btn-sm btn-primary"),
                       css_class="col-auto d-flex align-items-end mb-3"),
                css_class="g-2"),
        )

    def clean(self):
        data = super().clean()
        start, end = data.get("start_time"), data.get("end_time")
        if start and end and end <= start:
            self.add_error("end_time", _("La fin doit suivre le début."))
        return data


# ---------------------------------------------------------------------------
# Evaluators: convocation answer, charter
# ---------------------------------------------------------------------------
class ConvocationAnswerForm(forms.Form):
    answer = forms.ChoiceField(choices=[(Answer.CONFIRMED, _("Je confirme ma présence")),
                                        (Answer.DECLINED, _("Je suis empêché(e)"))])


class CharterAcceptForm(forms.Form):
    """The version read is the version accepted: a newer one published meanwhile is refused."""

    charter = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, charter, **kwargs):
        super().__init__(*args, initial={"charter": charter.pk}, **kwargs)
        self.charter = charter
        self.helper = FormHelper()
        self.helper.form_method = "post"
        self.helper.layout = Layout(
            "charter",
            submit(_("J'ai lu la charte et je m'engage à la respecter"), css_class="btn-primary"),
        )

    def clean_charter(self):
        value = self.cleaned_data.get("charter")
        if value is not None and value != self.charter.pk:
            raise forms.ValidationError(_("Une nouvelle version de la charte vient d'être "
                                          "publiée : lisez-la avant de l'accepter."))
        return value


# ---------------------------------------------------------------------------
# "Devenez évaluateur" and its review
# ---------------------------------------------------------------------------
class EvaluatorApplicationForm(forms.ModelForm):
    """The public application. ``website`` is a honeypot: hidden from people by CSS, filled
    by robots; a filled one is silently discarded by the view."""

    website = forms.CharField(label=_("Site web"), required=False)
    certifications = CertificationsField(
        label=_("Certifications que vous pourriez évaluer"), required=False,
        queryset=Certification.objects.none(), widget=forms.CheckboxSelectMultiple)

    class Meta:
        model = EvaluatorApplication
        fields = ["centre", "first_name", "last_name", "email", "phone", "employer_name",
                  "employer_siret", "profession", "experience_years", "expertise",
                  "certifications", "motivation"]
        labels = {
            "centre": _("Centre de certification"),
            "employer_name": _("Entreprise employeuse"),
        }
        help_texts = {
            "employer_siret": _("14 chiffres. Il sert à garantir que vous n'évaluerez jamais un "
                                "candidat de votre entreprise."),
            "expertise": _("Métiers, procédés, équipements que vous maîtrisez."),
        }
        widgets = {
            "expertise": forms.Textarea(attrs={"rows": 3}),
            "motivation": forms.Textarea(attrs={"rows": 4}),
        }

    def __init__(self, *args, centres, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["centre"].queryset = centres
        self.fields["centre"].empty_label = None if len(centres) == 1 else _("Choisissez")
        self.fields["certifications"].queryset = published_certifications()
        self.fields["experience_years"].widget.attrs.update({"min": 0, "max": 60})
        self.fields["website"].widget.attrs.update({"autocomplete": "off", "tabindex": "-1"})
        self.helper = FormHelper()
        self.helper.form_method = "post"
        self.helper.layout = Layout(
            "centre",
            Fieldset(_("Vous"),
                     Row(Column("first_name", css_class="col-sm-6"),
                         Column("last_name", css_class="col-sm-6")),
                     Row(Column("email", css_class="col-sm-7"),
                         Column("phone", css_class="col-sm-5"))),
            Fieldset(_("Votre expérience"),
                     Row(Column("employer_name", css_class="col-sm-7"),
                         Column("employer_siret", css_class="col-sm-5")),
                     Row(Column("profession", css_class="col-sm-8"),
                         Column("experience_years", css_class="col-sm-4")),
                     "expertise",
                     Div(Field("certifications"), css_class="checkbox-scroll"),
                     "motivation"),
            Div(Field("website"), css_class="form-trap", aria_hidden="true"),
            FormActions(submit(_("Envoyer ma candidature"), css_class="btn-primary btn-lg")),
        )

    def clean_employer_siret(self):
        return normalise_siret(self.cleaned_data.get("employer_siret", ""))

    @property
    def is_spam(self) -> bool:
        return bool(self.data.get("website", "").strip())


class ApplicationFilterForm(forms.Form):
    status = forms.ChoiceField(label=_("Statut"), required=False,
                               choices=[("", _("Tous")), *ApplicationStatus.choices])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_method = "get"
        self.helper.disable_csrf = True
        self.helper.layout = Layout(Row(
            Column("status", css_class="col-8 col-md-3"),
            Column(submit(_("Filtrer")), css_class="col-4 col-md-2 d-flex align-items-end mb-3"),
            css_class="g-2",
        ))


class RefuseApplicationForm(forms.Form):
    reason = forms.CharField(
        label=_("Motif du refus (communiqué au candidat)"),
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("Indiquez le motif du refus.")},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_method = "post"
        self.helper.layout = Layout(
            HTML('<input type="hidden" name="action" value="refuse">'),
            "reason",
            submit(_("Refuser la candidature"), css_class="btn-outline-danger"),
        )
