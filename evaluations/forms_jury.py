"""Forms of the jury pages. They parse and present; the rules of DOMAIN.md §6 (composition,
15-day invitations, quorum, parity, motive when departing from the proposal, finality) are
checked by ``commissions.juries`` and ``evaluations.deliberation``, whose refusals the views
show in French on the form."""

from crispy_forms.bootstrap import FormActions, InlineRadios, StrictButton
from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Column, Div, Field, Hidden, Layout, Row
from django import forms
from django.conf import settings
from django.utils.html import escape
from django.utils.translation import gettext_lazy as _

from candidates.forms import DateInput
from certifications.models import Certification, CertificationKind
from commissions.forms import CertificationsField, TimeInput, published_certifications
from commissions.models import College, JurySession
from evaluations.models import Decision

PRESENCE_CHOICES = [("present", _("Présent")), ("absent", _("Absent"))]
KINDS_WITH_PARTIAL = (CertificationKind.CQPM, CertificationKind.CQPI)


def _submit(label, css_class: str = "btn-primary", **kwargs) -> StrictButton:
    return StrictButton(label, type="submit", css_class=css_class, **kwargs)


def _helper(*fields, action: str = "", form_class: str = "") -> FormHelper:
    helper = FormHelper()
    helper.form_method = "post"
    helper.form_action = action
    helper.form_class = form_class
    helper.layout = Layout(*fields)
    return helper


# ---------------------------------------------------------------------------
# Staff: creation and composition of a session
# ---------------------------------------------------------------------------
class SessionForm(forms.ModelForm):
    certifications = CertificationsField(
        label=_("Certifications sur lesquelles le jury délibère"),
        queryset=Certification.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choisissez au moins une certification.")},
    )

    class Meta:
        model = JurySession
        fields = ["centre", "date", "start_time", "place", "certifications"]
        widgets = {"date": DateInput(), "start_time": TimeInput()}
        help_texts = {
            "date": _("Les organisations syndicales doivent être invitées au moins 15 jours "
                      "calendaires avant le jury."),
        }

    def __init__(self, *args, centres, **kwargs):
        super().__init__(*args, **kwargs)
        if len(centres) == 1:
            del self.fields["centre"]
            self.instance.centre = centres[0]
        else:
            self.fields["centre"].queryset = centres
            self.fields["centre"].empty_label = None
        self.fields["certifications"].queryset = published_certifications()
        self.helper = _helper(
            *(["centre"] if "centre" in self.fields else []),
            Row(Column("date", css_class="col-12 col-sm-6"),
                Column("start_time", css_class="col-12 col-sm-6")),
            "place",
            Div(Field("certifications"), css_class="checkbox-scroll"),
            FormActions(_submit(_("Créer la session")),
                        HTML(f'<a class="btn btn-link" href="{{{{ cancel_url }}}}">'
                             f'{escape(_("Annuler"))}</a>')),
        )


class MemberChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj} — {obj.get_college_display()} ({obj.organisation})"


class SeatForm(forms.Form):
    member = MemberChoiceField(label=_("Membre"), queryset=None,
                               empty_label=_("Choisissez un membre"))
    president = forms.BooleanField(
        label=_("Président du jury"), required=False,
        help_text=_("Le jury est présidé par un membre de la délégation employeurs."))

    def __init__(self, *args, members, action: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["member"].queryset = members
        self.helper = _helper(Hidden("action", "add_seat"), "member", "president",
                              _submit(_("Ajouter au jury")), action=action)
        self.helper.form_id = "seat-form"


class InvitationForm(forms.Form):
    """One address per representative organisation (settings.JURIES["UNIONS"])."""

    def __init__(self, *args, action: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        for organisation in settings.JURIES["UNIONS"]:
            self.fields[self.key(organisation)] = forms.EmailField(
                label=_("Adresse de %(org)s") % {"org": organisation})
        self.helper = _helper(Hidden("action", "invite"), *self.fields,
                              _submit(_("Envoyer les invitations")), action=action)
        self.helper.form_id = "invitation-form"

    @staticmethod
    def key(organisation: str) -> str:
        return "email_" + "".join(ch if ch.isalnum() else "_" for ch in organisation).lower()

    def addresses(self) -> dict[str, str]:
        return {organisation: self.cleaned_data[self.key(organisation)]
                for organisation in settings.JURIES["UNIONS"]}


class DesignationForm(forms.Form):
    member = MemberChoiceField(label=_("Membre désigné"), queryset=None,
                               empty_label=_("Choisissez le membre désigné"))

    def __init__(self, *args, invitation, members, action: str = "", **kwargs):
        super().__init__(*args, prefix=f"inv{invitation.pk}", **kwargs)
        self.invitation = invitation
        self.fields["member"].queryset = members.filter(college=College.EMPLOYEES,
                                                        organisation=invitation.organisation)
        self.helper = _helper(
            Field("member", wrapper_class="mb-1"),
            Hidden("action", "designate"), Hidden("invitation", invitation.pk),
            _submit(_("Enregistrer la désignation"), css_class="btn-outline-primary btn-sm"),
            action=action)


# ---------------------------------------------------------------------------
# The day: presence, then the deliberation
# ---------------------------------------------------------------------------
class PresenceForm(forms.Form):
    """Present or absent, for every seat of the session."""

    def __init__(self, *args, seats, action: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.seats = list(seats)
        for seat in self.seats:
            self.fields[f"seat_{seat.pk}"] = forms.ChoiceField(
                label=str(seat.member), choices=PRESENCE_CHOICES, widget=forms.RadioSelect,
                initial=None if seat.present is None else ("present" if seat.present
                                                           else "absent"),
                error_messages={"required": _("Indiquez la présence ou l'absence.")})
        self.helper = _helper(*(InlineRadios(f"seat_{s.pk}") for s in self.seats),
                              _submit(_("Enregistrer la présence")), action=action)
        self.helper.form_id = "presence-form"

    def changes(self) -> list[tuple]:
        """(seat, present) for every seat whose answer differs from what is recorded."""
        result = []
        for seat in self.seats:
            present = self.cleaned_data[f"seat_{seat.pk}"] == "present"
            if seat.present is None or seat.present != present:
                result.append((seat, present))
        return result


def _outcome_choices(kind: str) -> list:
    choices = Decision._meta.get_field("outcome").choices
    return [c for c in choices if c[0] != "admis_partiel" or kind in KINDS_WITH_PARTIAL]


class DecisionForm(forms.Form):
    outcome = forms.ChoiceField(label=_("Décision"), widget=forms.RadioSelect)
    acquired_blocs = forms.MultipleChoiceField(
        label=_("Blocs de compétences acquis"), required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Validation partielle : les blocs dont toutes les compétences sont "
                    "acquises. « Admis » emporte tous les blocs."))
    evaluation_conform = forms.BooleanField(
        label=_("L'évaluation a été organisée conformément aux règles de la branche "
                "(commission, modalités, signatures, avis)"), required=False)
    admission_conditions_met = forms.BooleanField(
        label=_("Les conditions d'admission du référentiel d'évaluation sont remplies"),
        required=False)
    motive = forms.CharField(
        label=_("Motif"), required=False, widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Obligatoire si le jury s'écarte de la proposition issue des grilles."))

    def __init__(self, *args, kind: str, blocs, action: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["outcome"].choices = _outcome_choices(kind)
        self.fields["acquired_blocs"].choices = [(b.code, f"{b.code} — {b.title}")
                                                 for b in blocs]
        fields = [InlineRadios("outcome")]
        if kind in KINDS_WITH_PARTIAL and blocs:
            fields.append("acquired_blocs")
        else:
            del self.fields["acquired_blocs"]
        fields += ["evaluation_conform", "admission_conditions_met", "motive",
                   _submit(_("Enregistrer la décision"))]
        self.helper = _helper(*fields, action=action)
        self.helper.form_id = "decision-form"


class CorrectionForm(forms.Form):
    outcome = forms.ChoiceField(label=_("Décision corrigée"), widget=forms.RadioSelect)
    acquired_blocs = forms.MultipleChoiceField(
        label=_("Blocs de compétences acquis"), required=False,
        widget=forms.CheckboxSelectMultiple)
    reason = forms.CharField(
        label=_("Motif de la correction"), widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("Indiquez le motif de la correction.")},
        help_text=_("La décision signée reste au procès-verbal ; la correction y est liée."))

    def __init__(self, *args, kind: str, blocs, action: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["outcome"].choices = _outcome_choices(kind)
        self.fields["acquired_blocs"].choices = [(b.code, f"{b.code} — {b.title}")
                                                 for b in blocs]
        fields = [InlineRadios("outcome")]
        if kind in KINDS_WITH_PARTIAL and blocs:
            fields.append("acquired_blocs")
        else:
            del self.fields["acquired_blocs"]
        fields += ["reason", _submit(_("Enregistrer la correction"), css_class="btn-warning")]
        self.helper = _helper(*fields, action=action)
        self.helper.form_id = "correction-form"


class MinutesSignForm(forms.Form):
    consent = forms.BooleanField(
        label=_("Je certifie, en qualité de président du jury, l'exactitude du procès-verbal "
                "ci-dessus et je le signe. Les décisions deviennent définitives."),
        error_messages={"required": _("Cochez la déclaration pour signer.")})
    password = forms.CharField(label=_("Mot de passe"), strip=False,
                               widget=forms.PasswordInput(attrs={"autocomplete":
                                                                 "current-password"}))

    def __init__(self, *args, action: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper("consent", "password", _submit(_("Signer le procès-verbal")),
                              action=action)
        self.helper.form_id = "minutes-form"
