"""Staff pages to import a CSV batch of candidates and to export the filtered list.

Gestionnaires only, for their own centres; anyone else gets a 404 (DESIGN.md §2). The work
is done by ``candidates.imports`` and ``candidates.exports``.
"""

import rules
from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from candidates import exports, selectors
from candidates.imports import (
    COLUMNS,
    MAX_BYTES,
    REQUIRED_COLUMNS,
    CandidateImportError,
    import_registrations,
)
from candidates.views import staff_centres_or_404
from certifications.models import Centre

MAX_ERRORS_SHOWN = 500


class RegistrationImportForm(forms.Form):
    file = forms.FileField(
        label=_("Fichier CSV"),
        help_text=_("UTF-8, séparateur « ; » ou « , », une ligne d'en-tête ; 5 Mo et "
                    "5 000 lignes au plus."),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )
    centre = forms.ModelChoiceField(label=_("Centre"), queryset=None, empty_label=None)
    dry_run = forms.BooleanField(
        label=_("Simulation : vérifier et annoncer ce qui serait créé, sans rien enregistrer"),
        required=False, initial=True,
    )

    def __init__(self, *args, centres, **kwargs):
        super().__init__(*args, **kwargs)
        self.centres = centres
        if len(centres) > 1:
            self.fields["centre"].queryset = Centre.objects.filter(
                pk__in=[centre.pk for centre in centres])
        else:
            del self.fields["centre"]
        self.helper = FormHelper()
        self.helper.form_class = "mb-4"
        self.helper.add_input(Submit("submit", _("Envoyer le fichier")))

    def clean_file(self):
        uploaded = self.cleaned_data["file"]
        if uploaded.size > MAX_BYTES:
            raise forms.ValidationError(_("Le fichier dépasse la taille maximale de 5 Mo : "
                                          "découpez-le en plusieurs fichiers."))
        return uploaded

    def clean(self):
        cleaned = super().clean()
        if "centre" not in self.fields:
            cleaned["centre"] = self.centres[0]
        return cleaned


@login_required
def registration_import(request):
    centres = staff_centres_or_404(request.user)
    form = RegistrationImportForm(request.POST or None, request.FILES or None, centres=centres)
    context = {"form": form, "required_columns": REQUIRED_COLUMNS,
               "optional_columns": [c for c in COLUMNS if c not in REQUIRED_COLUMNS]}
    if request.method == "POST" and form.is_valid():
        try:
            context["result"] = import_registrations(
                centre=form.cleaned_data["centre"], actor=request.user,
                data=form.cleaned_data["file"].read(), dry_run=form.cleaned_data["dry_run"],
            )
        except CandidateImportError as error:
            context.update(refused=error, errors=error.errors[:MAX_ERRORS_SHOWN],
                           errors_hidden=max(0, len(error.errors) - MAX_ERRORS_SHOWN))
    return render(request, "candidates/import.html", context)


@login_required
def registration_export(request):
    """The list page's filtered registrations as CSV (default) or XLSX. Read-only: any
    method gets the same answer, so an outsider never sees a 405 hinting at the page."""
    user = request.user
    if not rules.has_perm("candidates.view_registration", user):
        raise Http404
    # The list page's filter form, built the same way, so the export is what the list shows.
    form = selectors.filter_form(user, request.GET)
    registrations = selectors.registration_list(user, **form.filters())
    name = f"inscriptions-{timezone.localdate():%Y%m%d}"
    if request.GET.get("format") == "xlsx":
        response = HttpResponse(exports.xlsx_bytes(registrations),
                                content_type=exports.XLSX_CONTENT_TYPE)
        response["Content-Disposition"] = f'attachment; filename="{name}.xlsx"'
        return response
    response = StreamingHttpResponse(exports.csv_lines(registrations),
                                     content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    return response
