"""Admin for centres and referentials. Content of a draft version is edited as nested
inlines; once published, everything is read-only (the model layer refuses writes too)."""

import nested_admin
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from simple_history.admin import SimpleHistoryAdmin

from certifications import exchange, services
from certifications.forms import ReferentialImportForm
from certifications.models import (
    Bloc,
    Centre,
    CentreMembership,
    Certification,
    Competence,
    Criterion,
    RatingLevel,
    ReferentialVersion,
)


def _is_locked(obj) -> bool:
    if obj is None:
        return False
    if isinstance(obj, ReferentialVersion):
        return obj.is_locked
    version = getattr(obj, "referential_version", None)
    return bool(version and version.is_locked)


class LockAwareInlineMixin:
    """An inline of a published version can be looked at, never changed."""

    def has_add_permission(self, request, obj=None):
        return not _is_locked(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return not _is_locked(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return not _is_locked(obj) and super().has_delete_permission(request, obj)


class CentreMembershipInline(admin.TabularInline):
    model = CentreMembership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Centre)
class CentreAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "email", "phone"]
    search_fields = ["name", "code"]
    prepopulated_fields = {"code": ["name"]}
    inlines = [CentreMembershipInline]


@admin.register(CentreMembership)
class CentreMembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "centre", "role"]
    list_filter = ["role", "centre"]
    search_fields = ["user__username", "user__last_name", "centre__name"]
    autocomplete_fields = ["user", "centre"]


class VersionLinkInline(admin.TabularInline):
    model = ReferentialVersion
    fields = ["link", "status", "valid_from", "valid_until", "published_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False
    verbose_name_plural = gettext_lazy("Versions du référentiel")

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description=gettext_lazy("version"))
    def link(self, version):
        url = reverse("admin:certifications_referentialversion_change", args=[version.pk])
        return format_html('<a href="{}">{}</a>', url, version.label)


@admin.register(Certification)
class CertificationAdmin(SimpleHistoryAdmin):
    list_display = ["code", "kind", "title", "registry_number", "level", "status", "version_count"]
    list_filter = ["kind", "status", "registry"]
    search_fields = ["code", "title", "registry_number"]
    inlines = [VersionLinkInline]
    change_list_template = "admin/certifications/certification/change_list.html"

    def get_queryset(self, request):
        # An aggregate drops the model's default ordering: restated, or the autocomplete's
        # paginated list is unordered (found by the CSP browser test, issue 8).
        return (super().get_queryset(request).annotate(_version_count=Count("versions"))
                .order_by("kind", "code"))

    @admin.display(description=gettext_lazy("versions"), ordering="_version_count")
    def version_count(self, certification):
        return certification._version_count

    def get_urls(self):
        custom = [
            path(
                "import/",
                self.admin_site.admin_view(self.import_view),
                name="certifications_certification_import",
            ),
        ]
        return custom + super().get_urls()

    def import_view(self, request):
        """Import one or more referential files, all-or-nothing, with a dry run."""
        if not self.has_add_permission(request):
            from django.core.exceptions import PermissionDenied

            raise PermissionDenied
        reports, issues = None, None
        form = ReferentialImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            # The importer checks each size before reading (exchange.parsing.read_limited).
            files = [(f.name, f) for f in form.cleaned_data["files"]]
            dry_run = form.cleaned_data["dry_run"]
            try:
                reports = exchange.import_referentials(files, dry_run=dry_run)
            except exchange.ReferentialFormatError as error:
                issues = error.errors
                messages.error(request, _("Fichier refusé : rien n'a été importé."))
            else:
                if not dry_run:
                    for report in reports:
                        messages.success(request, report.summary())
                    return redirect("admin:certifications_certification_changelist")
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Importer un référentiel"),
            "form": form,
            "reports": reports,
            "issues": issues,
        }
        return render(request, "admin/certifications/certification/import.html", context)


class CriterionInline(LockAwareInlineMixin, nested_admin.NestedTabularInline):
    model = Criterion
    extra = 0
    fields = ["order", "code", "text"]
    sortable_field_name = "order"


class CompetenceInlineBase(LockAwareInlineMixin, nested_admin.NestedStackedInline):
    model = Competence
    extra = 0
    fields = [
        ("order", "code"), "title", "modalities", "conditions", "expected_results", "knowledge",
    ]
    sortable_field_name = "order"
    inlines = [CriterionInline]


class BlocCompetenceInline(CompetenceInlineBase):
    fk_name = "bloc"

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)

        class VersionFromBloc(formset):
            # A competence of a bloc belongs to the bloc's version.
            def save_new(self, form, commit=True):
                form.instance.version_id = self.instance.version_id
                return super().save_new(form, commit=commit)

            def _construct_form(self, i, **kw):
                form = super()._construct_form(i, **kw)
                if self.instance is not None and self.instance.version_id:
                    form.instance.version_id = self.instance.version_id
                return form

        return VersionFromBloc


class DirectCompetenceInline(CompetenceInlineBase):
    """CCPM/CCPI: competences sit directly on the version, without blocs."""

    fk_name = "version"
    verbose_name_plural = gettext_lazy("compétences (sans bloc)")


class BlocInline(LockAwareInlineMixin, nested_admin.NestedStackedInline):
    model = Bloc
    extra = 0
    fields = [("order", "code"), "title", "registry_code", "knowledge", "shared_with"]
    sortable_field_name = "order"
    inlines = [BlocCompetenceInline]


class RatingLevelInline(LockAwareInlineMixin, nested_admin.NestedTabularInline):
    model = RatingLevel
    extra = 0
    fields = ["order", "code", "label", "mastered"]
    sortable_field_name = "order"


@admin.register(ReferentialVersion)
class ReferentialVersionAdmin(nested_admin.NestedModelAdmin):
    list_display = ["__str__", "status", "valid_from", "valid_until", "published_at", "document"]
    list_filter = ["status", "certification__kind"]
    search_fields = ["certification__code", "certification__title", "label"]
    list_select_related = ["certification"]
    autocomplete_fields = ["certification"]
    fields = ["certification", "label", "status", "valid_from", "valid_until", "activities",
              "published_at", "copied_from"]
    readonly_fields = ["status", "published_at", "copied_from"]
    actions = ["publish", "copy", "archive"]

    def has_change_permission(self, request, obj=None):
        return not _is_locked(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return not _is_locked(obj) and super().has_delete_permission(request, obj)

    def get_inlines(self, request, obj):
        if obj is None:
            return [RatingLevelInline]
        if obj.certification.has_blocs:
            return [RatingLevelInline, BlocInline]
        return [RatingLevelInline, DirectCompetenceInline]

    @admin.display(description=gettext_lazy("document"))
    def document(self, version):
        url = reverse("certifications:referential_detail", args=[version.pk])
        return format_html('<a href="{}">{}</a>', url, _("Lire"))

    @admin.action(description=gettext_lazy("Publier les versions sélectionnées"))
    def publish(self, request, queryset):
        for version in queryset:
            try:
                services.publish_version(version=version)
            except ValidationError as error:
                messages.error(request, f"{version} : " + " ".join(error.messages))
            else:
                messages.success(request, _("%(version)s publiée.") % {"version": version})

    @admin.action(description=gettext_lazy("Archiver les versions sélectionnées"))
    def archive(self, request, queryset):
        for version in queryset:
            try:
                services.archive_version(version=version)
            except ValidationError as error:
                messages.error(request, f"{version} : " + " ".join(error.messages))
            else:
                messages.success(request, _("%(version)s archivée.") % {"version": version})

    @admin.action(description=gettext_lazy("Créer une nouvelle version par copie"))
    def copy(self, request, queryset):
        for version in queryset:
            label = services.next_version_label(version)
            new = services.copy_version(version=version, label=label)
            messages.success(request, _("Nouvelle version %(label)s créée en brouillon.")
                             % {"label": new.label})
