"""Admin of the candidates app. Every business write goes through candidates.services (the
same rules as the staff pages); rows are scoped to the staff member's centres."""

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from simple_history.admin import SimpleHistoryAdmin

from candidates import services
from candidates.models import (
    AccessLink,
    Candidate,
    Company,
    CompanyOpinion,
    CompanyOpinionItem,
    Document,
    OrganisationHabilitation,
    PlannedModality,
    Registration,
    RegistrationEvent,
    RegistrationState,
    TrainingOrganisation,
    TrainingRecord,
    Tutor,
)
from certifications.admin_scoping import CentreScopedAdminMixin, ReadOnlyInline


class TutorInline(admin.TabularInline):
    model = Tutor
    extra = 0


@admin.register(Company)
class CompanyAdmin(CentreScopedAdminMixin, SimpleHistoryAdmin):
    list_display = ["name", "siret", "city", "centre"]
    list_filter = ["centre"]
    search_fields = ["name", "siret", "city"]
    inlines = [TutorInline]


@admin.register(Tutor)
class TutorAdmin(CentreScopedAdminMixin, admin.ModelAdmin):
    centre_lookup = "company__centre"
    list_display = ["__str__", "email", "job_title"]
    search_fields = ["last_name", "first_name", "email", "company__name"]
    autocomplete_fields = ["company"]


@admin.register(Candidate)
class CandidateAdmin(CentreScopedAdminMixin, SimpleHistoryAdmin):
    list_display = ["full_name", "birth_date", "employer", "email", "centre"]
    list_filter = ["centre"]
    search_fields = ["birth_name", "usage_name", "first_names", "email"]
    autocomplete_fields = ["employer"]
    list_select_related = ["employer", "centre"]
    fieldsets = [
        (None, {"fields": ["centre", "birth_name", "usage_name", "first_names", "birth_date",
                           "sex", "email", "phone", "address", "employer"]}),
        (gettext_lazy("Naissance (déclaration à la Caisse des Dépôts)"), {
            "fields": ["birth_commune_code_kind", "birth_commune_code", "birth_commune_name",
                       "birth_country_code"]}),
    ]


class HabilitationInline(admin.TabularInline):
    model = OrganisationHabilitation
    extra = 0
    filter_horizontal = ["certifications"]


@admin.register(TrainingOrganisation)
class TrainingOrganisationAdmin(admin.ModelAdmin):
    list_display = ["name", "city", "siret"]
    search_fields = ["name", "siret"]
    inlines = [HabilitationInline]


class PlannedModalityInline(ReadOnlyInline):
    model = PlannedModality
    fields = ["competence", "modality"]
    readonly_fields = fields
    list_select_related = ("competence",)


class TrainingInline(ReadOnlyInline):
    model = TrainingRecord
    fields = ["organisation", "start_on", "end_on", "hours"]
    readonly_fields = fields
    list_select_related = ("organisation",)


class DocumentInline(ReadOnlyInline):
    model = Document
    fields = ["kind", "version_number", "original_name", "content_type", "size", "uploaded_at",
              "superseded_at"]
    readonly_fields = fields


class EventInline(ReadOnlyInline):
    model = RegistrationEvent
    fields = ["at", "kind", "from_state", "to_state", "who", "message"]
    readonly_fields = fields
    verbose_name_plural = gettext_lazy("chronologie")
    list_select_related = ("actor",)


@admin.register(Registration)
class RegistrationAdmin(CentreScopedAdminMixin, SimpleHistoryAdmin):
    list_display = ["reference", "candidate", "version", "path", "state", "registered_on",
                    "centre"]
    list_filter = ["state", "path", "centre", "version__certification__kind"]
    search_fields = ["reference", "candidate__birth_name", "candidate__usage_name",
                     "candidate__first_names", "company__name"]
    list_select_related = ["candidate", "version__certification", "centre"]
    autocomplete_fields = ["candidate", "company", "tutor"]
    readonly_fields = ["reference", "state", "state_changed_at", "outcome", "training_decision",
                       "training_decision_reason"]
    inlines = [PlannedModalityInline, TrainingInline, DocumentInline, EventInline]
    actions = ["mark_ready", "back_to_registered"]
    date_hierarchy = "registered_on"

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            # The referential version, centre and candidate of a registration never change.
            fields += ["centre", "candidate", "version"]
        return fields

    def save_model(self, request, obj, form, change):
        if change:
            try:
                services.update_dossier(
                    registration=obj, actor=request.user,
                    expected_row_version=Registration.objects.get(pk=obj.pk).row_version,
                    changes={f: getattr(obj, f) for f in services.DOSSIER_FIELDS
                             if f in form.changed_data},
                    modalities={},
                )
            except ValidationError as error:
                messages.error(request, " ".join(error.messages))
            return
        created = services.create_registration(
            actor=request.user, centre=obj.centre, candidate=obj.candidate, version=obj.version,
            path=obj.path, company=obj.company, tutor=obj.tutor,
            registered_on=obj.registered_on,
            **{f: getattr(obj, f) for f in ["job_title", "career_summary", "dossier_notes",
                                            "modalities_agreed_on", "planned_evaluation_on",
                                            "vae_collective"]},
        )
        obj.pk = created.registration.pk
        for warning in created.warnings:
            messages.warning(request, warning)

    def _transition(self, request, queryset, target, reason=""):
        for registration in queryset:
            try:
                services.transition(registration=registration, to_state=target,
                                    actor=request.user, reason=reason)
            except ValidationError as error:
                messages.error(request, f"{registration.reference} : " + " ".join(error.messages))
            else:
                messages.success(request, _("%(ref)s : %(state)s.") % {
                    "ref": registration.reference, "state": RegistrationState(target).label})

    @admin.action(description=gettext_lazy("Passer à « Prêt pour l'évaluation »"))
    def mark_ready(self, request, queryset):
        self._transition(request, queryset, RegistrationState.PRET_EVALUATION)

    @admin.action(description=gettext_lazy("Repasser à « Inscrit » (dossier à reprendre)"))
    def back_to_registered(self, request, queryset):
        self._transition(request, queryset, RegistrationState.INSCRIT,
                         reason=_("Dossier repris depuis l'administration."))


@admin.register(RegistrationEvent)
class RegistrationEventAdmin(CentreScopedAdminMixin, admin.ModelAdmin):
    """The timeline is append-only: readable here, never edited or deleted."""

    centre_lookup = "registration__centre"
    list_display = ["at", "registration", "kind", "from_state", "to_state", "who", "message"]
    list_filter = ["kind"]
    list_select_related = ["registration__candidate", "actor"]
    search_fields = ["registration__reference"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AccessLink)
class AccessLinkAdmin(CentreScopedAdminMixin, admin.ModelAdmin):
    centre_lookup = "registration__centre"
    list_display = ["registration", "purpose", "email", "expires_at", "sent_at", "used_at",
                    "revoked_at"]
    list_filter = ["purpose"]
    fields = list_display
    readonly_fields = list_display
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.action(description=gettext_lazy("Révoquer les liens sélectionnés"))
    def revoke(self, request, queryset):
        for link in queryset:
            services.revoke_link(link=link, actor=request.user)


class OpinionItemInline(ReadOnlyInline):
    model = CompanyOpinionItem
    fields = ["competence", "level", "comment"]
    readonly_fields = fields
    list_select_related = ("competence",)


@admin.register(CompanyOpinion)
class CompanyOpinionAdmin(CentreScopedAdminMixin, SimpleHistoryAdmin):
    centre_lookup = "registration__centre"
    list_display = ["registration", "overall", "given_by_name", "given_at"]
    readonly_fields = ["registration", "link", "given_by_name", "given_by_function", "given_at",
                       "overall", "comment"]
    inlines = [OpinionItemInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
