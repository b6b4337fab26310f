"""Forms of the pages reached through a personal link (no account): the candidate's upload
of the rapport d'activités and the tutor's avis de l'entreprise."""

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Div, Field, Fieldset, Layout, Submit
from django import forms
from django.core.exceptions import ValidationError
from django.utils.html import escape
from django.utils.translation import gettext_lazy as _

from candidates import uploads
from candidates.models import OpinionLevel, OverallOpinion

# A rapport d'activités is a document: the images ``uploads`` also accepts are evidence only.
REPORT_CONTENT_TYPES = {uploads.PDF, uploads.DOCX, uploads.ODT}
REPORT_ACCEPT = ".pdf,.docx,.odt," + ",".join(sorted(REPORT_CONTENT_TYPES))
CHOICE_BUTTONS = "candidates/public/_choice_buttons.html"


def literal(text: str) -> str:
    """Referential data for a crispy legend, which crispy renders as a template and then
    outputs unescaped: HTML-escaped, and braces as entities so no template tag survives."""
    return escape(text).replace("{", "&#123;").replace("}", "&#125;")


class ActivityReportForm(forms.Form):
    file = forms.FileField(
        label=_("Fichier de votre rapport"),
        help_text=_("Document PDF, DOCX (Word) ou ODT (LibreOffice), 20 Mo au plus."),
        error_messages={"required": _("Choisissez le fichier de votre rapport d'activités."),
                        "empty": _("Le fichier est vide.")},
        widget=forms.ClearableFileInput(attrs={"accept": REPORT_ACCEPT}),
    )

    def __init__(self, *args, max_mb: int = 20, replacing: bool = False,
                 too_large: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = _(
            "Document PDF, DOCX (Word) ou ODT (LibreOffice), %(max)s Mo au plus."
        ) % {"max": max_mb}
        if too_large:
            # The upload was stopped while read (uploads.SizeCapUploadHandler): no file.
            self.fields["file"].error_messages["required"] = _(
                "Le fichier dépasse la taille maximale de %(max)s Mo.") % {"max": max_mb}
        self.helper = FormHelper()
        self.helper.form_method = "post"
        self.helper.attrs = {"enctype": "multipart/form-data"}
        self.helper.add_input(Submit(
            "upload", _("Remplacer mon rapport") if replacing else _("Envoyer mon rapport"),
            css_class="btn-lg",
        ))

    def clean_file(self):
        """The content decides, not the name: the service checks it again when storing."""
        uploaded = self.cleaned_data["file"]
        checked = uploads.check_upload(uploaded)
        if checked.content_type not in REPORT_CONTENT_TYPES:
            raise ValidationError(_("Le rapport d'activités doit être un document PDF, DOCX ou "
                                    "ODT."))
        return uploaded


class CompanyOpinionForm(forms.Form):
    """One appréciation (and an optional comment) per competence of the referential, grouped
    by bloc, then the overall avis and who gives it."""

    overall = forms.ChoiceField(
        label=_("Avis global de l'entreprise"), choices=OverallOpinion.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Donnez l'avis global de l'entreprise.")},
    )
    comment = forms.CharField(
        label=_("Commentaire général (facultatif)"), required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    given_by_name = forms.CharField(label=_("Nom et prénom du signataire"), max_length=150)
    given_by_function = forms.CharField(label=_("Fonction dans l'entreprise"), max_length=150)

    def __init__(self, *args, competences, tutor=None, **kwargs):
        initial = kwargs.setdefault("initial", {})
        if tutor is not None:
            initial.setdefault("given_by_name", f"{tutor.first_name} {tutor.last_name}")
            initial.setdefault("given_by_function", tutor.job_title)
        super().__init__(*args, **kwargs)
        self.competences = list(competences)
        groups: dict = {}
        for competence in self.competences:
            self.fields[self.level_name(competence)] = forms.ChoiceField(
                label=f"{competence.code} — {competence.title}",
                choices=OpinionLevel.choices, widget=forms.RadioSelect,
                error_messages={"required": _("Choisissez une appréciation pour cette "
                                              "compétence.")},
            )
            self.fields[self.comment_name(competence)] = forms.CharField(
                label=_("Commentaire sur %(code)s (facultatif)") % {"code": competence.code},
                required=False, widget=forms.Textarea(attrs={"rows": 2}),
            )
            groups.setdefault(competence.bloc, []).append(competence)
        self.helper = FormHelper()
        self.helper.form_method = "post"
        self.helper.layout = Layout(
            *(self._bloc_fieldset(bloc, items) for bloc, items in groups.items()),
            Fieldset(
                _("Avis global"),
                Field("overall", template=CHOICE_BUTTONS),
                "comment",
                Div(Div("given_by_name", css_class="col-md-6"),
                    Div("given_by_function", css_class="col-md-6"), css_class="row"),
                css_class="opinion-group card card-body mb-4",
            ),
        )
        self.helper.add_input(Submit("submit", _("Transmettre l'avis"), css_class="btn-lg"))

    @staticmethod
    def level_name(competence) -> str:
        return f"level_{competence.pk}"

    @staticmethod
    def comment_name(competence) -> str:
        return f"comment_{competence.pk}"

    def _bloc_fieldset(self, bloc, competences):
        legend = literal(f"{bloc.code} — {bloc.title}") if bloc is not None else _("Compétences")
        return Fieldset(
            legend,
            *(Div(Field(self.level_name(c), template=CHOICE_BUTTONS),
                  self.comment_name(c), css_class="opinion-competence")
              for c in competences),
            css_class="opinion-group card card-body mb-4",
        )

    def items(self) -> dict[int, tuple[str, str]]:
        """The per-competence part, as ``services.submit_company_opinion`` takes it."""
        return {
            c.pk: (self.cleaned_data[self.level_name(c)],
                   self.cleaned_data[self.comment_name(c)])
            for c in self.competences
        }
