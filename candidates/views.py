"""Staff pages of the candidates app: the list, the registration page and its actions.

Only the gestionnaires of the registration's centre see or change anything here; anyone
else gets a 404, never a hint that the page exists (DESIGN.md §2). Views parse, check,
call a service or a selector, and render (STYLE.md §3).
"""

import rules
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from candidates import selectors, services, uploads
from candidates.downloads import document_response
from candidates.forms import (
    CandidateForm,
    CompanyForm,
    DocumentUploadForm,
    DossierForm,
    LinkIssueForm,
    RegistrationCreateForm,
    TrainingCompleteForm,
    TrainingForm,
    TransitionForm,
    TutorForm,
    VaeAdmissibilityForm,
    WithoutTrainingForm,
    add_service_errors,
)
from candidates.models import (
    PATHS_WITH_EMPLOYER,
    AccessLink,
    Candidate,
    Document,
    Registration,
    RegistrationState,
    TrainingDecision,
    Tutor,
)
from candidates.rules import STAFF_ROLES
from certifications.models import Centre
from certifications.scoping import centres_for, scope_to_centres
from config.pagination import OnePassPaginator

S = RegistrationState
PAGE_SIZE = 25


# ---------------------------------------------------------------------------
# Access
# ---------------------------------------------------------------------------
def staff_centres_or_404(user) -> QuerySet[Centre]:
    """The user's staff centres (evaluated); 404 when there are none."""
    centres = centres_for(user, STAFF_ROLES)
    if not centres:  # evaluates (and caches) the queryset
        raise Http404
    return centres


def _registration_or_404(request, pk: int, *, detail: bool = False) -> Registration:
    """The registration if the user is staff of its centre; 404 otherwise."""
    try:
        if detail:
            registration = selectors.registration_detail(request.user, pk)
        else:
            registration = (selectors.registrations_visible_to(request.user)
                            .select_related("version__certification", "candidate", "tutor",
                                            "centre")
                            .get(pk=pk))
    except Registration.DoesNotExist as exc:
        raise Http404 from exc
    if not rules.has_perm("candidates.manage_registration", request.user, registration):
        raise Http404
    return registration


def _detail_url(registration, anchor: str = "") -> str:
    url = reverse("candidates:registration_detail", args=[registration.pk])
    return f"{url}#{anchor}" if anchor else url


def _show_errors(request, error: ValidationError) -> None:
    for message in error.messages:
        messages.error(request, message)


# ---------------------------------------------------------------------------
# List
# ---------------------------------------------------------------------------
@login_required
def registration_list(request):
    user = request.user
    if not rules.has_perm("candidates.view_registration", user):
        raise Http404
    form = selectors.filter_form(user, request.GET)
    filters = form.filters()
    registrations = selectors.list_page(selectors.registration_list(user, **filters))
    if filters["search"]:
        # A search finds its matches once, for both the count and the page.
        paginator = OnePassPaginator(registrations, PAGE_SIZE, rows=selectors.list_rows(user))
    else:
        # The whole list, or filtered by indexed columns: the count reads an index and the
        # page the first rows of the date index.
        paginator = Paginator(registrations, PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "candidates/registration_list.html", {
        "form": form, "page_obj": page, "query_string": query.urlencode(),
    })


# ---------------------------------------------------------------------------
# New registration, company, tutor
# ---------------------------------------------------------------------------
@login_required
def registration_create(request):
    user = request.user
    centres = staff_centres_or_404(user)
    companies = selectors.companies_visible_to(user)
    post = request.POST if request.method == "POST" else None
    form = RegistrationCreateForm(
        post, initial={key: request.GET.get(key) for key in ("candidate", "company", "tutor")
                       if request.GET.get(key, "").isdigit()},
        centres=centres, candidates=selectors.candidates_visible_to(user),
        companies=companies, tutors=Tutor.objects.filter(company__in=companies),
    )
    centre = centres[0] if len(centres) == 1 else None
    if post is not None and form.is_valid():
        centre = form.cleaned_data["centre"]
    candidate_form = CandidateForm(
        post if form.wants_new_candidate else None, prefix="new", companies=companies,
        instance=Candidate(centre=centre),
    )
    if post is not None and form.is_valid() and (
        not form.wants_new_candidate or candidate_form.is_valid()
    ):
        registration = _create_registration(request, form, candidate_form)
        if registration is not None:
            return redirect(_detail_url(registration))
    elif form.wants_new_candidate:
        candidate_form.is_valid()  # show its errors with the others
    return render(request, "candidates/registration_create.html", {
        "form": form, "candidate_form": candidate_form,
        "cancel_url": reverse("candidates:registration_list"),
    })


def _create_registration(request, form, candidate_form) -> Registration | None:
    data = form.cleaned_data
    try:
        with transaction.atomic():
            candidate = candidate_form.save() if form.wants_new_candidate else data["candidate"]
            company = data["company"]
            if company is None and data["path"] in PATHS_WITH_EMPLOYER:
                company = candidate.employer
            created = services.create_registration(
                actor=request.user, centre=data["centre"], candidate=candidate,
                version=data["version"], path=data["path"], company=company,
                tutor=data["tutor"], registered_on=data["registered_on"],
                planned_evaluation_on=data["planned_evaluation_on"],
            )
    except ValidationError as exc:
        add_service_errors(form, exc)
        return None
    messages.success(request, _("Inscription %(ref)s enregistrée.")
                     % {"ref": created.registration.reference})
    for warning in created.warnings:
        messages.warning(request, warning)
    return created.registration


@login_required
def company_create(request):
    centres = staff_centres_or_404(request.user)
    form = CompanyForm(request.POST or None, centres=centres)
    if request.method == "POST" and form.is_valid():
        company = form.save()
        messages.success(request, _("Entreprise « %(name)s » enregistrée. Ajoutez son tuteur.")
                         % {"name": company.name})
        return redirect("candidates:tutor_create", pk=company.pk)
    return render(request, "candidates/company_create.html", {
        "form": form, "cancel_url": reverse("candidates:registration_create"),
    })


@login_required
def tutor_create(request, pk: int):
    company = get_object_or_404(selectors.companies_visible_to(request.user), pk=pk)
    form = TutorForm(request.POST or None, instance=Tutor(company=company))
    back = f"{reverse('candidates:registration_create')}?company={company.pk}"
    if request.method == "POST" and form.is_valid():
        tutor = form.save()
        messages.success(request, _("Tuteur %(name)s enregistré.")
                         % {"name": f"{tutor.first_name} {tutor.last_name}"})
        return redirect(f"{back}&tutor={tutor.pk}")
    return render(request, "candidates/tutor_create.html", {
        "form": form, "company": company, "cancel_url": back,
    })


# ---------------------------------------------------------------------------
# Registration page
# ---------------------------------------------------------------------------
def _dossier_groups(registration) -> list[dict]:
    """Competences grouped by bloc, each with its planned modality (prefetched data)."""
    planned = {p.competence_id: p for p in registration.planned_modalities.all()}
    groups: list[dict] = []
    for competence in registration.version.competences.all():
        if not groups or groups[-1]["bloc"] != competence.bloc:
            groups.append({"bloc": competence.bloc, "rows": []})
        groups[-1]["rows"].append({"competence": competence,
                                   "planned": planned.get(competence.pk)})
    return groups


def _render_detail(request, registration, *, transition_form=None, without_training_form=None,
                   status: int = 200):
    action = reverse("candidates:registration_transition", args=[registration.pk])
    transition_forms = [
        transition_form if transition_form is not None and transition_form.target == target
        else TransitionForm(registration=registration, target=target, action=action)
        for target in services.allowed_targets(registration)
    ]
    trainings = list(registration.trainings.all())
    can_decide_without_training = (
        registration.state == S.INSCRIT and not trainings
        and registration.training_decision != TrainingDecision.NO_TRAINING
    )
    if without_training_form is None and can_decide_without_training:
        without_training_form = WithoutTrainingForm(
            action=reverse("candidates:without_training", args=[registration.pk]))
    links = list(registration.links.all())
    return render(request, "candidates/registration_detail.html", {
        "registration": registration,
        "candidate": registration.candidate,
        "steps": selectors.progress(registration),
        "dossier_groups": _dossier_groups(registration),
        "dossier_editable": registration.dossier_editable,
        "trainings": trainings,
        "training_editable": registration.dossier_editable,
        "without_training_form": without_training_form if can_decide_without_training else None,
        "vae": getattr(registration, "vae_admissibility", None),
        "documents": list(registration.documents.all()),
        "opinion": getattr(registration, "company_opinion", None),
        "opinion_link": next((link for link in links
                              if link.purpose == "opinion" and link.is_active), None),
        "links": links,
        "events": list(reversed(registration.events.all())),
        "transition_forms": transition_forms,
    }, status=status)


@login_required
def registration_detail(request, pk: int):
    registration = _registration_or_404(request, pk, detail=True)
    return _render_detail(request, registration)


@login_required
@require_POST
def registration_transition(request, pk: int):
    registration = _registration_or_404(request, pk)
    target = request.POST.get("to_state", "")
    if target not in S.values:
        messages.error(request, _("Changement d'état inconnu."))
        return redirect(_detail_url(registration))
    form = TransitionForm(request.POST, registration=registration, target=target,
                          action=request.path)
    if form.is_valid():
        try:
            services.transition(registration=registration, to_state=target,
                                actor=request.user, reason=form.cleaned_data.get("reason", ""))
        except services.TransitionRefused as exc:
            _show_errors(request, exc)
        else:
            messages.success(request, _("État de l'inscription : %(state)s.")
                             % {"state": S(target).label})
            return redirect(_detail_url(registration))
    # Refused: the page again, with the reason the user typed.
    registration = _registration_or_404(request, pk, detail=True)
    return _render_detail(request, registration, transition_form=form)


# ---------------------------------------------------------------------------
# Dossier (step 1)
# ---------------------------------------------------------------------------
@login_required
def dossier_edit(request, pk: int):
    registration = _registration_or_404(request, pk, detail=True)
    companies = selectors.companies_visible_to(request.user).filter(
        centre_id=registration.centre_id)
    form = DossierForm(
        request.POST if request.method == "POST" else None,
        registration=registration, competences=list(registration.version.competences.all()),
        planned={p.competence_id: p.modality for p in registration.planned_modalities.all()},
        companies=companies, tutors=Tutor.objects.filter(company__in=companies),
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.update_dossier(
                registration=registration, actor=request.user,
                expected_row_version=form.cleaned_data["row_version"],
                changes=form.changes(), modalities=form.modalities(),
            )
        except ValidationError as exc:  # ConcurrentEdit included: the input stays on screen
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Dossier enregistré."))
            return redirect(_detail_url(registration, "dossier"))
    return render(request, "candidates/dossier_edit.html", {
        "registration": registration, "form": form,
        "editable": registration.dossier_editable,
        "cancel_url": _detail_url(registration, "dossier"),
    })


# ---------------------------------------------------------------------------
# Step 2 and VAE recevabilité
# ---------------------------------------------------------------------------
@login_required
def training_create(request, pk: int):
    registration = _registration_or_404(request, pk)
    form = TrainingForm(request.POST or None,
                        competences=registration.version.competences_in_order())
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.record_training(
                registration=registration, actor=request.user,
                organisation=data["organisation"], start_on=data["start_on"],
                end_on=data["end_on"], hours=data["hours"],
                competences=list(data["competences"]), notes=data["notes"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Formation enregistrée."))
            return redirect(_detail_url(registration, "formation"))
    return render(request, "candidates/training_create.html", {
        "registration": registration, "form": form,
        "cancel_url": _detail_url(registration, "formation"),
    })


@login_required
@require_POST
def training_complete(request, pk: int, training_pk: int):
    registration = _registration_or_404(request, pk)
    record = get_object_or_404(registration.trainings, pk=training_pk)
    form = TrainingCompleteForm(request.POST)
    if form.is_valid():
        try:
            services.complete_training(record=record, actor=request.user,
                                       end_on=form.cleaned_data["end_on"])
        except ValidationError as exc:
            _show_errors(request, exc)
        else:
            messages.success(request, _("Fin de formation enregistrée."))
    else:
        messages.error(request, _("Indiquez une date de fin valide."))
    return redirect(_detail_url(registration, "formation"))


@login_required
@require_POST
def without_training(request, pk: int):
    registration = _registration_or_404(request, pk)
    form = WithoutTrainingForm(request.POST, action=request.path)
    if form.is_valid():
        try:
            services.decide_without_training(registration=registration, actor=request.user,
                                             reason=form.cleaned_data["reason"])
        except ValidationError as exc:
            _show_errors(request, exc)
        else:
            messages.success(request, _("Décision « sans formation » enregistrée."))
            return redirect(_detail_url(registration, "formation"))
    registration = _registration_or_404(request, pk, detail=True)
    return _render_detail(request, registration, without_training_form=form)


@login_required
def vae_admissibility(request, pk: int):
    registration = _registration_or_404(request, pk)
    if not registration.is_vae:
        raise Http404
    decision = getattr(registration, "vae_admissibility", None)
    initial = {}
    if decision is not None:
        initial = {"decided_on": decision.decided_on,
                   "experience_months": decision.experience_months,
                   "experience_description": decision.experience_description,
                   "accepted": "yes" if decision.accepted else "no", "reason": decision.reason}
    form = VaeAdmissibilityForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.record_vae_admissibility(registration=registration, actor=request.user,
                                              **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Recevabilité enregistrée."))
            return redirect(_detail_url(registration, "vae"))
    return render(request, "candidates/vae_admissibility_edit.html", {
        "registration": registration, "form": form,
        "cancel_url": _detail_url(registration, "vae"),
    })


# ---------------------------------------------------------------------------
# Documents
# ---------------------------------------------------------------------------
@login_required
@uploads.capped_upload
def document_upload(request, pk: int):
    registration = _registration_or_404(request, pk)
    current = registration.documents.filter(superseded_at__isnull=True)
    replaced = None
    if request.GET.get("remplace", "").isdigit():
        replaced = current.filter(pk=request.GET["remplace"]).first()
    initial = {"replaces": replaced, "kind": replaced.kind} if replaced else {}
    form = DocumentUploadForm(request.POST or None, request.FILES or None, initial=initial,
                              current_documents=current,
                              too_large=getattr(request, "upload_too_large", False))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            document = services.upload_document(
                registration=registration, kind=data["kind"], uploaded=data["file"],
                actor=request.user, replaces=data["replaces"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Document « %(name)s » déposé (version %(n)s).")
                             % {"name": document.original_name, "n": document.version_number})
            return redirect(_detail_url(registration, "documents"))
    return render(request, "candidates/document_upload.html", {
        "registration": registration, "form": form,
        "cancel_url": _detail_url(registration, "documents"),
    })


@login_required
def document_download(request, pk: int):
    documents = scope_to_centres(Document.objects.all(), request.user,
                                 field="registration__centre", roles=STAFF_ROLES)
    return document_response(get_object_or_404(documents, pk=pk))


# ---------------------------------------------------------------------------
# Personal links
# ---------------------------------------------------------------------------
@login_required
@require_POST
def link_issue(request, pk: int):
    registration = _registration_or_404(request, pk)
    form = LinkIssueForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Objet du lien inconnu."))
        return redirect(_detail_url(registration, "liens"))
    try:
        link = services.issue_link(registration=registration,
                                   purpose=form.cleaned_data["purpose"], actor=request.user)
    except ValidationError as exc:
        _show_errors(request, exc)
    else:
        messages.success(request, _("%(purpose)s : lien envoyé à %(email)s.")
                         % {"purpose": link.get_purpose_display(), "email": link.email})
    return redirect(_detail_url(registration, "liens"))


@login_required
@require_POST
def link_revoke(request, pk: int):
    links = scope_to_centres(AccessLink.objects.select_related("registration"), request.user,
                             field="registration__centre", roles=STAFF_ROLES)
    link = get_object_or_404(links, pk=pk)
    services.revoke_link(link=link, actor=request.user)
    messages.success(request, _("Lien révoqué."))
    return redirect(_detail_url(link.registration, "liens"))
