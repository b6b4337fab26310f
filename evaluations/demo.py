"""Demo data of the evaluations app: the grids of the demo's past commission, filled and
signed by both of its members through ``evaluations.services`` — so that their registrations
become « évalué » as they do in real life — and the company avis of those candidates.
Idempotent: a signed grid is left alone."""

from django.db import transaction

from candidates import services as candidate_services
from candidates.models import LinkPurpose, OpinionLevel
from certifications.demo import DEMO_PASSWORD
from commissions.models import CommissionStatus, MemberRole, ScheduledCandidate
from evaluations import services
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
