"""Admin of evaluators and commissions. Members and candidates are added through the same
services as the staff pages: the impartiality, charter and habilitation rules are checked
in the inline formsets' validation and again by the service when saving."""

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.forms.models import BaseInlineFormSet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice
from simple_history.admin import SimpleHistoryAdmin

from candidates.models import Registration, RegistrationState
from certifications.admin_scoping import CentreScopedAdminMixin
from commissions import juries, services
from commissions.models import (
    CharterAcceptance,
    CharterVersion,
    Commission,
    CommissionMember,
    ConflictDeclaration,
    Evaluator,
    EvaluatorApplication,
    Habilitation,
    JuryMember,
    JurySession,
    MemberRole,
    ScheduledCandidate,
    Seat,
    SessionCandidate,
    SessionStatus,
    Unavailability,
    UnionInvitation,
)


class HabilitationInline(admin.TabularInline):
    model = Habilitation
    extra = 0
    filter_horizontal = ["certifications"]


class UnavailabilityInline(admin.TabularInline):
    model = Unavailability
    extra = 0


class ConflictInline(admin.TabularInline):
    model = ConflictDeclaration
    extra = 0
    autocomplete_fields = ["company", "candidate"]


class CharterAcceptanceInline(admin.TabularInline):
    model = CharterAcceptance
    extra = 0
    can_delete = False
    readonly_fields = ["charter", "accepted_at", "ip_address"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Evaluator)
class EvaluatorAdmin(CentreScopedAdminMixin, SimpleHistoryAdmin):
    list_display = ["__str__", "profession", "employer_name", "is_active", "last_training_on"]
    list_filter = ["is_active", "centre"]
    search_fields = ["user__last_name", "user__first_name", "employer_name", "profession"]
    autocomplete_fields = ["user"]
    list_select_related = ["user"]
    inlines = [HabilitationInline, UnavailabilityInline, ConflictInline, CharterAcceptanceInline]


@admin.register(CharterVersion)
class CharterVersionAdmin(admin.ModelAdmin):
    list_display = ["label", "published_at"]

    def has_change_permission(self, request, obj=None):
        # An accepted charter never changes: publish a new version instead.
        if obj is not None and obj.acceptances.exists():
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False


class ServiceFormSet(BaseInlineFormSet):
    """New rows are validated by the service's rules and created by the service; an existing
    row whose evaluator or registration is replaced is an assignment too."""

    assigning_field = ""

    def problems_for(self, form) -> list[str]:
        return []

    def clean(self):
        super().clean()
        if self.instance.pk is None:
            return
        for form in self.forms:
            if form in self.extra_forms:
                if not form.has_changed():
                    continue
            elif self.assigning_field not in form.changed_data:
                continue
            if form.cleaned_data.get("DELETE"):
                continue
            for message in self.problems_for(form):
                form.add_error(None, message)


class MemberFormSet(ServiceFormSet):
    assigning_field = "evaluator"

    def clean(self):
        super().clean()
        presidents = []
        for form in self.forms:
            data = getattr(form, "cleaned_data", None) or {}
            if form in self.extra_forms and not form.has_changed():
                continue
            if not data.get("DELETE") and data.get("role") == MemberRole.PRESIDENT:
                presidents.append(form)
        # The row that keeps its role stays president; the one that changed gets the error.
        presidents.sort(key=lambda form: form in self.extra_forms or "role" in form.changed_data)
        for form in presidents[1:]:
            form.add_error("role", _("La commission a déjà un président."))

    def problems_for(self, form):
        evaluator = form.cleaned_data.get("evaluator")
        if evaluator is None:
            return []
        return [p.message for p in services.member_problems(evaluator, self.instance)]


class ScheduledFormSet(ServiceFormSet):
    assigning_field = "registration"

    def problems_for(self, form):
        registration = form.cleaned_data.get("registration")
        if registration is None:
            return []
        problems = []
        if registration.state != RegistrationState.PRET_EVALUATION:
            problems.append(_("Seuls les candidats « prêts pour l'évaluation » peuvent être "
                              "convoqués."))
        conflicts, _linked = services.candidate_conflicts(self.instance, registration)
        return problems + [p.message for p in conflicts]


class MemberInline(admin.TabularInline):
    model = CommissionMember
    formset = MemberFormSet
    extra = 0
    fields = ["evaluator", "role", "answer", "convocation_sent_at", "override_justification"]
    readonly_fields = ["answer", "convocation_sent_at", "override_justification"]
    autocomplete_fields = ["evaluator"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("evaluator__user")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "evaluator":  # its label is the user's name
            kwargs["queryset"] = Evaluator.objects.select_related("user")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class ScheduledInline(admin.TabularInline):
    model = ScheduledCandidate
    formset = ScheduledFormSet
    extra = 0
    fields = ["registration", "start_time", "end_time", "convocation_sent_at"]
    readonly_fields = ["convocation_sent_at"]
    autocomplete_fields = ["registration"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("registration__candidate")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "registration":  # its label is the candidate's name
            kwargs["queryset"] = Registration.objects.select_related("candidate")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(Commission)
class CommissionAdmin(CentreScopedAdminMixin, SimpleHistoryAdmin):
    list_display = ["__str__", "centre", "place", "status", "member_count"]
    list_filter = ["status", "centre", "certifications__kind"]
    date_hierarchy = "date"
    filter_horizontal = ["certifications"]
    inlines = [MemberInline, ScheduledInline]
    actions = ["confirm"]

    def get_queryset(self, request):
        # A correlated count, computed for the rows shown: a GROUP BY counted the members
        # of every commission before the page's LIMIT, and burdened the list's COUNT and
        # date hierarchy with the same join (≈ 11 ms over 3 700 commissions at N=20).
        members = (CommissionMember.objects.filter(commission=OuterRef("pk")).order_by()
                   .values("commission").annotate(n=Count("pk")).values("n"))
        return super().get_queryset(request).annotate(
            member_total=Coalesce(Subquery(members), 0))

    @admin.display(description=gettext_lazy("membres"), ordering="member_total")
    def member_count(self, commission):
        return commission.member_total

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    def save_formset(self, request, form, formset, change):
        if formset.model not in (CommissionMember, ScheduledCandidate):
            return super().save_formset(request, form, formset, change)
        commission = form.instance
        # The admin's change message reads what formset.save() would have recorded.
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for deleted in formset.deleted_forms:
            if deleted.instance.pk:
                formset.deleted_objects.append(deleted.instance)
                if formset.model is CommissionMember:
                    services.remove_member(member=deleted.instance, actor=request.user)
                else:
                    services.unschedule_candidate(scheduled=deleted.instance, actor=request.user)
        for row in formset.forms:
            if row in formset.deleted_forms or not row.has_changed():
                continue
            data = row.cleaned_data
            try:
                if row.instance.pk:
                    formset.changed_objects.append((row.save(), row.changed_data))
                elif formset.model is CommissionMember:
                    formset.new_objects.append(services.add_member(
                        commission=commission, evaluator=data["evaluator"],
                        role=data["role"], actor=request.user))
                else:
                    formset.new_objects.append(services.schedule_candidate(
                        commission=commission, registration=data["registration"],
                        start_time=data["start_time"], end_time=data.get("end_time"),
                        actor=request.user))
            except ValidationError as error:
                messages.error(request, " ".join(error.messages))

    @admin.action(description=gettext_lazy("Confirmer et envoyer les convocations"))
    def confirm(self, request, queryset):
        for commission in queryset:
            try:
                services.confirm_commission(commission=commission, actor=request.user)
            except ValidationError as error:
                messages.error(request, f"{commission} : " + " ".join(error.messages))
            else:
                messages.success(request, _("%(c)s confirmée, convocations envoyées.")
                                 % {"c": commission})


@admin.register(EvaluatorApplication)
class EvaluatorApplicationAdmin(CentreScopedAdminMixin, admin.ModelAdmin):
    list_display = ["__str__", "employer_name", "profession", "submitted_at", "status"]
    list_filter = ["status", "centre"]
    search_fields = ["last_name", "first_name", "email", "employer_name"]
    readonly_fields = ["status", "reviewed_by", "reviewed_at", "evaluator", "submitted_at"]
    actions = ["approve"]

    @admin.action(description=gettext_lazy("Accepter (crée le compte et le profil)"))
    def approve(self, request, queryset):
        for application in queryset:
            try:
                services.approve_application(application=application, actor=request.user)
            except ValidationError as error:
                messages.error(request, f"{application} : " + " ".join(error.messages))


# ---------------------------------------------------------------------------
# Juries paritaires (DOMAIN.md §6): seats and candidates are added through
# ``commissions.juries`` (president from the employers, only « évalué » candidates…); rows
# already written are read-only here — presence, invitations and decisions have their pages.
# ---------------------------------------------------------------------------
@admin.register(JuryMember)
class JuryMemberAdmin(CentreScopedAdminMixin, SimpleHistoryAdmin):
    list_display = ["__str__", "college", "organisation", "employer_name", "is_active"]
    list_filter = ["college", "is_active", "centre"]
    search_fields = ["user__last_name", "user__first_name", "organisation", "employer_name"]
    autocomplete_fields = ["user"]
    list_select_related = ["user"]


class AddOnlyInline(admin.TabularInline):
    """Existing rows are shown read-only; new rows go through a service (save_formset)."""

    extra = 0
    can_delete = False

    def has_change_permission(self, request, obj=None):
        return False


class SeatInline(AddOnlyInline):
    model = Seat
    fields = ["member", "is_president", "present", "presence_recorded_at", "convocation_sent_at"]
    readonly_fields = ["present", "presence_recorded_at", "convocation_sent_at"]
    autocomplete_fields = ["member"]


class SessionCandidateInline(AddOnlyInline):
    model = SessionCandidate
    fields = ["registration"]
    autocomplete_fields = ["registration"]


class UnionInvitationInline(admin.TabularInline):
    model = UnionInvitation
    extra = 0
    can_delete = False
    fields = ["organisation", "email", "sent_at", "designated", "designated_at"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(JurySession)
class JurySessionAdmin(CentreScopedAdminMixin, SimpleHistoryAdmin):
    list_display = ["__str__", "centre", "place", "status", "cpne_bundle_sent_on"]
    list_filter = ["status", "centre"]
    date_hierarchy = "date"
    filter_horizontal = ["certifications"]
    fields = ["centre", "date", "start_time", "place", "certifications", "status",
              "cpne_bundle_sent_on", "gtp_observations"]
    readonly_fields = ["status", "cpne_bundle_sent_on"]
    inlines = [SeatInline, UnionInvitationInline, SessionCandidateInline]
    actions = ["open_deliberation", "mark_cpne_sent"]

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    def save_formset(self, request, form, formset, change):
        if formset.model not in (Seat, SessionCandidate):
            return super().save_formset(request, form, formset, change)
        session = form.instance
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for row in formset.extra_forms:
            if not row.has_changed():
                continue
            data = row.cleaned_data
            try:
                if formset.model is Seat:
                    created = juries.add_seat(session=session, member=data["member"],
                                              president=data.get("is_president", False))
                else:
                    created = juries.add_candidate(session=session,
                                                   registration=data["registration"])
            except ValidationError as error:
                messages.error(request, " ".join(error.messages))
            else:
                formset.new_objects.append(created)

    @admin.action(description=gettext_lazy("Ouvrir la délibération (présence, quorum, parité)"))
    def open_deliberation(self, request, queryset):
        for session in queryset:
            try:
                juries.open_session(session=session, actor=request.user)
            except ValidationError as error:
                messages.error(request, f"{session} : " + " ".join(error.messages))
            else:
                messages.success(request, _("%(s)s : délibération ouverte.") % {"s": session})

    @admin.action(description=gettext_lazy("Marquer le dossier CPNE comme envoyé"))
    def mark_cpne_sent(self, request, queryset):
        for session in queryset.filter(status=SessionStatus.CLOSED):
            juries.mark_cpne_bundle_sent(session=session)
        messages.success(request, _("Dossiers CPNE marqués comme envoyés."))


# Second-factor devices are reset only through the audited page of commissions/two_factor.py
# (a reason, never one's own account): django-otp's own admin pages would delete them silently.
for _device_model in (TOTPDevice, StaticDevice):
    if admin.site.is_registered(_device_model):
        admin.site.unregister(_device_model)
