"""factory_boy factories shared by the whole suite."""

import datetime
import io

import factory
from django.contrib.auth import get_user_model
from pypdf import PdfWriter

from certifications.models import (
    Bloc,
    Centre,
    CentreMembership,
    Certification,
    CertificationKind,
    Competence,
    Criterion,
    Modality,
    RatingLevel,
    ReferentialVersion,
    Role,
)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name", locale="fr_FR")
    last_name = factory.Faker("last_name", locale="fr_FR")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    password = factory.PostGenerationMethodCall("set_password", "motdepasse-solide-42")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):  # noqa: N805
        if create:
            obj.save()


class CentreFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Centre
        django_get_or_create = ["code"]

    code = factory.Sequence(lambda n: f"centre-{n}")
    reference_prefix = factory.Sequence(lambda n: f"C{n:03d}")
    name = factory.Sequence(lambda n: f"UIMM Centre {n}")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CentreMembership

    user = factory.SubFactory(UserFactory)
    centre = factory.SubFactory(CentreFactory)
    role = Role.STAFF


def member(role=Role.STAFF, centre=None, **user_kwargs):
    """A user holding ``role`` in ``centre`` (a new centre when None)."""
    user = UserFactory(**user_kwargs)
    if role == Role.STAFF:
        user.is_staff = True
        user.save()
    MembershipFactory(user=user, centre=centre or CentreFactory(), role=role)
    return user


class CertificationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Certification

    kind = CertificationKind.CQPM
    code = factory.Sequence(lambda n: f"MQ 2024 00 00 {n:04d}")
    title = factory.Sequence(lambda n: f"Opérateur(trice) régleur(se) {n}")
    registry = "RNCP"
    registry_number = factory.Sequence(lambda n: f"RNCP{n:05d}")
    issuing_body = "CPNE de la métallurgie"
    level = 4


def build_version(
    *, certification=None, kind=CertificationKind.CQPM, blocs=2, competences=2, criteria=3,
    publish=True, label="2024-1",
) -> ReferentialVersion:
    """A complete referential version: ``blocs`` × ``competences`` × ``criteria``
    (competences directly on the version for CCPM/CCPI)."""
    from certifications.services import publish_version

    certification = certification or CertificationFactory(kind=kind)
    version = ReferentialVersion.objects.create(
        certification=certification, label=label, valid_from=datetime.date(2024, 1, 1)
    )
    RatingLevel.objects.create(version=version, code="MA", label="Maîtrisée en toute autonomie",
                               mastered=True, order=1)
    RatingLevel.objects.create(version=version, code="NM",
                               label="Non maîtrisée en toute autonomie", mastered=False, order=2)
    parents = (
        [Bloc.objects.create(version=version, code=f"B{b}", title=f"Bloc {b}", order=b)
         for b in range(1, blocs + 1)]
        if certification.has_blocs else [None]
    )
    number = 0
    for bloc in parents:
        for _ in range(competences):
            number += 1
            competence = Competence.objects.create(
                version=version, bloc=bloc, code=f"C{number}", title=f"Compétence {number}",
                modalities=[Modality.SITUATION_PROFESSIONNELLE, Modality.PRESENTATION_PROJETS],
                order=number,
            )
            Criterion.objects.bulk_create(
                Criterion(competence=competence, code=f"C{number}.{k}",
                          text=f"Critère observable {number}.{k}", order=k)
                for k in range(1, criteria + 1)
            )
    if publish:
        version = publish_version(version=version)
    return version


# ---------------------------------------------------------------------------
# candidates
# ---------------------------------------------------------------------------
def make_siret(seed: int) -> str:
    """A SIRET with a valid Luhn key, different for each seed."""
    from candidates.validators import luhn_valid

    base = f"{(seed * 7919 + 4123456780000) % 10**13:013d}"
    for last in range(10):
        if luhn_valid(base + str(last)):
            return base + str(last)
    raise AssertionError("unreachable")


class CompanyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "candidates.Company"

    centre = factory.SubFactory(CentreFactory)
    name = factory.Sequence(lambda n: f"Mécanique de l'Ouest {n}")
    siret = factory.Sequence(lambda n: make_siret(n + 1))
    address = "12 rue des Forges"
    postal_code = "44000"
    city = "Nantes"
    contact_email = factory.Sequence(lambda n: f"contact{n}@entreprise.example")


class CandidateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "candidates.Candidate"

    centre = factory.SubFactory(CentreFactory)
    birth_name = factory.Faker("last_name", locale="fr_FR")
    first_names = factory.Faker("first_name", locale="fr_FR")
    birth_date = datetime.date(1995, 5, 17)
    sex = "F"
    email = factory.Sequence(lambda n: f"candidat{n}@mail.example")
    employer = factory.SubFactory(CompanyFactory, centre=factory.SelfAttribute("..centre"))


class TutorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "candidates.Tutor"

    company = factory.SubFactory(CompanyFactory)
    first_name = factory.Faker("first_name", locale="fr_FR")
    last_name = factory.Faker("last_name", locale="fr_FR")
    email = factory.Sequence(lambda n: f"tuteur{n}@entreprise.example")
    job_title = "Responsable maintenance"


def make_registration(*, centre=None, version=None, path="salarie", actor=None, kind="CQPM",
                      with_tutor=True, **kwargs):
    """A registration created through the service (timeline included)."""
    from candidates.services import create_registration

    centre = centre or CentreFactory()
    version = version or build_version(kind=kind)
    candidate = CandidateFactory(centre=centre)
    company = candidate.employer
    tutor = TutorFactory(company=company) if with_tutor else None
    return create_registration(
        actor=actor, centre=centre, candidate=candidate, version=version, path=path,
        company=company, tutor=tutor, **kwargs,
    ).registration


def make_ready(registration, *, actor=None):
    """Complete the dossier (one allowed modality per competence, situation professionnelle
    first), decide "sans formation" and move the registration to prêt pour l'évaluation."""
    from candidates.services import decide_without_training, set_planned_modalities, transition

    set_planned_modalities(
        registration=registration,
        modalities={c.pk: ("situation_professionnelle" if "situation_professionnelle"
                           in c.modalities else c.modalities[0])
                    for c in registration.version.competences.all()},
    )
    decide_without_training(registration=registration, actor=actor)
    return transition(registration=registration, to_state="pret_evaluation", actor=actor)


# ---------------------------------------------------------------------------
# commissions
# ---------------------------------------------------------------------------
def siret_of_siren(siren: str, establishment: int) -> str:
    """A valid SIRET of the legal unit ``siren`` (9 digits), establishment number
    ``establishment`` — several establishments of one company share the SIREN."""
    from candidates.validators import luhn_valid

    for key in range(10):
        siret = f"{siren}{establishment:04d}{key}"
        if luhn_valid(siret):
            return siret
    raise AssertionError("unreachable")


def ensure_charter():
    """The current deontology charter (the data migration's version 1, or a new one when a
    transactional test flushed it)."""
    from commissions.charter import CHARTER_V1_LABEL, CHARTER_V1_TEXT
    from commissions.models import CharterVersion

    current = CharterVersion.current()
    if current is None:
        current, _created = CharterVersion.objects.get_or_create(
            label=CHARTER_V1_LABEL,
            defaults={"text": CHARTER_V1_TEXT,
                      "published_at": datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)})
    return current


class EvaluatorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "commissions.Evaluator"

    user = factory.SubFactory(UserFactory)
    centre = factory.SubFactory(CentreFactory)
    employer_name = factory.Sequence(lambda n: f"Forges et Ateliers de Loire {n}")
    # Far from CompanyFactory's seeds: never the SIREN of a candidate's company by chance.
    employer_siret = factory.Sequence(lambda n: make_siret(900_000 + 1_000 * n))
    profession = "Responsable maintenance industrielle"
    initial_training_on = datetime.date(2024, 3, 12)


def make_evaluator(*, centre=None, certifications=(), charter=True, valid_from=None,
                   valid_until=None, **kwargs):
    """An evaluator of ``centre`` ready to sit: a user with the evaluateur role, a profile, a
    habilitation valid today (±1 year) for ``certifications`` and the current charter
    accepted. ``kwargs`` go to EvaluatorFactory (``user__email=…`` for the account)."""
    from django.utils import timezone

    from commissions.models import CharterAcceptance, Habilitation

    centre = centre or CentreFactory()
    # A published charter exists in every environment (data migration) — also after a
    # transactional test flushed the tables.
    current_charter = ensure_charter()
    user_kwargs = {key[len("user__"):]: kwargs.pop(key)
                   for key in list(kwargs) if key.startswith("user__")}
    user = member(Role.EVALUATOR, centre=centre, **user_kwargs)
    evaluator = EvaluatorFactory(user=user, centre=centre, **kwargs)
    if certifications:
        today = timezone.localdate()
        habilitation = Habilitation.objects.create(
            evaluator=evaluator,
            valid_from=valid_from or today - datetime.timedelta(days=30),
            valid_until=valid_until or today + datetime.timedelta(days=335))
        habilitation.certifications.set(certifications)
    if charter:
        CharterAcceptance.objects.create(evaluator=evaluator, charter=current_charter)
    return evaluator


def make_commission(*, centre=None, certifications=(), date=None, start_time=None,
                    members=(), registrations=(), confirm=False, actor=None, **kwargs):
    """A commission in two weeks (by default); ``members`` are added through the service, the
    first one as president; ``registrations`` are scheduled every 20 minutes from 8:00."""
    from django.utils import timezone

    from commissions import services
    from commissions.models import Commission, MemberRole

    centre = centre or CentreFactory()
    kwargs.setdefault("place", "Pôle Formation UIMM, 2 rue de la Fonderie, Nantes")
    commission = Commission.objects.create(
        centre=centre, date=date or timezone.localdate() + datetime.timedelta(days=14),
        start_time=start_time or datetime.time(8, 30), end_time=datetime.time(17, 0),
        created_by=actor, **kwargs)
    commission.certifications.set(certifications)
    for index, evaluator in enumerate(members):
        services.add_member(commission=commission, evaluator=evaluator, actor=actor,
                            role=MemberRole.PRESIDENT if index == 0 else MemberRole.MEMBER)
    first = datetime.datetime.combine(commission.date, datetime.time(8, 0))
    for index, registration in enumerate(registrations):
        services.schedule_candidate(
            commission=commission, registration=registration, actor=actor,
            start_time=(first + datetime.timedelta(minutes=20 * index)).time())
    if confirm:
        commission = services.confirm_commission(commission=commission, actor=actor)
    return commission


def real_pdf() -> bytes:
    """A genuine one-page PDF, as a word processor would write it."""
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()
