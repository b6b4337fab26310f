"""Volume data to measure the product at the scale of the branch (``seed_demo --scale N``).

One unit of scale is a centre's year: about 2 000 registrations with their candidates, the
commissions that evaluated them, the grids (≈40 criteria each, 60 for one certification)
filled and signed by two evaluators, the company avis, the juries paritaires, their decisions
and procès-verbaux. Half the units make ten years of one large centre (``volume-01``), the
others one year each of further centres, so that a centre's daily pages and the national
reads are both measured at volume.

Everything is written with ``bulk_create`` in one transaction, unit by unit, and every signed
content is hashed by the same functions as the product (``snapshot_of``, ``minutes_snapshot``)
so that the volume data verifies like real data. The volume is seeded once: when
``volume-01`` exists the command says so and changes nothing.
"""

from __future__ import annotations

import datetime
import io
import json
import math
import random
from dataclasses import dataclass, field
from itertools import cycle

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import connection, models, transaction
from django.utils import timezone

from candidates.models import (
    Candidate,
    Company,
    CompanyOpinion,
    CompanyOpinionItem,
    OpinionLevel,
    OrganisationHabilitation,
    Outcome,
    Path,
    PlannedModality,
    Registration,
    RegistrationEvent,
    TrainingDecision,
    TrainingOrganisation,
    TrainingRecord,
    Tutor,
    VaeAdmissibility,
    company_opinion_applies,
)
from candidates.models import RegistrationState as S
from candidates.validators import luhn_valid
from certifications import exchange
from certifications.demo import DEMO_PASSWORD, staff_group
from certifications.models import (
    Centre,
    CentreMembership,
    Certification,
    Criterion,
    ReferentialVersion,
    Role,
)
from commissions.models import (
    Answer,
    CharterAcceptance,
    CharterVersion,
    College,
    Commission,
    CommissionMember,
    CommissionStatus,
    Evaluator,
    Habilitation,
    JuryMember,
    JurySession,
    MemberRole,
    ScheduledCandidate,
    Seat,
    SessionCandidate,
    SessionStatus,
)
from evaluations.deliberation import minutes_snapshot
from evaluations.models import (
    CompetenceResult,
    CriterionResult,
    Decision,
    GeneratedDocument,
    Grid,
    GridEvent,
    GridState,
    Minutes,
    Signature,
)
from evaluations.services import CURRENT_CONSENT_VERSION, sha256_of, snapshot_of, summary_of

UNIT = 2000                 # registrations in a centre's year
MARKER_CENTRE = "volume-01"
EVALUATORS_PER_CENTRE = 60
JURY_PER_COLLEGE = 6
COMPANIES_PER_CENTRE = 150
PER_COMMISSION = 8
PER_SESSION = 100

# (code, title, blocs, competences per bloc, criteria per competence)
REFERENTIALS = [
    ("MQ 2026 01 69 9001", "Opérateur(trice) régleur(se) d'usinage", 2, 5, 4),
    ("MQ 2026 01 69 9002", "Chaudronnier(ère) d'atelier", 2, 5, 4),
    ("MQ 2026 01 69 9003", "Conducteur(trice) de ligne automatisée", 2, 5, 4),
    ("MQ 2026 01 69 9060", "Technicien(ne) de maintenance des systèmes de production", 3, 5, 4),
]

FIRST_NAMES = ["Camille", "Lucas", "Léa", "Hugo", "Chloé", "Nathan", "Inès", "Théo", "Manon",
               "Yanis", "Sarah", "Enzo", "Jade", "Louis", "Emma", "Mathis", "Zoé", "Noah",
               "Anaïs", "Rayan", "Élodie", "Kévin", "Maëlle", "Jérôme", "Françoise", "Loïc"]
LAST_NAMES = ["Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand",
              "Leroy", "Moreau", "Simon", "Laurent", "Lefèvre", "Michel", "Garcia", "David",
              "Bertrand", "Roux", "Vincent", "Fournier", "Morel", "Girard", "André", "Mercier",
              "Dupont", "Lambert", "Bonnet", "François", "Martinez", "Le Gall", "Kerouédan",
              "N'Diaye", "Da Silva", "Nguyen", "Benoît-Lacroix", "O'Neill", "Perrin", "Chevalier"]
CITIES = [("44000", "Nantes", "44109"), ("35000", "Rennes", "35238"), ("69001", "Lyon", "69381"),
          ("59000", "Lille", "59350"), ("20000", "Ajaccio", "2A004"), ("31000", "Toulouse",
                                                                          "31555")]
PATHS = [(Path.SALARIE, 35), (Path.CONTRAT_PRO, 25), (Path.APPRENTISSAGE, 15),
         (Path.DEMANDEUR_EMPLOI, 10), (Path.CANDIDAT_LIBRE, 5), (Path.VAE, 10)]
PAST_OUTCOMES = [(Outcome.PASSED, 78), (Outcome.PARTIAL, 12), (Outcome.FAILED, 10)]
# The current year: every step of the journey is represented.
CURRENT_STATES = [(S.INSCRIT, 25), (S.EN_FORMATION, 15), (S.PRET_EVALUATION, 25),
                  (S.EVALUE, 15), (S.DELIBERE, 15), (S.ABANDON, 5)]
NM_COMMENT = ("Réalisé avec l'aide du tuteur : le candidat n'a pas su conduire seul "
              "l'intervention jusqu'à la remise en service.")


COPY_TYPES = (models.BooleanField, models.CharField, models.DateTimeField, models.ForeignKey,
              models.IntegerField, models.TextField)


def _copy_field(value) -> str:
    """One CSV field of COPY: NULL unquoted (\\N); every value quoted, so that no text —
    not even a literal « \\N » — is read as NULL."""
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        value = "t" if value else "f"
    elif isinstance(value, datetime.datetime):
        value = value.isoformat()
    return '"' + str(value).replace('"', '""') + '"'


def insert_rows(model, objs: list, *, batch_size: int) -> None:
    """Insert rows whose primary keys are not read afterwards. On PostgreSQL with ``COPY``:
    the 1.3 million criterion results of N=20 took a quarter of the load through
    ``bulk_create`` (each value prepared by its field, then a statement of 5 000 rows); the
    same rows as CSV cost a fraction of that. Elsewhere (SQLite), ``bulk_create``. Only for
    models of plain columns (COPY_TYPES): « now » for ``auto_now`` fields, the attribute's
    value otherwise, as ``bulk_create`` would write them."""
    if connection.vendor != "postgresql":
        model.objects.bulk_create(objs, batch_size=batch_size)
        return
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    unsupported = [f.name for f in fields if not isinstance(f, COPY_TYPES)]
    if unsupported:
        raise TypeError(f"insert_rows: {model.__name__}.{unsupported} not plain columns")
    now = timezone.now()
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    statement = (f"COPY {connection.ops.quote_name(model._meta.db_table)} ({columns}) "
                 "FROM STDIN WITH (FORMAT csv, NULL '\\N')")
    for start in range(0, len(objs), batch_size):
        buffer = io.StringIO()
        for obj in objs[start:start + batch_size]:
            buffer.write(",".join(_copy_field(now if getattr(f, "auto_now", False)
                                              or getattr(f, "auto_now_add", False)
                                              else getattr(obj, f.attname)) for f in fields))
            buffer.write("\n")
        buffer.seek(0)
        with connection.cursor() as cursor:
            cursor.copy_expert(statement, buffer)


def valid_siret(base: int) -> str:
    """A SIRET with a valid Luhn key from a 13-digit base."""
    head = f"{base % 10**13:013d}"
    return next(head + str(d) for d in range(10) if luhn_valid(head + str(d)))


def _weighted(rng: random.Random, pairs):
    values, weights = zip(*pairs, strict=True)
    return rng.choices(values, weights=weights)[0]


def plan(scale: int) -> list[tuple[str, int]]:
    """(centre code, number of yearly units): half the units in ``volume-01``."""
    main = math.ceil(scale / 2)
    return [(MARKER_CENTRE, main)] + [(f"volume-{i + 2:02d}", 1) for i in range(scale - main)]


def referential_document(code: str, title: str, blocs: int, per_bloc: int, criteria: int
                         ) -> dict:
    modalities = ["situation_professionnelle", "situation_reconstituee"]
    return {
        "format": "referentiel/1",
        "certification": {"kind": "CQPM", "code": code, "title": title,
                          "registry": {"name": "RNCP", "number": f"RNCP9{code[-4:]}"},
                          "issuing_body": "CPNE de la métallurgie", "level": 4, "parent": None},
        "version": {"label": "2016-1", "valid_from": "2016-01-01", "valid_until": None},
        "rating_scale": [
            {"code": "MA", "label": "Maîtrisée en toute autonomie", "mastered": True},
            {"code": "NM", "label": "Non maîtrisée en toute autonomie", "mastered": False},
        ],
        "blocs": [
            {"code": f"B{b}", "title": f"Bloc {b} — activités de {title.lower()}",
             "competences": [
                 {"code": f"C{b}.{c}",
                  "title": f"Réaliser l'activité {c} du bloc {b} en respectant les consignes",
                  "conditions": "Sur poste de travail, à partir d'un dossier technique.",
                  "expected_results": "Le résultat est conforme aux exigences du poste.",
                  "modalities": [modalities[(b + c) % 2]],
                  "criteria": [{"code": f"C{b}.{c}.{k}",
                                "text": f"Critère observable {k} : l'opération est conduite "
                                        f"selon le mode opératoire et les règles de sécurité."}
                               for k in range(1, criteria + 1)]}
                 for c in range(1, per_bloc + 1)]}
            for b in range(1, blocs + 1)
        ],
        "competences": [],
    }


@dataclass
class VersionData:
    version: ReferentialVersion
    certification: Certification
    levels: list                      # rating levels in order
    mastered: object
    not_mastered: object
    blocs: list
    competences: list                 # in referential order, each with .bloc set
    criteria: dict                    # competence pk -> [criteria in order]


def load_versions() -> list[VersionData]:
    files = []
    for spec in REFERENTIALS:
        if not Certification.objects.filter(code=spec[0]).exists():
            files.append((f"{spec[0]}.json",
                          json.dumps(referential_document(*spec)).encode()))
    if files:
        exchange.import_referentials(files)
    result = []
    for spec in REFERENTIALS:
        version = (ReferentialVersion.objects.select_related("certification")
                   .get(certification__code=spec[0]))
        levels = list(version.rating_levels.order_by("order"))
        blocs = list(version.blocs.order_by("order"))
        competences = list(version.competences.select_related("bloc")
                           .order_by("bloc__order", "order"))
        criteria: dict = {}
        for criterion in Criterion.objects.filter(competence__version=version).order_by("order"):
            criteria.setdefault(criterion.competence_id, []).append(criterion)
        result.append(VersionData(
            version=version, certification=version.certification, levels=levels,
            mastered=next(lv for lv in levels if lv.mastered),
            not_mastered=next(lv for lv in levels if not lv.mastered),
            blocs=blocs, competences=competences, criteria=criteria))
    return result


@dataclass
class CentreData:
    centre: Centre
    staff: object
    evaluators: list
    jury_employers: list
    jury_employees: list
    companies: list
    tutors: dict                       # company pk -> tutor
    organisations: list = field(default_factory=list)  # training organisations, habilitated
    sequence: dict = field(default_factory=dict)   # year -> last reference number


class Seeder:
    def __init__(self, *, seed: int = 20261125):
        self.rng = random.Random(seed)  # noqa: S311 - reproducible volume data, not secrets
        # Trainings draw from their own stream: the rest of the volume (names, references,
        # states) stays what it was before they were added.
        self.training_rng = random.Random(seed + 1)  # noqa: S311 - as above
        self.password = make_password(DEMO_PASSWORD)
        self.today = timezone.localdate()
        self.now = timezone.now()
        self.counts: dict[str, int] = {}

    def count(self, name: str, n: int) -> None:
        self.counts[name] = self.counts.get(name, 0) + n

    # -- people ---------------------------------------------------------------------------
    def users(self, specs: list[tuple[str, str, str]]) -> list:
        user_model = get_user_model()
        users = user_model.objects.bulk_create([
            user_model(username=username, first_name=first, last_name=last,
                       email=f"{username}@volume.example", password=self.password)
            for username, first, last in specs])
        self.count("users", len(users))
        return users

    def name(self) -> tuple[str, str]:
        return self.rng.choice(FIRST_NAMES), self.rng.choice(LAST_NAMES)

    def centre(self, code: str, index: int, versions: list[VersionData]) -> CentreData:
        centre = Centre.objects.create(
            code=code, reference_prefix=f"VOL{index:02d}",
            name=f"UIMM Volume {index:02d} — Service Certifications",
            address=f"{index} rue de l'Industrie\n69000 Lyon",
            email=f"certifications@volume{index:02d}.example")
        prefix = f"vol{index:02d}"
        staff, = self.users([(f"{prefix}-gestionnaire", "Gestion", f"Volume {index:02d}")])
        staff.is_staff = True
        staff.save(update_fields=["is_staff"])
        staff.groups.add(staff_group())
        memberships = [CentreMembership(user=staff, centre=centre, role=Role.STAFF)]
        evaluator_users = self.users([(f"{prefix}-eval{i:03d}", *self.name())
                                      for i in range(1, EVALUATORS_PER_CENTRE + 1)])
        jury_users = self.users([(f"{prefix}-jury{i:02d}", *self.name())
                                 for i in range(1, 2 * JURY_PER_COLLEGE + 1)])
        memberships += [CentreMembership(user=u, centre=centre, role=Role.EVALUATOR)
                        for u in evaluator_users]
        memberships += [CentreMembership(user=u, centre=centre, role=Role.JURY)
                        for u in jury_users]
        CentreMembership.objects.bulk_create(memberships)
        evaluators = Evaluator.objects.bulk_create([
            Evaluator(user=u, centre=centre, employer_name=f"Industries Volume {i % 40:02d}",
                      employer_siret=valid_siret(900000000 + index * 1000 + i % 40),
                      profession="Technicien(ne) de maintenance", expertise="Maintenance",
                      initial_training_on=datetime.date(self.today.year - 11, 3, 1),
                      last_training_on=datetime.date(self.today.year - 1, 3, 1))
            for i, u in enumerate(evaluator_users)])
        habilitations = Habilitation.objects.bulk_create([
            Habilitation(evaluator=e, fields="Maintenance, production",
                         valid_from=datetime.date(self.today.year - 11, 1, 1),
                         valid_until=datetime.date(self.today.year + 3, 12, 31))
            for e in evaluators])
        through = Habilitation.certifications.through
        through.objects.bulk_create([
            through(habilitation_id=h.pk, certification_id=v.certification.pk)
            for h in habilitations for v in versions])
        charter = CharterVersion.current()
        if charter is not None:
            CharterAcceptance.objects.bulk_create([
                CharterAcceptance(evaluator=e, charter=charter,
                                  accepted_at=self.now - datetime.timedelta(days=300))
                for e in evaluators])
        unions = cycle(["CFDT", "CFE-CGC", "CGT", "CGT-FO"])
        jury = JuryMember.objects.bulk_create([
            JuryMember(user=u, centre=centre,
                       college=College.EMPLOYERS if i < JURY_PER_COLLEGE else College.EMPLOYEES,
                       organisation="UIMM" if i < JURY_PER_COLLEGE else next(unions),
                       employer_name=f"Jury Industrie {i:02d}")
            for i, u in enumerate(jury_users)])
        companies = Company.objects.bulk_create([
            Company(centre=centre, name=f"Métallerie {self.rng.choice(LAST_NAMES)} {i:03d}",
                    siret=valid_siret(800000000 + index * 1000 + i),
                    address=f"{i} zone industrielle", postal_code=CITIES[i % 6][0],
                    city=CITIES[i % 6][1], contact_name="Service RH",
                    contact_email=f"rh{i}@entreprise{index:02d}.example")
            for i in range(COMPANIES_PER_CENTRE)])
        tutors = Tutor.objects.bulk_create([
            Tutor(company=c, first_name=self.name()[0], last_name=self.name()[1],
                  email=f"tuteur{c.pk}@entreprise.example", job_title="Chef d'atelier")
            for c in companies])
        organisations = TrainingOrganisation.objects.bulk_create([
            TrainingOrganisation(name=f"{name} {index:02d}", siret=valid_siret(base + index),
                                 city=CITIES[index % 6][1],
                                 contact_email=f"formation@organisme{index:02d}.example")
            for name, base in (("AFPI Volume", 700000000), ("Institut Métiers Volume",
                                                            710000000))])
        habilitations = OrganisationHabilitation.objects.bulk_create([
            OrganisationHabilitation(organisation=o, subject="CQPM de la branche",
                                     valid_from=datetime.date(self.today.year - 11, 1, 1))
            for o in organisations])
        through = OrganisationHabilitation.certifications.through
        through.objects.bulk_create([
            through(organisationhabilitation_id=h.pk, certification_id=v.certification.pk)
            for h in habilitations for v in versions])
        self.count("centres", 1)
        return CentreData(centre=centre, staff=staff, evaluators=evaluators,
                          jury_employers=jury[:JURY_PER_COLLEGE],
                          jury_employees=jury[JURY_PER_COLLEGE:],
                          companies=companies, tutors={t.company_id: t for t in tutors},
                          organisations=organisations)

    # -- one centre's year -------------------------------------------------------------------
    def unit(self, data: CentreData, year: int, versions: list[VersionData]) -> None:
        current = year == self.today.year
        rng = self.rng
        last_day = (self.today - datetime.timedelta(days=45)) if current \
            else datetime.date(year, 12, 31)
        span = max(1, (last_day - datetime.date(year, 1, 1)).days)

        # Candidates and registrations ------------------------------------------------------
        rows = []
        for _i in range(UNIT):
            path = _weighted(rng, PATHS)
            if current:
                state = _weighted(rng, CURRENT_STATES)
            else:
                state = S.ABANDON if rng.random() < 0.05 else S.DELIBERE
            outcome = _weighted(rng, PAST_OUTCOMES) if state == S.DELIBERE else ""
            registered_on = datetime.date(year, 1, 1) + datetime.timedelta(
                days=rng.randrange(span))
            rows.append({"path": path, "state": state, "outcome": outcome,
                         "registered_on": registered_on, "vd": rng.choice(versions)})
        rows.sort(key=lambda r: r["registered_on"])
        for row in rows:
            row["trained"] = self.follows_training(row)
        candidates = []
        for _row in rows:
            first, last = self.name()
            city = rng.choice(CITIES)
            married = rng.random() < 0.1
            candidates.append(Candidate(
                centre=data.centre, birth_name=last,
                usage_name=rng.choice(LAST_NAMES) if married else "",
                first_names=first,
                birth_date=datetime.date(year - rng.randrange(18, 55), rng.randrange(1, 13),
                                         rng.randrange(1, 29)),
                sex=rng.choice(["M", "F"]), birth_commune_code=city[2],
                birth_commune_code_kind="insee",
                birth_commune_name=city[1], birth_country_code="FR",
                email=f"{first.lower()}.{rng.randrange(10**6)}@candidat.example"))
        candidates = Candidate.objects.bulk_create(candidates)
        registrations = []
        number = data.sequence.get(year, 0)
        for row, candidate in zip(rows, candidates, strict=True):
            number += 1
            company = tutor = None
            if row["path"] in (Path.SALARIE, Path.CONTRAT_PRO, Path.APPRENTISSAGE) or (
                    row["path"] == Path.VAE and rng.random() < 0.5):
                company = rng.choice(data.companies)
                tutor = data.tutors[company.pk] if row["path"] != Path.VAE else None
            state = row["state"]
            registrations.append(Registration(
                centre=data.centre, reference=f"{data.centre.reference_prefix}-{year}-"
                                              f"{number:05d}",
                candidate=candidate, version=row["vd"].version, path=row["path"],
                company=company, tutor=tutor, registered_on=row["registered_on"],
                state=state, outcome=row["outcome"],
                state_changed_at=self.now - datetime.timedelta(days=rng.randrange(1, 30))
                if current else timezone.make_aware(datetime.datetime(year, 12, 15, 10)),
                job_title="Opérateur de production",
                modalities_agreed_on=None if state == S.INSCRIT else row["registered_on"],
                training_decision=(TrainingDecision.TRAINING if row["trained"]
                                   else TrainingDecision.NO_TRAINING
                                   if state != S.INSCRIT else TrainingDecision.UNDECIDED),
                training_decision_reason="" if row["trained"] or state == S.INSCRIT
                else "Compétences acquises en poste.",
                created_by=data.staff))
        data.sequence[year] = number
        registrations = Registration.objects.bulk_create(registrations)
        self.count("registrations", len(registrations))
        self.count("candidates", len(candidates))
        for registration, row in zip(registrations, rows, strict=True):
            row["registration"] = registration

        VaeAdmissibility.objects.bulk_create([
            VaeAdmissibility(registration=r["registration"], decided_on=r["registered_on"],
                             decided_by=data.staff, experience_months=rng.randrange(12, 240),
                             experience_description="Expérience en atelier de production.",
                             accepted=True)
            for r in rows if r["path"] == Path.VAE])
        PlannedModality.objects.bulk_create([
            PlannedModality(registration=r["registration"], competence=c,
                            modality=c.modalities[0])
            for r in rows if r["state"] != S.INSCRIT for c in r["vd"].competences])
        self.timeline(rows, data)
        self.trainings(data, [r for r in rows if r["trained"]])

        # Commissions and grids ----------------------------------------------------------------
        evaluated = [r for r in rows if r["state"] in (S.EVALUE, S.DELIBERE)]
        ready = [r for r in rows if r["state"] == S.PRET_EVALUATION]
        self.commissions(data, evaluated, signed=True, year=year)
        self.commissions(data, ready, signed=False, year=year)
        self.opinions([r for r in rows if r["state"] in (S.PRET_EVALUATION, S.EVALUE,
                                                          S.DELIBERE)])
        # Juries ------------------------------------------------------------------------------
        self.juries(data, [r for r in rows if r["state"] == S.DELIBERE], closed=True)
        self.juries(data, [r for r in rows if r["state"] == S.EVALUE], closed=False)

    def follows_training(self, row: dict) -> bool:
        """Step 2 (optional): those « en formation » now; past it, every work-study contract
        (contrat de professionnalisation, apprentissage) and a third of the others, no VAE;
        not those who left or have not reached it."""
        state = row["state"]
        if state == S.EN_FORMATION:
            return True
        if state in (S.INSCRIT, S.ABANDON) or row["path"] == Path.VAE:
            return False
        if row["path"] in (Path.CONTRAT_PRO, Path.APPRENTISSAGE):
            return True
        return self.training_rng.random() < 0.3

    def trainings(self, data: CentreData, rows: list[dict]) -> None:
        """One or two trainings per trained registration, each on the competences of one bloc
        (all of them without blocs), finished unless the registration is « en formation »;
        with the timeline row record_training writes."""
        rng = self.training_rng
        latest_end = self.today - datetime.timedelta(days=1)
        records, covered, events = [], [], []
        for row in rows:
            registration = row["registration"]
            competences = row["vd"].competences
            blocs = sorted({c.bloc_id for c in competences if c.bloc_id})
            start = row["registered_on"] + datetime.timedelta(days=20)
            for index in range(1 if rng.random() < 0.7 else 2):
                start = min(start, latest_end)
                ongoing = row["state"] == S.EN_FORMATION and index == 0
                end = None if ongoing else min(
                    start + datetime.timedelta(days=rng.randrange(20, 120)), latest_end)
                organisation = rng.choice(data.organisations)
                hours = rng.choice([35, 70, 140, 210, 400])
                records.append(TrainingRecord(
                    registration=registration, organisation=organisation, start_on=start,
                    end_on=end, hours=hours))
                bloc = blocs[index % len(blocs)] if blocs else None
                covered.append([c.pk for c in competences if bloc is None or c.bloc_id == bloc])
                # Recorded before the move to « en formation » (9:00 that day), which needs it.
                events.append(RegistrationEvent(
                    registration=registration, actor=data.staff,
                    kind=RegistrationEvent.Kind.TRAINING,
                    at=timezone.make_aware(datetime.datetime.combine(start, datetime.time(8))),
                    message=f"Formation enregistrée : {organisation}, {hours} h."))
                if end is None:
                    break
                start = end + datetime.timedelta(days=7)
        records = TrainingRecord.objects.bulk_create(records, batch_size=2000)
        through = TrainingRecord.competences.through
        through.objects.bulk_create([
            through(trainingrecord_id=record.pk, competence_id=competence)
            for record, competences in zip(records, covered, strict=True)
            for competence in competences], batch_size=5000)
        RegistrationEvent.objects.bulk_create(events, batch_size=5000)
        self.count("trainings", len(records))
        self.count("registration events", len(events))

    def timeline(self, rows: list[dict], data: CentreData) -> None:
        order = [S.INSCRIT, S.EN_FORMATION, S.PRET_EVALUATION, S.EVALUE, S.DELIBERE]
        events = []
        for row in rows:
            registration = row["registration"]
            at = timezone.make_aware(datetime.datetime.combine(row["registered_on"],
                                                               datetime.time(9)))
            events.append(RegistrationEvent(
                registration=registration, at=at, actor=data.staff,
                kind=RegistrationEvent.Kind.TRANSITION, to_state=S.INSCRIT,
                message="Inscription enregistrée."))
            target = row["state"]
            path = order[1:order.index(target) + 1] if target in order else []
            if target in order and registration.training_decision != TrainingDecision.TRAINING:
                path = [s for s in path if s != S.EN_FORMATION]
            previous = S.INSCRIT
            for index, state in enumerate(path, start=1):
                events.append(RegistrationEvent(
                    registration=registration, at=at + datetime.timedelta(days=20 * index),
                    actor=data.staff, kind=RegistrationEvent.Kind.TRANSITION,
                    from_state=previous, to_state=state))
                previous = state
            if target == S.ABANDON:
                events.append(RegistrationEvent(
                    registration=registration, at=at + datetime.timedelta(days=30),
                    actor=data.staff, kind=RegistrationEvent.Kind.TRANSITION,
                    from_state=S.INSCRIT, to_state=S.ABANDON, message="Départ de l'entreprise."))
        RegistrationEvent.objects.bulk_create(events, batch_size=5000)
        self.count("registration events", len(events))

    def _members(self, data: CentreData, n: int) -> list[tuple]:
        pairs = []
        pool = data.evaluators
        for i in range(n):
            a = pool[(2 * i) % len(pool)]
            b = pool[(2 * i + 1 + i // len(pool)) % len(pool)]
            if a.pk == b.pk:
                b = pool[(2 * i + 2) % len(pool)]
            pairs.append((a, b))
        return pairs

    def commissions(self, data: CentreData, rows: list[dict], *, signed: bool, year: int
                    ) -> None:
        if not rows:
            return
        rng = self.rng
        groups: list[list[dict]] = []
        for vd_rows in _by_version(rows).values():
            groups += [vd_rows[i:i + PER_COMMISSION] for i in range(0, len(vd_rows),
                                                                     PER_COMMISSION)]
        commissions = []
        for group in groups:
            if signed:
                latest = max(r["registered_on"] for r in group)
                date = min(latest + datetime.timedelta(days=rng.randrange(60, 150)),
                           self.today - datetime.timedelta(days=20)
                           if year == self.today.year else datetime.date(year + 1, 2, 28))
            else:
                date = self.today + datetime.timedelta(days=rng.randrange(3, 60))
            commissions.append(Commission(
                centre=data.centre, date=date, start_time=datetime.time(8, 30),
                end_time=datetime.time(17), place=f"Atelier école — {data.centre.name[:40]}",
                status=CommissionStatus.HELD if signed else CommissionStatus.CONFIRMED,
                confirmed_at=self.now, created_by=data.staff))
        commissions = Commission.objects.bulk_create(commissions)
        through = Commission.certifications.through
        through.objects.bulk_create([
            through(commission_id=c.pk, certification_id=g[0]["vd"].certification.pk)
            for c, g in zip(commissions, groups, strict=True)])
        members = []
        for commission, (a, b) in zip(commissions, self._members(data, len(commissions)),
                                      strict=True):
            members.append(CommissionMember(commission=commission, evaluator=a,
                                            role=MemberRole.PRESIDENT, answer=Answer.CONFIRMED,
                                            answered_at=self.now, convocation_sent_at=self.now))
            members.append(CommissionMember(commission=commission, evaluator=b,
                                            role=MemberRole.MEMBER, answer=Answer.CONFIRMED,
                                            answered_at=self.now, convocation_sent_at=self.now))
        members = CommissionMember.objects.bulk_create(members)
        by_commission: dict[int, list] = {}
        for member in members:
            by_commission.setdefault(member.commission_id, []).append(member)
        scheduled = []
        for commission, group in zip(commissions, groups, strict=True):
            for slot, row in enumerate(group):
                scheduled.append(ScheduledCandidate(
                    commission=commission, registration=row["registration"],
                    start_time=datetime.time(8 + slot, 30),
                    convocation_sent_at=self.now,
                    attendance="present" if signed else ""))
                row["commission"] = commission
        scheduled = ScheduledCandidate.objects.bulk_create(scheduled)
        flat_rows = [row for group in groups for row in group]
        for item, row in zip(scheduled, flat_rows, strict=True):
            item.commission = row["commission"]
            item.registration = row["registration"]
            row["scheduled"] = item
        self.count("commissions", len(commissions))
        self.grids(data, flat_rows, by_commission, signed=signed)

    def grids(self, data: CentreData, rows: list[dict], members: dict, *, signed: bool) -> None:
        rng = self.rng
        grids = Grid.objects.bulk_create([
            Grid(scheduled=r["scheduled"], created_at=timezone.make_aware(
                datetime.datetime.combine(r["commission"].date, datetime.time(8))
                + datetime.timedelta(minutes=i % 600)))
            for i, r in enumerate(rows)])
        competence_results = []
        for grid, row in zip(grids, rows, strict=True):
            row["grid"] = grid
            vd = row["vd"]
            failing = set()
            if signed and row["outcome"] == Outcome.PARTIAL:
                failing = {vd.blocs[-1].pk}
            elif signed and row["outcome"] == Outcome.FAILED:
                failing = {b.pk for b in vd.blocs}
            row["failing_blocs"] = failing
            seen_bloc = set()
            results = []
            for competence in vd.competences:
                fails = competence.bloc_id in failing and competence.bloc_id not in seen_bloc
                if fails:
                    seen_bloc.add(competence.bloc_id)
                level = None
                if signed:
                    level = vd.not_mastered if fails else vd.mastered
                elif rng.random() < 0.3:
                    level = vd.mastered
                result = CompetenceResult(
                    grid=grid, competence=competence, planned_modality=competence.modalities[0],
                    modality_used=competence.modalities[0], level=level,
                    comment=NM_COMMENT if fails else "", updated_by=None)
                result._fails = fails
                results.append(result)
            row["results"] = results
            competence_results += results
        CompetenceResult.objects.bulk_create(competence_results, batch_size=2000)
        criterion_results = []
        for row in rows:
            pairs = []
            for result in row["results"]:
                criteria = []
                for index, criterion in enumerate(row["vd"].criteria[result.competence_id]):
                    fails = result._fails and index == 0
                    satisfied = (not fails) if signed else (
                        True if result.level_id else None)
                    criteria.append(CriterionResult(
                        competence_result=result, criterion=criterion, satisfied=satisfied,
                        concerned=fails,
                        notes="Intervention guidée par le tuteur." if fails else ""))
                pairs.append((result, criteria))
                criterion_results += criteria
            row["pairs"] = pairs
        insert_rows(CriterionResult, criterion_results, batch_size=50_000)
        self.count("grids", len(grids))
        self.count("criterion results", len(criterion_results))
        events = [GridEvent(grid=r["grid"], at=self.now, action=GridEvent.Action.CREATED)
                  for r in rows]
        if not signed:
            GridEvent.objects.bulk_create(events, batch_size=5000)
            return
        signatures, documents = [], []
        for row in rows:
            grid = row["grid"]
            commission = row["commission"]
            grid_members = sorted(members[commission.pk], key=lambda m: (m.role, m.pk))
            for member in grid_members:
                member.commission = commission
            snapshot = snapshot_of(grid_pk=grid.pk, scheduled=row["scheduled"],
                                   members=grid_members, rating_levels=row["vd"].levels,
                                   results=row["pairs"], incidents=[])
            digest = sha256_of(snapshot)
            at = timezone.make_aware(datetime.datetime.combine(commission.date,
                                                               datetime.time(17)))
            grid.state = GridState.SIGNED
            grid.locked_at = at
            grid.snapshot = snapshot
            grid.snapshot_sha256 = digest
            grid.summary = summary_of(snapshot)
            president = grid_members[-1].evaluator.user
            events += [
                GridEvent(grid=grid, at=at, actor=president,
                          action=GridEvent.Action.ATTENDANCE, after={"attendance": "present"}),
                GridEvent(grid=grid, at=at, actor=president, action=GridEvent.Action.SUBMITTED)]
            for member in grid_members:
                signatures.append(Signature(
                    grid=grid, member=member, signer_name=str(member.evaluator), signed_at=at,
                    ip_address="127.0.0.1", user_agent="seed_demo --scale",
                    consent_version=CURRENT_CONSENT_VERSION, snapshot_sha256=digest,
                    snapshot=snapshot))
                events.append(GridEvent(grid=grid, at=at, actor=member.evaluator.user,
                                        action=GridEvent.Action.SIGNED,
                                        target=str(member.evaluator),
                                        after={"sha256": digest,
                                               "consent": CURRENT_CONSENT_VERSION}))
            events.append(GridEvent(grid=grid, at=at, actor=president,
                                    action=GridEvent.Action.LOCKED, after={"sha256": digest}))
            documents.append(GeneratedDocument(kind=GeneratedDocument.Kind.GRID, grid=grid,
                                               content_sha256=digest, created_at=at))
        # Written as draft, then locked in one statement per batch: the lock is the last write.
        Grid.objects.bulk_update([r["grid"] for r in rows],
                                 ["state", "locked_at", "snapshot", "snapshot_sha256",
                                  "summary"],
                                 batch_size=200)
        Signature.objects.bulk_create(signatures, batch_size=500)
        GeneratedDocument.objects.bulk_create(documents, batch_size=2000)
        GridEvent.objects.bulk_create(events, batch_size=5000)
        self.count("signatures", len(signatures))

    def opinions(self, rows: list[dict]) -> None:
        rows = [r for r in rows if r["registration"].tutor_id and company_opinion_applies(
            kind=r["vd"].certification.kind, path=r["registration"].path)]
        opinions = CompanyOpinion.objects.bulk_create([
            CompanyOpinion(registration=r["registration"],
                           given_by_name="Tuteur en entreprise", given_by_function="Chef d'atelier",
                           given_at=self.now, overall="favorable",
                           comment="Candidat rigoureux et autonome au poste.")
            for r in rows])
        CompanyOpinionItem.objects.bulk_create([
            CompanyOpinionItem(opinion=o, competence=c, level=OpinionLevel.MASTERED)
            for o, r in zip(opinions, rows, strict=True) for c in r["vd"].competences],
            batch_size=5000)

    def juries(self, data: CentreData, rows: list[dict], *, closed: bool) -> None:
        if not rows:
            return
        rows = sorted(rows, key=lambda r: r["commission"].date)
        groups = [rows[i:i + PER_SESSION] for i in range(0, len(rows), PER_SESSION)]
        sessions = JurySession.objects.bulk_create([
            JurySession(centre=data.centre,
                        date=(max(r["commission"].date for r in g)
                              + datetime.timedelta(days=14)) if closed
                        else self.today,
                        start_time=datetime.time(14), place="Salle du conseil",
                        status=SessionStatus.CLOSED if closed else SessionStatus.OPEN,
                        opened_at=self.now, created_by=data.staff)
            for g in groups])
        through = JurySession.certifications.through
        through.objects.bulk_create([
            through(jurysession_id=s.pk, certification_id=c)
            for s, g in zip(sessions, groups, strict=True)
            for c in sorted({r["vd"].certification.pk for r in g})])
        seats = []
        for n, session in enumerate(sessions):
            employers = [data.jury_employers[(n + k) % JURY_PER_COLLEGE] for k in range(2)]
            employees = [data.jury_employees[(n + k) % JURY_PER_COLLEGE] for k in range(2)]
            for k, member in enumerate(employers + employees):
                seats.append(Seat(session=session, member=member, is_president=k == 0,
                                  present=True, presence_recorded_at=self.now,
                                  convocation_sent_at=self.now))
        Seat.objects.bulk_create(seats)
        session_candidates = SessionCandidate.objects.bulk_create([
            SessionCandidate(session=s, registration=r["registration"])
            for s, g in zip(sessions, groups, strict=True) for r in g])
        flat = [r for g in groups for r in g]
        deliberating_by_session = {}
        for seat in seats:
            deliberating_by_session.setdefault(seat.session_id, []).append(str(seat.member))
        decisions = []
        for sc, row in zip(session_candidates, flat, strict=True):
            if not closed and self.rng.random() < 0.7:
                continue     # an open session: the jury has decided on some candidates so far
            outcome = row["outcome"] or Outcome.PASSED
            blocs = sorted(b.code for b in row["vd"].blocs if b.pk not in row["failing_blocs"])
            session = sc.session
            decisions.append(Decision(
                session_candidate=sc, registration=row["registration"],
                proposed_outcome=outcome, proposed_blocs=blocs, outcome=outcome,
                acquired_blocs=blocs if outcome != Outcome.FAILED else [],
                evaluation_conform=True, admission_conditions_met=True,
                deliberating=deliberating_by_session[session.pk], abstentions=[],
                decided_by=data.staff,
                decided_at=timezone.make_aware(datetime.datetime.combine(
                    session.date, datetime.time(14))) + datetime.timedelta(
                    minutes=len(decisions) % 600),
                final_at=self.now if closed else None))
        Decision.objects.bulk_create(decisions, batch_size=2000)
        self.count("jury sessions", len(sessions))
        self.count("decisions", len(decisions))
        if not closed:
            return
        minutes = []
        for session in sessions:
            snapshot = minutes_snapshot(session)
            minutes.append(Minutes(session=session, signed_by=data.jury_employers[0].user,
                                   signed_at=self.now, snapshot=snapshot,
                                   snapshot_sha256=sha256_of(snapshot)))
        minutes = Minutes.objects.bulk_create(minutes)
        GeneratedDocument.objects.bulk_create([
            GeneratedDocument(kind=GeneratedDocument.Kind.PV, session=m.session, minutes=m,
                              content_sha256=m.snapshot_sha256, created_at=self.now)
            for m in minutes])


def _by_version(rows: list[dict]) -> dict:
    groups: dict = {}
    for row in rows:
        groups.setdefault(row["vd"].version.pk, []).append(row)
    return groups


def seed_scale(scale: int, *, log=print) -> dict[str, int]:
    """Load ``scale`` centre-years of volume data (once). Returns what was created."""
    if Centre.objects.filter(code=MARKER_CENTRE).exists():
        log("Données de volume déjà chargées (centre volume-01) : rien à faire.")
        return {}
    with transaction.atomic():
        seeder = Seeder()
        versions = load_versions()
        centre_plan = plan(scale)
        for index, (code, units) in enumerate(centre_plan, start=1):
            data = seeder.centre(code, index, versions)
            if index == 1:
                national, = seeder.users([("vol-national", "Lecture", "Nationale")])
                CentreMembership.objects.create(user=national, centre=data.centre,
                                                role=Role.NATIONAL)
            for k in range(units):
                year = seeder.today.year - k
                seeder.unit(data, year, versions)
                log(f"  {code} {year} : {UNIT} inscriptions.")
    return seeder.counts
