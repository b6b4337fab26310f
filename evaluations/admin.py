"""Admin of grids: everything is readable, nothing of a grid's content is editable here —
grids are filled on the grid page and signed there; reopening is a staff action with a
reason that goes through evaluations.services."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from certifications.admin_scoping import CentreScopedAdminMixin, ReadOnlyInline
from certifications.scoping import staff_centre_ids
from evaluations import services
from evaluations.models import (
    CompetenceResult,
    Decision,
    GeneratedDocument,
    Grid,
    GridEvent,
    Incident,
    Signature,
)


class CompetenceResultInline(ReadOnlyInline):
    model = CompetenceResult
    fields = ["competence", "modality_used", "level", "comment", "revision", "updated_by"]
    readonly_fields = fields
    list_select_related = ("competence", "level", "updated_by")


class SignatureInline(ReadOnlyInline):
    model = Signature
    fields = ["signer_name", "signed_at", "ip_address", "consent_version", "snapshot_sha256",
              "voided_at", "void_reason"]
    readonly_fields = fields


class IncidentInline(ReadOnlyInline):
    model = Incident
    fields = ["kind", "description", "reported_by", "reported_at", "resolution", "resolved_at"]
    readonly_fields = fields
    list_select_related = ("reported_by",)


class EventInline(ReadOnlyInline):
    model = GridEvent
    fields = ["at", "actor", "action", "target", "before", "after", "message"]
    readonly_fields = fields
    list_select_related = ("actor",)


class ReopenForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("Motif de la réouverture"),
                             widget=forms.Textarea(attrs={"rows": 3}))


@admin.register(Grid)
class GridAdmin(CentreScopedAdminMixin, admin.ModelAdmin):
    centre_lookup = "scheduled__commission__centre"
    list_display = ["__str__", "state", "commission_date", "locked_at", "reopen_count"]
    list_filter = ["state"]
    search_fields = ["scheduled__registration__reference",
                     "scheduled__registration__candidate__birth_name"]
    list_select_related = ["scheduled__registration__candidate", "scheduled__commission"]
    fields = ["scheduled", "state", "created_at", "locked_at", "snapshot_sha256", "reopened_at",
              "reopen_count", "reopen_link"]
    readonly_fields = fields
    inlines = [CompetenceResultInline, SignatureInline, IncidentInline, EventInline]

    def get_changelist(self, request, **kwargs):
        changelist = super().get_changelist(request, **kwargs)

        class WithoutSnapshot(changelist):
            # The list shows no signed content: parsing a page of snapshots cost ~60 ms.
            def get_queryset(self, request, exclude_parameters=None):
                return super().get_queryset(request, exclude_parameters).defer("snapshot")

        return WithoutSnapshot

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=gettext_lazy("commission"), ordering="scheduled__commission__date")
    def commission_date(self, grid):
        return grid.scheduled.commission

    @admin.display(description=gettext_lazy("réouverture"))
    def reopen_link(self, grid):
        if not grid.is_locked:
            return "—"
        url = reverse("admin:evaluations_grid_reopen", args=[grid.pk])
        return format_html('<a class="button" href="{}">{}</a>', url, _("Rouvrir la grille"))

    def get_urls(self):
        return [path("<int:pk>/rouvrir/", self.admin_site.admin_view(self.reopen_view),
                     name="evaluations_grid_reopen")] + super().get_urls()

    def reopen_view(self, request, pk: int):
        grid = self.get_queryset(request).filter(pk=pk).first()
        if grid is None or not request.user.has_perm("evaluations.reopen_grid", grid):
            from django.http import Http404

            raise Http404
        form = ReopenForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                services.reopen_grid(grid=grid, actor=request.user,
                                     reason=form.cleaned_data["reason"])
            except ValidationError as error:
                messages.error(request, " ".join(error.messages))
            else:
                messages.success(request, _("Grille rouverte ; les signatures sont invalidées."))
                return redirect("admin:evaluations_grid_change", grid.pk)
        return render(request, "admin/evaluations/grid/reopen.html", {
            **self.admin_site.each_context(request), "opts": self.model._meta, "grid": grid,
            "form": form, "title": _("Rouvrir la grille")})


@admin.register(GridEvent)
class GridEventAdmin(CentreScopedAdminMixin, admin.ModelAdmin):
    """The audit trail: append-only, never edited or deleted through the application."""

    centre_lookup = "grid__scheduled__commission__centre"
    list_display = ["at", "grid", "actor", "action", "target", "before", "after"]
    list_filter = ["action"]
    list_select_related = ["grid__scheduled__registration__candidate", "actor"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(GeneratedDocument)
class GeneratedDocumentAdmin(admin.ModelAdmin):
    list_display = ["kind", "grid", "verification_code", "created_at", "generated_at"]
    list_select_related = ["grid__scheduled__registration__candidate"]
    exclude = ["file"]  # shown as ``stored_file``
    readonly_fields = ["kind", "grid", "verification_code", "content_sha256", "stored_file",
                       "file_sha256", "created_at", "generated_at"]

    @admin.display(description=gettext_lazy("fichier"))
    def stored_file(self, obj):
        # The stored name as text, never a link to the file's URL: on an object store that is a
        # signed URL of the bucket, past the permission-checked download views.
        return obj.file.name or "—"

    def get_queryset(self, request):
        # Grid documents belong to a commission's centre, jury documents to a session's.
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        centres = staff_centre_ids(request.user)
        return queryset.filter(Q(grid__scheduled__commission__centre_id__in=centres)
                               | Q(session__centre_id__in=centres))

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Decision)
class DecisionAdmin(CentreScopedAdminMixin, admin.ModelAdmin):
    """The jury's decisions, read only: they are recorded and corrected on the jury pages
    (evaluations.deliberation), never here."""

    centre_lookup = "registration__centre"
    list_display = ["__str__", "session", "proposition", "decided_by", "decided_at",
                    "final_at"]
    list_filter = ["outcome", "final_at"]
    search_fields = ["registration__reference", "registration__candidate__birth_name"]
    list_select_related = ["registration__candidate", "session_candidate__session",
                           "decided_by"]
    date_hierarchy = "decided_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=gettext_lazy("session"),
                   ordering="session_candidate__session__date")
    def session(self, decision):
        return decision.session_candidate.session

    @admin.display(description=gettext_lazy("proposition"), ordering="proposed_outcome")
    def proposition(self, decision):
        # The field keeps no choices: Django's list showed the stored code (« non_admis »).
        return decision.get_proposed_outcome_display()
