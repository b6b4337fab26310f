"""Demo data of the evaluations app: the grids of the demo's past commission, filled and
signed by both of its members through ``evaluations.services`` — so that their registrations
become « évalué » as they do in real life — and the company avis of those candidates.
Idempotent: a signed grid is left alone."""

import datetime

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone

from candidates import services as candidate_services
from candidates.demo import _demo_pdf
from candidates.models import Candidate, Company, LinkPurpose, OpinionLevel, RegistrationState
from certifications.demo import DEMO_PASSWORD
from certifications.models import Certification, Modality
from commissions import juries
from commissions import services as commission_services
from commissions.demo import _ensure_evaluators, _ensure_jury_members
from commissions.models import (
    Commission,
    CommissionStatus,
    JurySession,
    MemberRole,
    ScheduledCandidate,
)
from evaluations import deliberation, services
from evaluations.models import GridState

# The first candidate of the past commission does not master this competence in full
# autonomy: the jury then sees a validation partielle proposed.
NOT_MASTERED = "C2"
NM_COMMENT = ("Le diagnostic a été posé avec l'aide du tuteur : le candidat n'a pas su "
              "hiérarchiser seul les hypothèses de panne sur le circuit hydraulique.")


def _save(grid, row, field: str, value, actor):
    """One field through the autosave service, at the revision just read (as the page does)."""
    row_kind = "competence" if hasattr(row, "competence_id") else "criterion"
    return services.save_field(grid=grid, row_kind=row_kind, row_id=row.pk, field=field,
                               value=value, revision=row.revision, actor=actor)


def _fill(grid, actor, *, failing: str = "") -> None:
    version = grid.scheduled.registration.version
    levels = {level.mastered: level.pk for level in version.rating_levels.all()}
    for result in services.grid_content(grid):
        fails = result.competence.code == failing
        for index, criterion in enumerate(result.criterion_results.all()):
            criterion = _save(grid, criterion, "satisfied",
                              "non" if fails and index == 0 else "oui", actor)
            if fails and index == 0:
                criterion = _save(grid, criterion, "concerned", "on", actor)
                _save(grid, criterion, "notes", "Localisation de la fuite guidée par le tuteur.",
                      actor)
        result = _save(grid, result, "level", levels[not fails], actor)
        if fails:
            _save(grid, result, "comment", NM_COMMENT, actor)


def _company_opinion(registration, staff_user, *, failing: str = "") -> None:
    """The tutor's avis, given through the personal link as the tutor would."""
    if not registration.company_opinion_applies or hasattr(registration, "company_opinion"):
        return
    link = candidate_services.issue_link(registration=registration,
                                         purpose=LinkPurpose.COMPANY_OPINION, actor=staff_user)
    tutor = registration.tutor
    candidate_services.submit_company_opinion(
        link=link, given_by_name=f"{tutor.first_name} {tutor.last_name}",
        given_by_function=tutor.job_title or "Tuteur", overall="favorable",
        comment="Candidat autonome et rigoureux au poste ; progrès nets sur l'année.",
        items={c.pk: (OpinionLevel.PARTLY if c.code == failing else OpinionLevel.MASTERED, "")
               for c in registration.version.competences.all()})


@transaction.atomic
def seed(*, centre, staff_user, log=print) -> int:
    """Fill and sign the grids of the centre's held commissions that are not signed yet."""
    scheduled = list(ScheduledCandidate.objects
                     .filter(commission__centre=centre, commission__status=CommissionStatus.HELD)
                     .exclude(grid__state=GridState.SIGNED)
                     .select_related("commission", "registration__version__certification",
                                     "registration__tutor")
                     .order_by("commission__date", "start_time"))
    for index, item in enumerate(scheduled):
        members = sorted(item.commission.members.select_related("evaluator__user"),
                         key=lambda m: m.role != MemberRole.PRESIDENT)
        president = members[0].evaluator.user
        failing = NOT_MASTERED if index == 0 else ""
        grid = services.ensure_grid(scheduled=item, actor=president)
        services.record_attendance(grid=grid, attendance="present", actor=president)
        _fill(grid, president, failing=failing)
        services.submit_for_signature(grid=grid, actor=president)
        for member in members:
            services.sign_grid(grid=grid, member=member, password=DEMO_PASSWORD, consent=True,
                               ip="127.0.0.1", user_agent="seed_demo")
        _company_opinion(item.registration, staff_user, failing=failing)
    if scheduled:
        log(f"{len(scheduled)} grille(s) d'évaluation remplie(s) et signée(s).")
    else:
        log("Grilles de démonstration déjà signées.")
    return len(scheduled)


# ---------------------------------------------------------------------------
# Partial results that last (DOMAIN.md §6): a candidate who obtained a validation partielle at
# a jury three months ago and is registered again for the same CQPM — their new dossier, grid
# and jury synthesis show what is carried over, and they download their relevé by their link.
# ---------------------------------------------------------------------------
CARRIED_CANDIDATE = ("Roux", "Inès", "1995-06-17")
CARRIED_CERTIFICATION = "MQ 2018 05 69 0312"
CARRIED_DAYS_AGO = 90  # the first jury; its commission ten days before


def _first_attempt(*, centre, candidate, version, staff_user, evaluators, members,
                   company, today):
    """The first registration, evaluated (one competence not mastered), deliberated and
    notified, through the services as it happened."""
    registration = candidate_services.create_registration(
        actor=staff_user, centre=centre, candidate=candidate, version=version,
        path="salarie", company=company, tutor=company.tutors.first(),
        registered_on=today - datetime.timedelta(days=CARRIED_DAYS_AGO + 100),
        job_title="Technicienne de maintenance").registration
    _ready(registration, staff_user)
    jury_day = today - datetime.timedelta(days=CARRIED_DAYS_AGO)
    commission = Commission.objects.create(
        centre=centre, date=jury_day - datetime.timedelta(days=10),
        start_time=datetime.time(8, 30), end_time=datetime.time(12, 0),
        place="Pôle Formation UIMM, atelier maintenance, Nantes", created_by=staff_user)
    commission.certifications.set([version.certification])
    commission_services.add_member(commission=commission, evaluator=evaluators[0],
                                   role=MemberRole.PRESIDENT, actor=staff_user)
    commission_services.add_member(commission=commission, evaluator=evaluators[1],
                                   actor=staff_user)
    scheduled = commission_services.schedule_candidate(
        commission=commission, registration=registration, start_time=datetime.time(9, 0),
        actor=staff_user)
    commission_services.confirm_commission(commission=commission, actor=staff_user)
    Commission.objects.filter(pk=commission.pk).update(status=CommissionStatus.HELD)
    signers = sorted(commission.members.select_related("evaluator__user"),
                     key=lambda m: m.role != MemberRole.PRESIDENT)
    grid = services.ensure_grid(scheduled=scheduled, actor=signers[0].evaluator.user)
    services.record_attendance(grid=grid, attendance="present", actor=signers[0].evaluator.user)
    failing = version.competences.exclude(bloc=None).order_by("-bloc__order", "order").first()
    _fill(grid, signers[0].evaluator.user, failing=failing.code)
    services.submit_for_signature(grid=grid, actor=signers[0].evaluator.user)
    for member in signers:
        services.sign_grid(grid=grid, member=member, password=DEMO_PASSWORD, consent=True,
                           ip="127.0.0.1", user_agent="seed_demo")
    _company_opinion(registration, staff_user, failing=failing.code)

    session = JurySession.objects.create(
        centre=centre, date=jury_day, start_time=datetime.time(14, 0), created_by=staff_user,
        place="UIMM Loire-Atlantique, salle du conseil, 2 rue de la Métallurgie, Nantes")
    session.certifications.set([version.certification])
    # jury2 presided that day, with the CFDT member (one per collège): jury1's « Mes jurys »
    # keeps the one session the demo's journeys start from.
    juries.add_seat(session=session, member=members["jury2"], president=True)
    invitations = juries.invite_unions(
        session=session, actor=staff_user, today=jury_day - datetime.timedelta(days=20),
        addresses={org: f"jurys@{org.lower().replace(' ', '-')}-metallurgie.example"
                   for org in settings.JURIES["UNIONS"]})
    for invitation in invitations:
        if invitation.organisation == members["jury3"].organisation:
            juries.record_designation(invitation=invitation, member=members["jury3"])
    registration.refresh_from_db()  # « évalué » since its grid locked
    juries.add_candidate(session=session, registration=registration)
    for seat in session.seats.all():
        juries.record_presence(seat=seat, present=True)
    juries.open_session(session=session, actor=staff_user)
    proposal = deliberation.propose(registration, at=jury_day)
    president = members["jury2"].user
    deliberation.record_decision(
        session_candidate=session.candidates.get(), actor=president,
        outcome=proposal.outcome, acquired_blocs=proposal.acquired_blocs,
        evaluation_conform=True, admission_conditions_met=True)
    deliberation.sign_minutes(session=session, actor=president, password=DEMO_PASSWORD,
                              ip="127.0.0.1")
    return registration


def _ready(registration, staff_user) -> None:
    candidate_services.set_planned_modalities(registration=registration, modalities={
        c.pk: (Modality.SITUATION_PROFESSIONNELLE
               if Modality.SITUATION_PROFESSIONNELLE in c.modalities else c.modalities[0])
        for c in registration.version.competences.all()})
    if candidate_services.activity_report_missing(registration):
        candidate_services.upload_document(
            registration=registration, kind="rapport_activites", actor=staff_user,
            uploaded=SimpleUploadedFile("rapport-activites.pdf",
                                        _demo_pdf(str(registration.candidate)),
                                        content_type="application/pdf"))
    candidate_services.decide_without_training(registration=registration, actor=staff_user,
                                               reason="Expérience suffisante en entreprise.")
    registration.refresh_from_db()
    candidate_services.transition(registration=registration,
                                  to_state=RegistrationState.PRET_EVALUATION, actor=staff_user)


@transaction.atomic
def seed_carried_over(*, centre, users, staff_user, log=print):
    """A candidate with carried-over blocs: a validation partielle three months ago (jury
    held, PV signed, relevé issued) and a new registration for the same CQPM, ready for the
    upcoming commission. Idempotent: the candidate is created once."""
    birth, first, born = CARRIED_CANDIDATE
    if Candidate.objects.filter(centre=centre, birth_name=birth, first_names=first).exists():
        log("Candidate aux résultats reportés déjà présente.")
        return None
    certification = Certification.objects.filter(code=CARRIED_CERTIFICATION).first()
    company = Company.objects.filter(centre=centre).order_by("pk").first()
    if certification is None or company is None:
        return None
    version = certification.current_version()
    today = timezone.localdate()
    evaluators = _ensure_evaluators(centre, users)
    candidate = Candidate.objects.create(
        centre=centre, birth_name=birth, first_names=first,
        birth_date=datetime.date.fromisoformat(born), employer=company, sex="F",
        email=f"{first.lower().replace('è', 'e')}.{birth.lower()}@candidat.example",
        birth_country_code="FR", birth_commune_code="44109", birth_commune_name="Nantes")
    _first_attempt(centre=centre, candidate=candidate, version=version, staff_user=staff_user,
                   evaluators=[evaluators["evaluateur1"], evaluators["evaluateur3"]],
                   members=_ensure_jury_members(centre, users), company=company, today=today)
    again = candidate_services.create_registration(
        actor=staff_user, centre=centre, candidate=candidate, version=version,
        path="salarie", company=company, tutor=company.tutors.first(),
        registered_on=today - datetime.timedelta(days=20),
        job_title="Technicienne de maintenance").registration
    _ready(again, staff_user)
    upcoming = (Commission.objects.filter(centre=centre, date__gt=today,
                                          status=CommissionStatus.CONFIRMED,
                                          certifications=certification)
                .order_by("date").first())
    if upcoming is not None:
        commission_services.schedule_candidate(commission=upcoming, registration=again,
                                               start_time=datetime.time(15, 30),
                                               actor=staff_user)
    log(f"1 candidate aux résultats reportés ({first} {birth.upper()}, {again.reference}).")
    return again
