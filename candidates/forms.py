"""Forms of the staff pages of the candidates app. Each form only parses and presents; the
business rules are checked by the services, whose errors come back through
``add_service_errors`` so that the user's input is re-displayed with them."""

from crispy_forms.bootstrap import FormActions, StrictButton
from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Column, Div, Field, Fieldset, Layout, Row
from django import forms
from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.utils import timezone
from django.utils.html import escape, format_html
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _

from candidates import services, uploads
from candidates.models import (
    Candidate,
    Company,
    Document,
    DocumentKind,
    LinkPurpose,
    Path,
    RegistrationState,
    TrainingOrganisation,
    Tutor,
)
from certifications.models import Certification, Modality, ReferentialVersion, VersionStatus
from config.widgets import FastSelect

S = RegistrationState

STEP_CHOICES = [
    ("", _("Toutes")),
    (1, _("1 — Inscription")),
    (2, _("2 — Formation")),
    (3, _("3 — Évaluation")),
    (4, _("4 — Délibération")),
]


def add_service_errors(form: forms.Form, error: ValidationError) -> None:
    """Show a service's ValidationError on the form: on its field when the form has it,
    otherwise above the form."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            target = field if field in form.fields and field != NON_FIELD_ERRORS else None
            form.add_error(target, errors)
    else:
        form.add_error(None, error)


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


def submit_button(label, css_class: str = "btn-primary") -> StrictButton:
    return StrictButton(label, type="submit", css_class=css_class)


def cancel_link() -> HTML:
    """A "back" link next to the submit button; ``cancel_url`` comes from the view."""
    return HTML(f'<a class="btn btn-link" href="{{{{ cancel_url }}}}">{escape(_("Annuler"))}</a>')


def certification_label(certification: Certification) -> str:
    return f"{certification.kind} {certification.code} — " + Truncator(
        certification.title).chars(60)


# ---------------------------------------------------------------------------
# List filters
# ---------------------------------------------------------------------------
class CertificationChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return certification_label(obj)


class RegistrationFilterForm(forms.Form):
    q = forms.CharField(
        label=_("Recherche"), required=False, max_length=100,
        widget=forms.TextInput(attrs={"type": "search",
                                      "placeholder": _("Nom, entreprise ou référence")}),
    )
    certification = CertificationChoiceField(
        label=_("Certification"), queryset=Certification.objects.none(), required=False,
        empty_label=_("Toutes"), widget=FastSelect,
    )
    state = forms.ChoiceField(label=_("État"), required=False, widget=FastSelect,
                              choices=[("", _("Tous")), *RegistrationState.choices])
    step = forms.TypedChoiceField(label=_("Étape"), required=False, choices=STEP_CHOICES,
                                  coerce=int, empty_value=None, widget=FastSelect)
    year = forms.TypedChoiceField(label=_("Année d'inscription"), required=False, coerce=int,
                                  empty_value=None, widget=FastSelect)
    commission = forms.TypedChoiceField(label=_("Commission"), required=False, coerce=int,
                                        empty_value=None, widget=FastSelect)

    # The Bootstrap grid column of each field, as the list page lays them out: one row from
    # 1 400 px (the search takes what the others leave), two from 768 px, stacked below.
    # Narrower, the one-column selects showed « Tou… » and the commission « Commi… ».
    COLUMNS = {
        "q": "col-12 col-md-4 col-xxl",
        "certification": "col-12 col-sm-6 col-md-4 col-xxl-2",
        "state": "col-6 col-sm-3 col-md-4 col-xxl-2",
        "step": "col-6 col-sm-3 col-xxl-1",
        "year": "col-6 col-sm-3 col-xxl-1",
        "commission": "col-6 col-sm-3 col-xxl-2",
    }

    def __init__(self, *args, certifications, years, commissions=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["certification"].queryset = certifications
        self.fields["year"].choices = [("", _("Toutes")), *((y, y) for y in years)]
        self.fields["commission"].choices = [("", _("Toutes")), *commissions]

    def columns(self) -> list[dict]:
        """What ``candidates/_registration_filters.html`` writes for each field: the same
        Bootstrap 5 markup as crispy's, written by a plain template. Through crispy's field
        templates the six filters cost ≈ 6 ms on every list page and every search (issue 7
        bench); the list is the page the staff open most."""
        rows = []
        for name, css in self.COLUMNS.items():
            field = self[name]
            widget_class = ("textinput form-control" if name == "q"
                            else "fastselect form-select")
            attrs = {"class": widget_class}
            if field.errors:
                attrs.update({"class": f"{widget_class} is-invalid", "aria-invalid": "true",
                              "aria-describedby": f"{field.auto_id}_error"})
            rows.append({"field": field, "css": css, "widget": field.as_widget(attrs=attrs)})
        return rows

    def filters(self) -> dict:
        """The valid filters, as keyword arguments of ``selectors.registration_list``; an
        invalid value (a stale link, a hand-typed URL) is ignored and shown on the form."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {
            "search": (data.get("q") or "").strip(),
            "certification": data.get("certification"),
            "state": data.get("state") or "",
            "step": data.get("step"),
            "year": data.get("year"),
            "commission": data.get("commission"),
        }


# ---------------------------------------------------------------------------
# New registration (with an optional new candidate), companies and tutors
# ---------------------------------------------------------------------------
class TutorSelect(forms.Select):
    """Each option carries its company so that static/js/candidates.js can offer only the
    tutors of the chosen company."""

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        instance = getattr(value, "instance", None)
        if instance is not None:
            option["attrs"]["data-company"] = str(instance.company_id)
        return option


class TutorChoiceField(forms.ModelChoiceField):
    widget = TutorSelect

    def label_from_instance(self, obj):
        return f"{obj.first_name} {obj.last_name.upper()} — {obj.email}"


class VersionChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{certification_label(obj.certification)} (v{obj.label})"


class CandidateChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.full_name} — {obj.birth_date:%d/%m/%Y}"


class RegistrationCreateForm(forms.Form):
    EXISTING, NEW = "existing", "new"

    centre = forms.ModelChoiceField(label=_("Centre"), queryset=None)
    candidate_choice = forms.ChoiceField(
        label=_("Candidat"), widget=forms.RadioSelect, initial=EXISTING,
        choices=[(EXISTING, _("Candidat déjà connu du centre")),
                 (NEW, _("Nouveau candidat"))],
    )
    candidate = CandidateChoiceField(label=_("Candidat existant"), queryset=None,
                                     required=False)
    version = VersionChoiceField(
        label=_("Certification et version du référentiel"), queryset=None,
        help_text=_("Seules les versions publiées sont proposées."),
    )
    path = forms.ChoiceField(label=_("Parcours"), choices=[("", "—"), *Path.choices])
    company = forms.ModelChoiceField(
        label=_("Entreprise"), queryset=None, required=False,
        help_text=_("Laissée vide pour un salarié ou un alternant : l'employeur du candidat."),
    )
    tutor = TutorChoiceField(label=_("Tuteur"), queryset=None, required=False,
                             help_text=_("Il donnera l'avis de l'entreprise."))
    registered_on = forms.DateField(label=_("Date d'inscription"), widget=DateInput,
                                    initial=timezone.localdate)
    planned_evaluation_on = forms.DateField(label=_("Évaluation envisagée le"),
                                            widget=DateInput, required=False)

    def __init__(self, *args, centres, candidates, companies, tutors, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["centre"].queryset = centres
        self.single_centre = len(centres) == 1
        if self.single_centre:
            self.fields["centre"].initial = centres[0].pk
            self.fields["centre"].widget = forms.HiddenInput()
        self.fields["candidate"].queryset = candidates
        self.fields["version"].queryset = (
            ReferentialVersion.objects.filter(status=VersionStatus.PUBLISHED)
            .select_related("certification")
            .order_by("certification__kind", "certification__code", "-valid_from")
        )
        self.fields["company"].queryset = companies
        self.fields["tutor"].queryset = tutors
        new_company = format_html('<a href="{{% url \'candidates:company_create\' %}}">{}</a>',
                                  _("Entreprise absente de la liste ? Créez-la, avec son tuteur."))
        self.helper = FormHelper()
        self.helper.layout = Layout(
            "centre",
            Fieldset(
                _("Candidat"),
                "candidate_choice",
                Div("candidate", css_class="candidate-existing"),
                # The new candidate's own form, rendered from the view's context.
                Div(HTML("{% load crispy_forms_tags %}{% crispy candidate_form %}"),
                    css_class="candidate-new border rounded p-3 mb-3 bg-body-tertiary"),
            ),
            Fieldset(
                _("Certification et parcours"),
                "version",
                Row(Column("path", css_class="col-md-6"),
                    Column("registered_on", css_class="col-6 col-md-3"),
                    Column("planned_evaluation_on", css_class="col-6 col-md-3")),
                Row(Column(Field("company", css_class="company-select"), css_class="col-md-6"),
                    Column(Field("tutor", css_class="tutor-select"), css_class="col-md-6")),
                HTML(f'<p class="small">{new_company}</p>'),
            ),
            FormActions(submit_button(_("Enregistrer l'inscription")), cancel_link()),
        )

    def clean(self):
        data = super().clean()
        centre = data.get("centre")
        candidate = data.get("candidate")
        if data.get("candidate_choice") == self.EXISTING:
            if candidate is None:
                self.add_error("candidate", _("Choisissez le candidat, ou créez-en un nouveau."))
            elif centre and candidate.centre_id != centre.pk:
                self.add_error("candidate", _("Ce candidat appartient à un autre centre."))
        for name in ("company", "tutor"):
            value = data.get(name)
            value_centre = getattr(value, "centre_id", None) or getattr(
                getattr(value, "company", None), "centre_id", None)
            if value is not None and centre and value_centre != centre.pk:
                self.add_error(name, _("Cet élément appartient à un autre centre."))
        return data

    @property
    def wants_new_candidate(self) -> bool:
        value = self.data.get(self.add_prefix("candidate_choice")) if self.is_bound else None
        return value == self.NEW


class CandidateForm(forms.ModelForm):
    """A new candidate typed inline on the registration form."""

    class Meta:
        model = Candidate
        fields = ["birth_name", "usage_name", "first_names", "birth_date", "sex",
                  "birth_commune_code_kind", "birth_commune_code", "birth_commune_name",
                  "birth_country_code", "email", "phone", "employer"]
        widgets = {"birth_date": DateInput}

    def __init__(self, *args, companies, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["employer"].queryset = companies
        self.fields["employer"].label = _("Employeur")
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(
            Row(Column("birth_name", css_class="col-md-4"),
                Column("usage_name", css_class="col-md-4"),
                Column("first_names", css_class="col-md-4")),
            Row(Column("birth_date", css_class="col-6 col-md-3"),
                Column("sex", css_class="col-6 col-md-3"),
                Column("email", css_class="col-md-3"),
                Column("phone", css_class="col-md-3")),
            # Identity declared to the Caisse des Dépôts (DOMAIN.md §7–§8); may be completed
            # later: a missing value only puts the award on the « à compléter » list.
            Row(Column("birth_commune_code_kind", css_class="col-6 col-md-3"),
                Column("birth_commune_code", css_class="col-6 col-md-3"),
                Column("birth_commune_name", css_class="col-md-4"),
                Column("birth_country_code", css_class="col-md-2")),
            "employer",
        )


class CompanyForm(forms.ModelForm):
    centre = forms.ModelChoiceField(label=_("Centre"), queryset=None)
    # Longer than 14: people type a SIRET with spaces; the model checks the digits and key.
    siret = forms.CharField(label=_("SIRET"), max_length=20,
                            help_text=_("14 chiffres ; la clé de contrôle est vérifiée."))

    class Meta:
        model = Company
        fields = ["centre", "name", "siret", "address", "postal_code", "city", "contact_name",
                  "contact_email", "contact_phone"]

    def __init__(self, *args, centres, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["centre"].queryset = centres
        if len(centres) == 1:
            self.fields["centre"].initial = centres[0].pk
            self.fields["centre"].widget = forms.HiddenInput()
        self.helper = FormHelper()
        self.helper.layout = Layout(
            "centre",
            Row(Column("name", css_class="col-md-8"), Column("siret", css_class="col-md-4")),
            "address",
            Row(Column("postal_code", css_class="col-4 col-md-3"),
                Column("city", css_class="col-8 col-md-9")),
            Row(Column("contact_name", css_class="col-md-4"),
                Column("contact_email", css_class="col-md-4"),
                Column("contact_phone", css_class="col-md-4")),
            FormActions(submit_button(_("Enregistrer l'entreprise")), cancel_link()),
        )

    def clean_siret(self):
        # The model validator checks the key; spaces typed by the user are not an error.
        return "".join((self.cleaned_data.get("siret") or "").split())


class TutorForm(forms.ModelForm):
    class Meta:
        model = Tutor
        fields = ["first_name", "last_name", "email", "phone", "job_title"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.layout = Layout(
            Row(Column("first_name", css_class="col-md-6"),
                Column("last_name", css_class="col-md-6")),
            Row(Column("email", css_class="col-md-6"), Column("phone", css_class="col-md-6")),
            "job_title",
            FormActions(submit_button(_("Enregistrer le tuteur")), cancel_link()),
        )


# ---------------------------------------------------------------------------
# Dossier (step 1)
# ---------------------------------------------------------------------------
class DossierForm(forms.Form):
    """The dossier fields and one select per competence offering only the modalities the
    referential allows for it."""

    row_version = forms.IntegerField(widget=forms.HiddenInput)
    job_title = forms.CharField(label=_("Poste occupé / visé"), max_length=200, required=False)
    career_summary = forms.CharField(
        label=_("Parcours du candidat"), required=False, widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Expérience, formation initiale, activités exercées en lien avec la "
                    "certification."))
    modalities_agreed_on = forms.DateField(
        label=_("Modalités arrêtées le"), required=False, widget=DateInput,
        help_text=_("Date à laquelle le candidat, l'entreprise et le centre ont arrêté les "
                    "modalités d'évaluation."))
    planned_evaluation_on = forms.DateField(label=_("Évaluation envisagée le"), required=False,
                                            widget=DateInput)
    company = forms.ModelChoiceField(label=_("Entreprise"), queryset=None, required=False)
    tutor = TutorChoiceField(label=_("Tuteur"), queryset=None, required=False)
    vae_collective = forms.BooleanField(
        label=_("VAE collective en entreprise (sans étape de recevabilité)"), required=False)
    dossier_notes = forms.CharField(label=_("Observations du centre"), required=False,
                                    widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, registration, competences, planned, companies, tutors, **kwargs):
        initial = {
            "row_version": registration.row_version,
            **{name: getattr(registration, name) for name in services.DOSSIER_FIELDS},
            **{self.field_name(c): planned.get(c.pk, "") for c in competences},
        }
        super().__init__(*args, initial=initial, **kwargs)
        self.competences = competences
        self.fields["company"].queryset = companies
        self.fields["tutor"].queryset = tutors
        if not registration.is_vae:
            del self.fields["vae_collective"]
        groups: dict = {}
        for competence in competences:
            name = self.field_name(competence)
            self.fields[name] = forms.ChoiceField(
                label=f"{competence.code} — {competence.title}",
                required=False,
                choices=[("", _("— à choisir —")),
                         *((m, Modality(m).label) for m in competence.modalities
                           if m in Modality.values)],
                error_messages={"invalid_choice": _(
                    "Le référentiel n'autorise pas cette modalité pour cette compétence.")},
            )
            groups.setdefault(competence.bloc, []).append(name)
        fieldsets = [
            Fieldset(format_html('<span class="fs-6 fw-semibold">{} {} — {}</span>', _("Bloc"),
                                 bloc.code, bloc.title) if bloc else "", *names)
            for bloc, names in groups.items()
        ]
        self.helper = FormHelper()
        self.helper.layout = Layout(
            "row_version",
            Fieldset(
                _("Dossier technique / livret de suivi"),
                "job_title", "career_summary",
                Row(Column("modalities_agreed_on", css_class="col-md-6"),
                    Column("planned_evaluation_on", css_class="col-md-6")),
                Row(Column(Field("company", css_class="company-select"), css_class="col-md-6"),
                    Column(Field("tutor", css_class="tutor-select"), css_class="col-md-6")),
                *(["vae_collective"] if "vae_collective" in self.fields else []),
                "dossier_notes",
            ),
            Fieldset(_("Modalité d’évaluation prévue par compétence"), *fieldsets),
            FormActions(submit_button(_("Enregistrer le dossier")), cancel_link()),
        )

    @staticmethod
    def field_name(competence) -> str:
        return f"modality_{competence.pk}"

    def changes(self) -> dict:
        return {name: self.cleaned_data[name] for name in services.DOSSIER_FIELDS
                if name in self.cleaned_data}

    def modalities(self) -> dict[int, str]:
        return {c.pk: self.cleaned_data.get(self.field_name(c), "") for c in self.competences}


# ---------------------------------------------------------------------------
# Step 2, VAE, documents, links, transitions
# ---------------------------------------------------------------------------
class CompetenceChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.code} — {obj.title}"


class TrainingForm(forms.Form):
    organisation = forms.ModelChoiceField(
        label=_("Organisme de formation"), queryset=TrainingOrganisation.objects.all(),
        help_text=_("Il doit être habilité par la branche pour cette certification."))
    start_on = forms.DateField(label=_("Début"), widget=DateInput)
    end_on = forms.DateField(label=_("Fin"), required=False, widget=DateInput,
                             help_text=_("À renseigner dès que la formation est terminée."))
    hours = forms.IntegerField(label=_("Durée (heures)"), min_value=1)
    competences = CompetenceChoiceField(label=_("Compétences travaillées"), queryset=None,
                                        required=False, widget=forms.CheckboxSelectMultiple)
    notes = forms.CharField(label=_("Observations"), required=False,
                            widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, competences, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["competences"].queryset = competences
        self.helper = FormHelper()
        self.helper.layout = Layout(
            "organisation",
            Row(Column("start_on", css_class="col-6 col-md-4"),
                Column("end_on", css_class="col-6 col-md-4"),
                Column("hours", css_class="col-md-4")),
            "competences", "notes",
            FormActions(submit_button(_("Enregistrer la formation")), cancel_link()),
        )


class TrainingCompleteForm(forms.Form):
    """The end date of a training in progress (a small inline form of the training card)."""

    end_on = forms.DateField(label=_("Date de fin"), widget=DateInput)


class WithoutTrainingForm(forms.Form):
    reason = forms.CharField(label=_("Motif (facultatif)"), required=False,
                             widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, action: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_action = action
        self.helper.layout = Layout(
            "reason",
            submit_button(_("Décider « sans formation »"), "btn-outline-primary"),
        )


class VaeAdmissibilityForm(forms.Form):
    decided_on = forms.DateField(label=_("Date de décision"), widget=DateInput,
                                 initial=timezone.localdate)
    experience_months = forms.IntegerField(label=_("Expérience en rapport (mois)"), min_value=0)
    experience_description = forms.CharField(label=_("Expérience déclarée"),
                                             widget=forms.Textarea(attrs={"rows": 4}))
    accepted = forms.TypedChoiceField(
        label=_("Décision"), widget=forms.RadioSelect, coerce=lambda v: v == "yes",
        choices=[("yes", _("Recevable")), ("no", _("Non recevable"))],
    )
    reason = forms.CharField(label=_("Motif"), required=False,
                             widget=forms.Textarea(attrs={"rows": 2}),
                             help_text=_("Obligatoire en cas de non-recevabilité."))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.layout = Layout(
            Row(Column("decided_on", css_class="col-6 col-md-4"),
                Column("experience_months", css_class="col-6 col-md-4")),
            "experience_description", "accepted", "reason",
            FormActions(submit_button(_("Enregistrer la recevabilité")), cancel_link()),
        )


class DocumentChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.get_kind_display()} v{obj.version_number} — {obj.original_name}"


class DocumentUploadForm(forms.Form):
    kind = forms.ChoiceField(label=_("Nature du document"), choices=DocumentKind.choices)
    file = forms.FileField(
        label=_("Fichier"),
        help_text=_("PDF, DOCX, ODT, PNG ou JPEG ; le contenu du fichier est vérifié."),
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.docx,.odt,.png,.jpg,.jpeg"}),
    )
    replaces = DocumentChoiceField(
        label=_("Remplace le document"), queryset=Document.objects.none(), required=False,
        empty_label=_("— aucun (nouveau document) —"),
        help_text=_("L'ancienne version est conservée. Un nouveau rapport d'activités "
                    "remplace toujours le précédent."),
    )

    def __init__(self, *args, current_documents, too_large: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["replaces"].queryset = current_documents
        if too_large:
            # The upload was stopped while read (uploads.SizeCapUploadHandler): no file.
            self.fields["file"].error_messages["required"] = _(
                "Le fichier dépasse la taille maximale de %(max)s Mo.") % {
                "max": settings.CANDIDATES["DOCUMENT_MAX_BYTES"] // (1024 * 1024)}
        self.helper = FormHelper()
        self.helper.layout = Layout(
            Row(Column("kind", css_class="col-md-6"), Column("replaces", css_class="col-md-6")),
            "file",
            FormActions(submit_button(_("Déposer le document")), cancel_link()),
        )

    def clean_file(self):
        uploaded = self.cleaned_data["file"]
        uploads.check_upload(uploaded)  # by content: the French reason shows on the field
        return uploaded

    def clean(self):
        data = super().clean()
        replaces = data.get("replaces")
        if replaces is not None and data.get("kind") and replaces.kind != data["kind"]:
            self.add_error("replaces", _("Le document remplacé doit être de la même nature."))
        return data


class LinkIssueForm(forms.Form):
    purpose = forms.ChoiceField(choices=LinkPurpose.choices)


TRANSITION_LABELS = {
    S.INSCRIT: _("Revenir à « Inscrit »"),
    S.EN_FORMATION: _("Passer « En formation »"),
    S.PRET_EVALUATION: _("Passer à « Prêt pour l'évaluation »"),
    S.EVALUE: _("Passer à « Évalué »"),
    S.DELIBERE: _("Passer à « Délibéré »"),
    S.ABANDON: _("Enregistrer l'abandon"),
}


REASON_LABELS = {
    S.INSCRIT: _("Motif du retour à « Inscrit »"),
    S.PRET_EVALUATION: _("Motif du retour à « Prêt pour l'évaluation »"),
    S.ABANDON: _("Motif de l'abandon"),
}


class TransitionForm(forms.Form):
    to_state = forms.ChoiceField(choices=RegistrationState.choices, widget=forms.HiddenInput)
    reason = forms.CharField(label=_("Motif"), required=False,
                             widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, registration, target: str, action: str, **kwargs):
        super().__init__(*args, initial={"to_state": target}, **kwargs)
        self.target = target
        self.needs_reason = (registration.state, target) in services.REASON_REQUIRED
        if self.needs_reason:
            self.fields["reason"].label = REASON_LABELS.get(target, _("Motif"))
        else:
            del self.fields["reason"]
        danger = target == S.ABANDON
        self.helper = FormHelper()
        self.helper.form_action = action
        self.helper.form_class = ("transition-form border rounded p-2 mb-2" if self.needs_reason
                                  else "transition-form mb-2")
        self.helper.attrs = {"data-confirm": _("Confirmer l'abandon de ce candidat ?")} \
            if danger else {}
        self.helper.form_show_labels = True
        self.helper.layout = Layout(
            "to_state",
            *(["reason"] if self.needs_reason else []),
            submit_button(TRANSITION_LABELS.get(target, target),
                          "btn-outline-danger w-100" if danger else "btn-primary w-100"),
        )
