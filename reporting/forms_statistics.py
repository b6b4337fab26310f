"""The filters of the statistics page, its exports and the annual report."""

import datetime

from crispy_forms.bootstrap import StrictButton
from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Layout, Row
from django import forms
from django.utils.translation import gettext_lazy as _

from candidates.forms import CertificationChoiceField, DateInput
from candidates.models import Path
from certifications.models import Centre, Certification, CertificationKind
from config.widgets import FastSelect
from reporting.statistics import Filters, Scope, default_period


class StatisticsFilterForm(forms.Form):
    start = forms.DateField(label=_("Du"), required=False, widget=DateInput)
    end = forms.DateField(label=_("Au"), required=False, widget=DateInput)
    certification = CertificationChoiceField(
        label=_("Certification"), queryset=Certification.objects.none(), required=False,
        empty_label=_("Toutes"), widget=FastSelect)
    kind = forms.ChoiceField(label=_("Type"), required=False, widget=FastSelect,
                             choices=[("", _("Tous")), *CertificationKind.choices])
    path = forms.ChoiceField(label=_("Parcours"), required=False, widget=FastSelect,
                             choices=[("", _("Tous")), *Path.choices])
    centre = forms.ModelChoiceField(label=_("Centre"), queryset=Centre.objects.none(),
                                    required=False, empty_label=_("Tous"), widget=FastSelect)

    def __init__(self, *args, scope: Scope, **kwargs):
        super().__init__(*args, **kwargs)
        self.scope = scope
        self.fields["certification"].queryset = Certification.objects.order_by("kind", "code")
        centres = Centre.objects.order_by("name")
        if scope.centre_ids is not None:
            centres = centres.filter(pk__in=scope.centre_ids)
        self.fields["centre"].queryset = centres
        # An unbound form (no filter chosen) shows the default period it computes over.
        self.initial.setdefault("start", default_period()[0])
        self.initial.setdefault("end", default_period()[1])
        columns = [Column(name, css_class="col-6 col-md-4 col-lg-2")
                   for name in ("start", "end", "certification", "kind", "path")]
        # A centre filter for the national role and for staff of several centres.
        if scope.is_national or len(scope.centre_ids) > 1:
            columns.append(Column("centre", css_class="col-6 col-md-4 col-lg-2"))
        else:
            del self.fields["centre"]
        self.helper = FormHelper()
        self.helper.form_method = "get"
        self.helper.disable_csrf = True
        self.helper.form_class = "statistics-filters mb-3"
        self.helper.layout = Layout(Row(
            *columns,
            Column(StrictButton(_("Filtrer"), type="submit", css_class="btn-primary"),
                   css_class="col-6 col-md-4 col-lg-2 d-flex align-items-end mb-3"),
            css_class="g-2"))

    def filters(self) -> Filters:
        """The valid filters; an invalid value (a stale link) is ignored and shown."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        default_start, default_end = default_period()
        start = data.get("start") or default_start
        end = data.get("end") or default_end
        if end < start:
            start, end = end, start
        centre_ids = self.scope.centre_ids
        centre = data.get("centre")
        if centre is not None:
            centre_ids = (centre.pk,)
        certification = data.get("certification")
        return Filters(start=start, end=end, centre_ids=centre_ids,
                       certification_id=certification.pk if certification else None,
                       kind=data.get("kind") or "", path=data.get("path") or "")


def period_label(start: datetime.date, end: datetime.date) -> str:
    return _("du %(start)s au %(end)s") % {"start": start.strftime("%d/%m/%Y"),
                                           "end": end.strftime("%d/%m/%Y")}
