"""The world the permission matrix runs in (tests/trust/test_permission_matrix.py), built once
per module through the services, as the pages would.

Centre A holds everything the matrix asks about: a confirmed commission (a président and a
membre) with a signed grid — its PDF, the ZIP of the commission — and a draft grid with an
open incident; a jury session held today, its PV signed, its documents and CPNE bundle
rendered; an open registration with a training, a document and the two personal links; a
VAE registration; an application to the network of evaluators. Around them stand the people
who must see none of it: an evaluator of another commission and a jury member of another
session of the same centre, and the staff of centre B.
"""

import dataclasses
import datetime
import io

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from pypdf import PdfWriter

from candidates import services as candidate_services
from candidates.models import (
    AccessLink,
    DocumentKind,
    LinkPurpose,
    OrganisationHabilitation,
    Registration,
    TrainingOrganisation,
)
from certifications.demo import staff_group
from certifications.models import Role
from commissions import juries
from commissions.models import (
    College,
    Commission,
    CommissionMember,
    EvaluatorApplication,
    JurySession,
    MemberRole,
)
from commissions.tasks import CONVOCATION_PURPOSE
from config.links import make_token
from evaluations import deliberation, documents_jury
from evaluations import services as grid_services
from evaluations.models import BatchExport, GeneratedDocument, Grid, Incident
from evaluations.pdf import current_document
from evaluations.tasks import build_commission_zip, ensure_rendered
from tests.evaluations.conftest import PASSWORD, fill_grid, make_jury_member, sign
from tests.factories import (
    CentreFactory,
    build_version,
    make_commission,
    make_evaluator,
    make_ready,
    make_registration,
    member,
)

# The roles of the matrix, each asked about every URL.
ANONYMOUS = "anonymous"
CANDIDATE = "candidate-link"  # no account: has just opened their personal link
TUTOR = "tutor-link"  # no account: has just opened the avis form
EVALUATOR = "evaluator-elsewhere"  # sits on another commission of the same centre
JURY = "jury-elsewhere"  # sits on another session of the same centre
OTHER_STAFF = "staff-elsewhere"  # gestionnaire of centre B
STAFF = "staff"  # gestionnaire of centre A, where every object lives
MEMBER = "commission-member"  # président of the commission: fills and signs its grids
JUROR = "session-member"  # sits on the session (collège salariés): reads it
PRESIDENT = "session-president"  # presides the session: presence, decisions, PV

ROLES = (ANONYMOUS, CANDIDATE, TUTOR, EVALUATOR, JURY, OTHER_STAFF, STAFF, MEMBER, JUROR,
         PRESIDENT)


@dataclasses.dataclass
class World:
    users: dict[str, AbstractUser | None]
    centre: object
    version: object
    commission: Commission
    president: CommissionMember
    assessor: CommissionMember
    elsewhere: object  # the evaluator of the other commission
    signed_grid: Grid
    draft_grid: Grid
    incident: Incident
    grid_document: GeneratedDocument
    batch: BatchExport
    session: JurySession
    session_candidate: object
    minutes_document: GeneratedDocument
    letter_document: GeneratedDocument
    evaluated: Registration  # in the commission and the session (délibéré)
    scheduled_open: Registration  # in the commission, grid in draft
    open_registration: Registration
    vae_registration: Registration
    training: object
    dossier_document: object
    candidate_link: AccessLink
    opinion_link: AccessLink
    application: EvaluatorApplication
    tokens: dict[str, str]
    cookies: dict = dataclasses.field(default_factory=dict)  # by role, see the test module

    def user(self, role: str) -> AbstractUser | None:
        return self.users[role]


def pdf_bytes() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def link_token(link: AccessLink) -> str:
    return make_token(link_id=link.pk, nonce=link.nonce, purpose=link.purpose)


def convocation_token(commission_member: CommissionMember) -> str:
    return make_token(link_id=commission_member.pk, nonce=commission_member.link_nonce,
                      purpose=CONVOCATION_PURPOSE)


def _staff(centre, username: str):
    user = member(Role.STAFF, centre=centre, username=username)
    user.groups.add(staff_group())
    return user


def _signed_and_draft_grids(commission, staff):
    members = {m.role: m for m in commission.members.select_related("evaluator__user")}
    signed_scheduled, draft_scheduled = commission.scheduled.order_by("start_time")
    president_user = members[MemberRole.PRESIDENT].evaluator.user
    signed = grid_services.ensure_grid(scheduled=signed_scheduled, actor=staff)
    fill_grid(signed, president_user)
    grid_services.submit_for_signature(grid=signed, actor=president_user)
    sign(signed, members[MemberRole.PRESIDENT])
    assert sign(signed, members[MemberRole.MEMBER]).locked
    draft = grid_services.ensure_grid(scheduled=draft_scheduled, actor=staff)
    incident = grid_services.report_incident(grid=draft, kind="equipement",
                                             actor=president_user,
                                             description="Banc hydraulique en panne.")
    return Grid.objects.get(pk=signed.pk), draft, incident


def _closed_session(centre, certification, staff, registration, *, president, employee):
    """A session held today: president (employers) and one union member (employees) present,
    one decision, the PV signed — then its documents and CPNE bundle rendered."""
    today = timezone.localdate()
    session = JurySession.objects.create(centre=centre, date=today,
                                         start_time=datetime.time(14, 0),
                                         place="Pôle Formation UIMM, salle Vauban",
                                         created_by=staff)
    session.certifications.set([certification])
    juries.add_seat(session=session, member=president, president=True)
    invitations = juries.invite_unions(
        session=session, actor=staff, today=today - datetime.timedelta(days=20),
        addresses={org: f"{org.lower()}@syndicat.example"
                   for org in settings.JURIES["UNIONS"]})
    invitation = next(i for i in invitations if i.organisation == employee.organisation)
    juries.record_designation(invitation=invitation, member=employee)
    registration.refresh_from_db()
    session_candidate = juries.add_candidate(session=session, registration=registration)
    for seat in session.seats.all():
        juries.record_presence(seat=seat, present=True)
    juries.open_session(session=session, actor=staff)
    deliberation.record_decision(session_candidate=session_candidate, actor=president.user,
                                 outcome="admis", acquired_blocs=[], evaluation_conform=True,
                                 admission_conditions_met=True)
    deliberation.sign_minutes(session=session, actor=president.user, password=PASSWORD,
                              ip="192.0.2.20")
    session.refresh_from_db()
    documents = GeneratedDocument.objects.filter(session=session)
    minutes = ensure_rendered(documents.get(kind=GeneratedDocument.Kind.PV))
    letter = ensure_rendered(documents.get(kind=GeneratedDocument.Kind.LETTER))
    ensure_rendered(documents_jury.request_cpne_bundle(session=session, actor=staff))
    return session, session_candidate, minutes, letter


def build_world() -> World:
    centre = CentreFactory(name="UIMM Pays de la Loire")
    staff = _staff(centre, "claire.gestin")
    other_staff = _staff(CentreFactory(name="UIMM Rhône"), "remi.ailleurs")
    version = build_version()
    certification = version.certification

    president, assessor, elsewhere = (
        make_evaluator(centre=centre, certifications=[certification],
                       user__username=username)
        for username in ("marc.president", "sophie.membre", "eve.ailleurs"))

    evaluated = make_registration(centre=centre, version=version, actor=staff)
    dossier_document = candidate_services.upload_document(
        registration=evaluated, kind=DocumentKind.ACTIVITY_REPORT, actor=staff,
        uploaded=SimpleUploadedFile("rapport.pdf", pdf_bytes()))
    make_ready(evaluated, actor=staff)
    scheduled_open = make_ready(make_registration(centre=centre, version=version, actor=staff),
                                actor=staff)
    commission = make_commission(centre=centre, certifications=[certification], actor=staff,
                                 members=[president, assessor],
                                 registrations=[evaluated, scheduled_open], confirm=True)
    make_commission(centre=centre, certifications=[certification], actor=staff,
                    members=[elsewhere])
    signed_grid, draft_grid, incident = _signed_and_draft_grids(commission, staff)
    grid_document = ensure_rendered(current_document(signed_grid))
    batch = BatchExport.objects.create(commission=commission, requested_by=staff, total=1)
    assert build_commission_zip(batch_id=batch.pk)
    batch.refresh_from_db()

    jury_president, jury_member, jury_elsewhere = (
        make_jury_member(centre=centre, college=college, organisation=organisation,
                         username=username, first_name=first_name, last_name="Jury")
        for college, organisation, username, first_name in (
            (College.EMPLOYERS, "UIMM Loire-Atlantique", "anne.presidente", "Anne"),
            (College.EMPLOYEES, "CGT", "luc.cgt", "Luc"),
            (College.EMPLOYERS, "Chantiers de l'Atlantique", "paul.ailleurs", "Paul")))
    session, session_candidate, minutes, letter = _closed_session(
        centre, certification, staff, evaluated, president=jury_president,
        employee=jury_member)
    other_session = JurySession.objects.create(
        centre=centre, date=timezone.localdate() + datetime.timedelta(days=40),
        start_time=datetime.time(9, 0), place="Pôle Formation UIMM", created_by=staff)
    juries.add_seat(session=other_session, member=jury_elsewhere, president=True)

    open_registration = make_registration(centre=centre, version=version, actor=staff)
    organisation = TrainingOrganisation.objects.create(name="AFPI Atlantique")
    OrganisationHabilitation.objects.create(
        organisation=organisation, subject="CQPM", valid_from=datetime.date(2020, 1, 1),
    ).certifications.add(certification)
    training = candidate_services.record_training(
        registration=open_registration, actor=staff, organisation=organisation,
        start_on=datetime.date(2025, 1, 6), hours=35)
    candidate_link, opinion_link = (
        candidate_services.issue_link(registration=open_registration, purpose=purpose,
                                      actor=staff)
        for purpose in (LinkPurpose.CANDIDATE_UPLOAD, LinkPurpose.COMPANY_OPINION))
    vae_registration = make_registration(centre=centre, version=version, actor=staff,
                                         path="vae")
    application = EvaluatorApplication.objects.create(
        centre=centre, first_name="Jeanne", last_name="Postulante",
        email="jeanne.postulante@example.org", employer_name="Fonderie de l'Erdre",
        profession="Technicienne méthodes", experience_years=12,
        expertise="Usinage, contrôle dimensionnel")

    president_member = commission.members.get(role=MemberRole.PRESIDENT)
    assessor_member = commission.members.get(role=MemberRole.MEMBER)
    return World(
        users={ANONYMOUS: None, CANDIDATE: None, TUTOR: None,
               EVALUATOR: elsewhere.user, JURY: jury_elsewhere.user,
               OTHER_STAFF: other_staff, STAFF: staff,
               MEMBER: president.user, JUROR: jury_member.user,
               PRESIDENT: jury_president.user},
        centre=centre, version=version, commission=commission,
        president=president_member, assessor=assessor_member, elsewhere=elsewhere,
        signed_grid=signed_grid, draft_grid=draft_grid, incident=incident,
        grid_document=grid_document, batch=batch,
        session=session, session_candidate=session_candidate,
        minutes_document=minutes, letter_document=letter,
        evaluated=evaluated, scheduled_open=scheduled_open,
        open_registration=open_registration, vae_registration=vae_registration,
        training=training, dossier_document=dossier_document,
        candidate_link=candidate_link, opinion_link=opinion_link, application=application,
        tokens={
            "candidate": link_token(candidate_link),
            "opinion": link_token(opinion_link),
            "convocation": convocation_token(president_member),
            "other_convocation": convocation_token(assessor_member),
            "garbage": "pas-un-jeton-valide",
        },
    )
