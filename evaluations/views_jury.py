"""The jury paritaire in the browser (DOMAIN.md §6): the staff overview, the creation and
composition of a session (seats, invitations to the unions, designations, candidates), the
session page (presence, quorum, every candidate with proposal and conformity), the synthesis
the jury reads on each candidate with the decision form, the signature of the procès-verbal
and the CPNE bundle sent.

Access: ``selectors_jury.sessions_visible_to`` finds the sessions of the centres where the
user is staff and those the user sits on — anyone else gets a 404. Members read; the
president (present) or staff record decisions; only the president signs the PV.
"""

import csv
import datetime
import io

import rules
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from candidates.exports import safe_cell
from candidates.models import Registration
from certifications.models import Role
from certifications.scoping import centres_for, has_role, staff_centre_ids
from commissions import juries
from commissions.models import College, JuryMember, JurySession, SessionStatus
from commissions.views import posted
from evaluations import deliberation, documents_jury, selectors_jury
from evaluations.forms_jury import (
    CorrectionForm,
    DecisionForm,
    DesignationForm,
    InvitationForm,
    MinutesSignForm,
    PresenceForm,
    SeatForm,
    SessionForm,
)
from evaluations.models import Decision

HELD_PAGE_SIZE = 20
SORT_LABELS = {"nom": gettext_lazy("Candidat"), "certification": gettext_lazy("Certification"),
               "proposition": gettext_lazy("Proposition"),
               "conformite": gettext_lazy("Conformité")}
SORT_KEYS = list(selectors_jury.SORTS)


# ---------------------------------------------------------------------------
# Access
# ---------------------------------------------------------------------------
def session_or_404(request, pk: int, permission: str = "evaluations.see_session"
                   ) -> JurySession:
    try:
        session = selectors_jury.session_for_page(request.user, pk)
    except JurySession.DoesNotExist as exc:
        raise Http404 from exc
    if not rules.has_perm(permission, request.user, session):
        raise Http404
    return session


def require(request, permission: str, session: JurySession) -> None:
    """A reader of the session who may not act gets a 403 (the page exists for them)."""
    if not rules.has_perm(permission, request.user, session):
        raise PermissionDenied


def is_jury_member(user) -> bool:
    return has_role(user, Role.JURY) or JuryMember.objects.filter(user=user).exists()


def show_errors(request, exc: ValidationError) -> None:
    for message in exc.messages:
        messages.error(request, message)


def session_url(session: JurySession, anchor: str = "") -> str:
    url = reverse("juries:session_detail", args=[session.pk])
    return f"{url}#{anchor}" if anchor else url


def _client_ip(request) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


# ---------------------------------------------------------------------------
# Lists
# ---------------------------------------------------------------------------
@login_required
def session_list(request):
    """Staff overview: sessions to prepare, open, held; outcomes; CPNE bundles to send."""
    if not staff_centre_ids(request.user):
        if is_jury_member(request.user):
            return redirect("juries:my_sessions")
        raise Http404
    overview = selectors_jury.staff_overview(request.user)
    held = Paginator(overview.held, HELD_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "juries/session_list.html", {
        "overview": overview, "page_obj": held, "query_string": "",
        "today": timezone.localdate(),
        "centre_count": len(staff_centre_ids(request.user)),
    })


@login_required
def my_sessions(request):
    if not is_jury_member(request.user):
        raise Http404
    return render(request, "juries/session_mine.html", {
        "sessions": selectors_jury.sessions_of_member(request.user),
    })


@login_required
def session_create(request):
    centres = centres_for(request.user, [Role.STAFF])
    if not centres:
        raise Http404
    form = SessionForm(posted(request), centres=centres,
                       instance=JurySession(created_by=request.user))
    if request.method == "POST" and form.is_valid():
        session = form.save()
        messages.success(request, _("%(s)s créée. Composez le jury, invitez les organisations "
                                    "syndicales et ajoutez les candidats.") % {"s": session})
        return redirect("juries:session_compose", pk=session.pk)
    return render(request, "juries/session_create.html", {
        "form": form, "cancel_url": reverse("juries:session_list"),
    })


# ---------------------------------------------------------------------------
# Composition (staff)
# ---------------------------------------------------------------------------
def _available_members(session: JurySession):
    return (JuryMember.objects.filter(centre_id=session.centre_id, is_active=True)
            .exclude(seats__session=session).select_related("user")
            .order_by("college", "user__last_name"))


def _compose_url(session: JurySession, anchor: str) -> str:
    return reverse("juries:session_compose", args=[session.pk]) + f"#{anchor}"


@login_required
def session_compose(request, pk: int):
    session = session_or_404(request, pk, "evaluations.manage_session")
    bound = {}
    if request.method == "POST":
        handler = COMPOSE_ACTIONS.get(request.POST.get("action", ""))
        if handler is None:
            messages.error(request, _("Action inconnue."))
            return redirect("juries:session_compose", pk=session.pk)
        result = handler(request, session)
        if isinstance(result, HttpResponse):
            return result
        bound = result
        session = session_or_404(request, pk, "evaluations.manage_session")
    return render(request, "juries/session_compose.html",
                  _compose_context(request, session, bound))


def _compose_context(request, session: JurySession, bound: dict) -> dict:
    today = timezone.localdate()
    members = _available_members(session)
    invitations = list(session.invitations.select_related("designated__user")
                       .order_by("organisation"))
    for invitation in invitations:
        invitation.form = (bound.get(f"designation-{invitation.pk}")
                           or DesignationForm(invitation=invitation, members=members))
    seats = list(session.seats.all())
    return {
        "session": session,
        "editable": session.status == SessionStatus.PLANNED,
        "seats": seats,
        "seat_form": bound.get("seat") or SeatForm(members=members),
        "invitations": invitations,
        "invitation_form": bound.get("invitation") or InvitationForm(initial={
            InvitationForm.key(i.organisation): i.email for i in invitations}),
        "invitation_problems": juries.invitation_problems(session, today),
        "convocation_warning": juries.convocation_warning(session, today),
        "convocations_pending": any(seat.convocation_sent_at is None for seat in seats),
        "seat_warnings": [(seat, juries.convocation_warning(
            session, timezone.localdate(seat.convocation_sent_at)))
            for seat in seats if seat.convocation_sent_at],
        "candidates": list(session.candidates.select_related(
            "registration__candidate", "registration__version__certification")
            .order_by("registration__candidate__birth_name")),
        "ready": selectors_jury.ready_for_session(session),
        "quorum_problems": juries.quorum_problems(seats),
    }


def _posted_id(request, name: str) -> int:
    value = request.POST.get(name, "")
    if not value.isdigit():
        raise Http404
    return int(value)


def _add_seat(request, session):
    form = SeatForm(request.POST, members=_available_members(session))
    if form.is_valid():
        try:
            seat = juries.add_seat(session=session, member=form.cleaned_data["member"],
                                   president=form.cleaned_data["president"])
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("%(m)s siège au jury.") % {"m": seat.member})
            return redirect(_compose_url(session, "composition"))
    return {"seat": form}


def _invite(request, session):
    form = InvitationForm(request.POST)
    if form.is_valid():
        try:
            invitations = juries.invite_unions(session=session, addresses=form.addresses(),
                                               actor=request.user)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Invitations à désigner envoyées à : %(orgs)s.")
                             % {"orgs": ", ".join(i.organisation for i in invitations)})
            return redirect(_compose_url(session, "invitations"))
    return {"invitation": form}


def _designate(request, session):
    invitation = get_object_or_404(session.invitations, pk=_posted_id(request, "invitation"))
    form = DesignationForm(request.POST, invitation=invitation,
                           members=_available_members(session))
    if form.is_valid():
        try:
            seat = juries.record_designation(invitation=invitation,
                                             member=form.cleaned_data["member"])
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("%(org)s a désigné %(m)s, qui siège au jury.")
                             % {"org": invitation.organisation, "m": seat.member})
            return redirect(_compose_url(session, "invitations"))
    return {f"designation-{invitation.pk}": form}


def _add_candidate(request, session):
    registration = get_object_or_404(Registration.objects.filter(centre_id=session.centre_id),
                                     pk=_posted_id(request, "registration"))
    try:
        if selectors_jury.unsigned_grid_exists(registration):
            raise ValidationError(_("%(ref)s a une grille d'évaluation non signée : le jury "
                                    "examine des grilles toutes signées.")
                                  % {"ref": registration.reference})
        juries.add_candidate(session=session, registration=registration)
    except ValidationError as exc:
        show_errors(request, exc)
    else:
        messages.success(request, _("%(ref)s est présenté(e) au jury.")
                         % {"ref": registration.reference})
    return redirect(_compose_url(session, "candidats"))


def _send_convocations(request, session):
    if not session.seats.filter(convocation_sent_at__isnull=True).exists():
        messages.info(request, _("Tous les membres du jury ont déjà reçu leur convocation."))
        return redirect(_compose_url(session, "composition"))
    try:
        warnings = juries.send_convocations(session=session, actor=request.user)
    except ValidationError as exc:
        show_errors(request, exc)
    else:
        messages.success(request, _("Convocations écrites envoyées aux membres qui ne les "
                                    "avaient pas encore reçues."))
        for warning in warnings:
            messages.warning(request, warning)
    return redirect(_compose_url(session, "composition"))


COMPOSE_ACTIONS = {
    "add_seat": _add_seat,
    "invite": _invite,
    "designate": _designate,
    "add_candidate": _add_candidate,
    "send_convocations": _send_convocations,
}


# ---------------------------------------------------------------------------
# The session page, presence and opening
# ---------------------------------------------------------------------------
def _sort_headers(current: str) -> list[dict]:
    """The sortable columns: the ``tri`` each header link sets (a second click reverses)."""
    return [{"key": key, "label": label, "tri": f"-{key}" if current == key else key,
             "aria": ("ascending" if current == key else
                      "descending" if current == f"-{key}" else "")}
            for key, label in SORT_LABELS.items()]


@login_required
def session_detail(request, pk: int):
    session = session_or_404(request, pk)
    sort = request.GET.get("tri", "nom")
    if sort.lstrip("-") not in SORT_KEYS:
        sort = "nom"
    user = request.user
    seats = list(session.seats.all())
    rows = selectors_jury.session_rows(session, sort)
    can_presence = rules.has_perm("evaluations.record_presence", user, session)
    can_manage = rules.has_perm("evaluations.manage_session", user, session)
    closed = session.status == SessionStatus.CLOSED
    documents = documents_jury.session_documents(session) if closed else None
    if documents and can_manage:  # a candidate's letters are for the staff only
        for row in rows:
            row.documents = documents["by_registration"].get(row.registration.pk, [])
    editable_presence = can_presence and session.status in (SessionStatus.PLANNED,
                                                            SessionStatus.OPEN)
    return render(request, "juries/session_detail.html", {
        "session": session,
        "seats": seats,
        "rows": rows,
        "sort": sort,
        "sort_headers": _sort_headers(sort),
        "presence_pending": any(seat.present is None for seat in seats),
        "quorum_problems": juries.quorum_problems([s for s in seats if s.present]),
        "presence_form": (PresenceForm(seats=seats, action=reverse(
            "juries:record_presence", args=[session.pk])) if editable_presence else None),
        "can_manage": can_manage,
        "documents": documents,
        "cpne": documents_jury.cpne_status(session) if closed and can_manage else None,
        "can_open": (session.status == SessionStatus.PLANNED
                     and rules.has_perm("evaluations.open_session", user, session)),
        "can_decide": (session.status == SessionStatus.OPEN
                       and rules.has_perm("evaluations.decide_session", user, session)),
        "can_sign": (session.status == SessionStatus.OPEN
                     and rules.has_perm("evaluations.sign_minutes", user, session)),
        "all_decided": bool(rows) and all(row.decision for row in rows),
    })


@require_POST
@login_required
def record_presence(request, pk: int):
    session = session_or_404(request, pk)
    require(request, "evaluations.record_presence", session)
    form = PresenceForm(request.POST, seats=session.seats.all())
    if not form.is_valid():
        messages.error(request, _("Indiquez « présent » ou « absent » pour chaque membre."))
        return redirect(session_url(session, "presence"))
    try:
        for seat, present in form.changes():
            juries.record_presence(seat=seat, present=present)
    except ValidationError as exc:
        show_errors(request, exc)
    else:
        messages.success(request, _("Présence enregistrée."))
    return redirect(session_url(session, "presence"))


@require_POST
@login_required
def open_session(request, pk: int):
    session = session_or_404(request, pk)
    require(request, "evaluations.open_session", session)
    try:
        juries.open_session(session=session, actor=request.user)
    except ValidationError as exc:
        show_errors(request, exc)
    else:
        messages.success(request, _("La délibération est ouverte."))
    return redirect(session_url(session, "candidats"))


# ---------------------------------------------------------------------------
# Synthesis, decision, correction
# ---------------------------------------------------------------------------
def _candidate_or_404(session: JurySession, pk: int):
    try:
        return selectors_jury.session_candidate_for_page(session, pk)
    except session.candidates.model.DoesNotExist as exc:
        raise Http404 from exc


def _decision_form(session, candidate, data, row):
    registration = candidate.registration
    blocs = list(registration.version.blocs.all())
    decision = row.decision
    initial = ({"outcome": decision.outcome, "acquired_blocs": decision.acquired_blocs,
                "evaluation_conform": decision.evaluation_conform,
                "admission_conditions_met": decision.admission_conditions_met,
                "motive": decision.motive} if decision else
               {"outcome": row.proposal.outcome, "acquired_blocs": row.proposal.acquired_blocs,
                "evaluation_conform": row.conform,
                "admission_conditions_met": row.proposal.outcome == deliberation.PASSED})
    return DecisionForm(data, initial=initial, kind=registration.version.certification.kind,
                        blocs=blocs, action=reverse("juries:decide",
                                                    args=[session.pk, candidate.pk]))


def _correction_form(session, candidate, data):
    registration = candidate.registration
    return CorrectionForm(data, kind=registration.version.certification.kind,
                          blocs=list(registration.version.blocs.all()),
                          action=reverse("juries:correct", args=[session.pk, candidate.pk]))


def _render_synthesis(request, session, candidate, *, decision_form=None, correction_form=None,
                      status=200):
    user = request.user
    data = selectors_jury.synthesis(session, candidate)
    row = data["row"]
    can_decide = (session.status == SessionStatus.OPEN
                  and rules.has_perm("evaluations.decide_session", user, session))
    can_correct = (session.status == SessionStatus.CLOSED and row.decision is not None
                   and rules.has_perm("evaluations.correct_decision", user, session))
    if can_decide and decision_form is None:
        decision_form = _decision_form(session, candidate, None, row)
    if can_correct and correction_form is None:
        correction_form = _correction_form(session, candidate, None)
    ids = list(session.candidates.order_by("registration__candidate__birth_name",
                                           "registration__candidate__first_names")
               .values_list("pk", flat=True))
    index = ids.index(candidate.pk)
    return render(request, "juries/candidate_synthesis.html", {
        **data,
        "session": session,
        "candidate": candidate,
        "can_manage": rules.has_perm("evaluations.manage_session", user, session),
        "decision_form": decision_form if can_decide else None,
        "correction_form": correction_form if can_correct else None,
        "previous_pk": ids[index - 1] if index > 0 else None,
        "next_pk": ids[index + 1] if index + 1 < len(ids) else None,
        "position": index + 1, "count": len(ids),
    }, status=status)


@login_required
def synthesis(request, pk: int, session_candidate_pk: int):
    session = session_or_404(request, pk)
    candidate = _candidate_or_404(session, session_candidate_pk)
    return _render_synthesis(request, session, candidate)


@require_POST
@login_required
def decide(request, pk: int, session_candidate_pk: int):
    session = session_or_404(request, pk)
    require(request, "evaluations.decide_session", session)
    candidate = _candidate_or_404(session, session_candidate_pk)
    if session.status != SessionStatus.OPEN:
        messages.error(request, _("La session doit être ouverte pour délibérer."))
        return redirect("juries:synthesis", pk=session.pk, session_candidate_pk=candidate.pk)
    row = selectors_jury.synthesis(session, candidate)["row"]
    form = _decision_form(session, candidate, request.POST, row)
    if form.is_valid():
        data = form.cleaned_data
        try:
            deliberation.record_decision(
                session_candidate=candidate, actor=request.user, outcome=data["outcome"],
                acquired_blocs=data.get("acquired_blocs") or [],
                evaluation_conform=data["evaluation_conform"],
                admission_conditions_met=data["admission_conditions_met"],
                motive=data["motive"])
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Décision enregistrée pour %(name)s.")
                             % {"name": candidate.registration.candidate.full_name})
            return redirect(session_url(session, f"candidat-{candidate.pk}"))
    return _render_synthesis(request, session, candidate, decision_form=form, status=400)


@require_POST
@login_required
def correct(request, pk: int, session_candidate_pk: int):
    session = session_or_404(request, pk)
    require(request, "evaluations.correct_decision", session)
    candidate = _candidate_or_404(session, session_candidate_pk)
    decision = get_object_or_404(Decision, session_candidate=candidate,
                                 superseded_by__isnull=True, final_at__isnull=False)
    form = _correction_form(session, candidate, request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            deliberation.correct_decision(decision=decision, actor=request.user,
                                          outcome=data["outcome"],
                                          acquired_blocs=data.get("acquired_blocs") or [],
                                          reason=data["reason"])
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Correction enregistrée ; l'inscription et sa "
                                        "chronologie sont mises à jour."))
            return redirect("juries:synthesis", pk=session.pk,
                            session_candidate_pk=candidate.pk)
    return _render_synthesis(request, session, candidate, correction_form=form, status=400)


# ---------------------------------------------------------------------------
# Procès-verbal and CPNE bundle
# ---------------------------------------------------------------------------
@login_required
def sign_minutes(request, pk: int):
    session = session_or_404(request, pk)
    if session.status != SessionStatus.OPEN:
        messages.info(request, _("Le procès-verbal ne se signe que pendant la délibération."))
        return redirect(session_url(session))
    require(request, "evaluations.sign_minutes", session)
    form = MinutesSignForm(posted(request),
                           action=reverse("juries:sign_minutes", args=[session.pk]))
    if request.method == "POST" and form.is_valid():
        try:
            deliberation.sign_minutes(session=session, actor=request.user,
                                      password=form.cleaned_data["password"],
                                      ip=_client_ip(request))
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Procès-verbal signé : les décisions sont définitives "
                                        "et les inscriptions délibérées."))
            return redirect(session_url(session))
    rows = selectors_jury.session_rows(session)
    return render(request, "juries/minutes_sign.html", {
        "session": session, "seats": list(session.seats.all()), "rows": rows, "form": form,
        "missing": [row for row in rows if row.decision is None],
    })


@require_POST
@login_required
def cpne_sent(request, pk: int):
    session = session_or_404(request, pk, "evaluations.manage_session")
    try:
        juries.mark_cpne_bundle_sent(session=session)
    except ValidationError as exc:
        show_errors(request, exc)
    else:
        messages.success(request, _("Dossier CPNE du jury du %(date)s marqué comme envoyé.")
                         % {"date": session.date.strftime("%d/%m/%Y")})
    return redirect("juries:session_list")


# ---------------------------------------------------------------------------
# CPREFP export: composition and provisional calendar of the juries (DOMAIN.md §6)
# ---------------------------------------------------------------------------
CPREFP_PAST_DAYS = 90


def _members(seats, college: str) -> str:
    return ", ".join(f"{safe_cell(str(seat.member))} ({safe_cell(seat.member.organisation)})"
                     for seat in seats if seat.member.college == college)


def _cprefp_row(session: JurySession) -> list[str]:
    seats = sorted(session.seats.all(), key=lambda s: (s.member.user.last_name, s.pk))
    invitations = sorted(session.invitations.all(), key=lambda i: i.organisation)
    president = next((str(seat.member) for seat in seats if seat.is_president), "")
    invited = ", ".join(
        _("%(org)s (invitée le %(date)s)") % {
            "org": i.organisation,
            "date": timezone.localdate(i.sent_at).strftime("%d/%m/%Y")}
        if i.sent_at else _("%(org)s (invitation non envoyée)") % {"org": i.organisation}
        for i in invitations)
    certifications = ", ".join(f"{c.kind} {c.code}" for c in sorted(
        session.certifications.all(), key=lambda c: (c.kind, c.code)))
    return [session.centre.name, session.date.strftime("%d/%m/%Y"),
            session.start_time.strftime("%H:%M"), session.place, certifications, president,
            _members(seats, College.EMPLOYERS), _members(seats, College.EMPLOYEES), invited,
            session.get_status_display()]


@login_required
def cprefp_export(request):
    """The sessions of the staff's centres from 90 days ago onwards, as CSV for the CPREFP
    (``;`` separated, BOM for Excel, every cell through ``safe_cell``)."""
    centre_ids = staff_centre_ids(request.user)
    if not centre_ids:
        raise Http404
    since = timezone.localdate() - datetime.timedelta(days=CPREFP_PAST_DAYS)
    sessions = (JurySession.objects.filter(centre_id__in=centre_ids, date__gte=since)
                .select_related("centre")
                .prefetch_related("certifications", "invitations", "seats__member__user")
                .order_by("date", "start_time", "pk"))
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";")
    writer.writerow([_("Centre"), _("Date"), _("Heure"), _("Lieu"), _("Certifications"),
                     _("Président"), _("Membres collège employeurs"),
                     _("Membres collège salariés"), _("Organisations invitées"),
                     _("Statut")])
    for session in sessions:
        writer.writerow([safe_cell(str(value)) for value in _cprefp_row(session)])
    response = HttpResponse("\ufeff" + buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="export-cprefp-{timezone.localdate():%Y%m%d}.csv"')
    return response
