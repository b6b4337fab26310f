"""Fixtures of the commissions tests: a centre, its staff, a certification with a published
referential, evaluators ready to sit on it, candidates ready for evaluation and a
commission in two weeks."""

import pytest

from certifications.models import Role
from tests.factories import (
    CentreFactory,
    build_version,
    make_commission,
    make_evaluator,
    make_ready,
    make_registration,
    member,
)


@pytest.fixture
def centre(db):
    return CentreFactory(name="UIMM Pays de la Loire")


@pytest.fixture
def staff(centre):
    """A gestionnaire of ``centre``."""
    return member(Role.STAFF, centre=centre, username="claire.gestin", first_name="Claire",
                  last_name="Gestin")


@pytest.fixture
def other_staff(db):
    """A gestionnaire of another centre: sees nothing of ``centre``."""
    return member(Role.STAFF)


@pytest.fixture
def version(db):
    """A published CQPM referential (2 blocs × 2 competences)."""
    return build_version()


@pytest.fixture
def certification(version):
    return version.certification


@pytest.fixture
def evaluator_factory(centre, certification):
    """``create(**kwargs)``: an evaluator of ``centre`` habilitated for ``certification``
    with the current charter accepted (see ``tests.factories.make_evaluator``)."""

    def create(**kwargs):
        kwargs.setdefault("centre", centre)
        kwargs.setdefault("certifications", [certification])
        return make_evaluator(**kwargs)

    return create


@pytest.fixture
def president(evaluator_factory):
    return evaluator_factory(user__first_name="Marc", user__last_name="Durand")


@pytest.fixture
def assessor(evaluator_factory):
    return evaluator_factory(user__first_name="Sophie", user__last_name="Martin")


@pytest.fixture
def ready_factory(centre, version, staff):
    """``create(**kwargs)``: a registration of ``centre`` on ``version``, prêt pour
    l'évaluation (kwargs go to ``make_registration``)."""

    def create(**kwargs):
        kwargs.setdefault("centre", centre)
        kwargs.setdefault("version", version)
        kwargs.setdefault("actor", staff)
        return make_ready(make_registration(**kwargs), actor=staff)

    return create


@pytest.fixture
def ready(ready_factory):
    return ready_factory()


@pytest.fixture
def commission(centre, certification, staff):
    """A draft commission of ``centre`` for ``certification`` in two weeks, empty."""
    return make_commission(centre=centre, certifications=[certification], actor=staff)


# ---------------------------------------------------------------------------
# Links between an evaluator and a candidate (DOMAIN.md §4): each one forbids the pair
# ---------------------------------------------------------------------------
# kind of link → the code of the impartiality problem it raises
LINKS = {
    "same_company_other_establishment": "same_company",
    "same_company_via_candidate_employer": "same_company",
    "tutor": "tutor",
    "referent_trainer": "trainer",
    "manager": "manager",
    "declared_with_candidate": "declared",
    "declared_with_company_of_same_siren": "declared",
}


def _siren(evaluator) -> str:
    return evaluator.employer_siret[:9]


@pytest.fixture
def linked_registration(centre, version, staff):
    """``create(kind, evaluator)``: a registration prêt pour l'évaluation whose candidate is
    linked to ``evaluator`` by ``kind`` (one of ``LINKS``) — and by nothing else."""
    from candidates.services import create_registration
    from commissions import services
    from tests.factories import CandidateFactory, CompanyFactory, TutorFactory, siret_of_siren

    def create(kind, evaluator):
        # The evaluator's e-mail, typed differently: the comparison ignores case.
        email = evaluator.user.email.upper()
        company = CompanyFactory(centre=centre)
        if kind == "same_company_other_establishment":
            company = CompanyFactory(centre=centre, siret=siret_of_siren(_siren(evaluator), 42))
        candidate = CandidateFactory(centre=centre, employer=company)
        fields = {"path": "salarie", "company": company}
        if kind == "same_company_via_candidate_employer":
            candidate.employer = CompanyFactory(
                centre=centre, siret=siret_of_siren(_siren(evaluator), 77))
            candidate.save()
            fields = {"path": "demandeur_emploi", "company": None}
        if kind == "tutor":
            fields["tutor"] = TutorFactory(company=company, email=email)
        if kind == "referent_trainer":
            fields["referent_trainer_email"] = email
        if kind == "manager":
            fields["manager_email"] = email
        registration = create_registration(actor=staff, centre=centre, candidate=candidate,
                                           version=version, **fields).registration
        if kind == "declared_with_candidate":
            services.declare_conflict(evaluator=evaluator, candidate=candidate,
                                      reason="ancien collègue de l'atelier")
        if kind == "declared_with_company_of_same_siren":
            # The declaration names another establishment of the candidate's company.
            sibling = CompanyFactory(centre=centre, siret=siret_of_siren(company.siren, 9931))
            services.declare_conflict(evaluator=evaluator, company=sibling,
                                      reason="prestataire régulier de l'entreprise")
        return make_ready(registration, actor=staff)

    return create


@pytest.fixture(params=list(LINKS))
def link(request) -> str:
    """Every kind of link, one test each."""
    return request.param


# ---------------------------------------------------------------------------
# Files
# ---------------------------------------------------------------------------

@pytest.fixture
def upload(media_root, real_pdf, staff):
    """``upload(registration)``: a current PDF document in the registration's dossier."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from candidates.models import DocumentKind
    from candidates.services import upload_document

    def create(registration, kind=DocumentKind.ACTIVITY_REPORT):
        return upload_document(registration=registration, kind=kind, actor=staff,
                               uploaded=SimpleUploadedFile("rapport.pdf", real_pdf))

    return create
