"""DOMAIN.md §1–2: the company's avis is collected for CQPM, CQPI and blocs, except in VAE,
and never for CCPM/CCPI. The rule is written once (``company_opinion_applies``); the
registration and the link service follow it."""

import pytest
from django.core.exceptions import ValidationError

from candidates import services
from candidates.models import AccessLink, LinkPurpose, Path, company_opinion_applies
from certifications.models import CertificationKind
from tests.factories import make_registration

# Written out from DOMAIN.md §1 rather than derived from the code under test.
KINDS_COLLECTING_THE_AVIS = {"CQPM", "CQPI", "BLOC"}
REFUSAL = ("L'avis de l'entreprise n'est pas recueilli pour cette inscription (CCPM, CCPI ou "
           "VAE).")

COMBINATIONS = [
    pytest.param(kind, path, kind in KINDS_COLLECTING_THE_AVIS and path != "vae",
                 id=f"{kind}-{path}")
    for kind in CertificationKind.values for path in Path.values
]


def test_every_kind_and_path_is_covered():
    assert set(CertificationKind.values) == {"CQPM", "CQPI", "BLOC", "CCPM", "CCPI"}
    assert len(COMBINATIONS) == len(CertificationKind.values) * len(Path.values)


@pytest.mark.parametrize(("kind", "path", "expected"), COMBINATIONS)
def test_company_opinion_applies_per_kind_and_path(kind, path, expected):
    assert company_opinion_applies(kind=kind, path=path) is expected


@pytest.mark.django_db
@pytest.mark.parametrize(("kind", "path", "expected"), COMBINATIONS)
def test_registration_and_link_service_follow_the_rule(kind, path, expected, mailoutbox,
                                                       django_capture_on_commit_callbacks):
    registration = make_registration(kind=kind, path=path)

    assert registration.company_opinion_applies is expected
    with django_capture_on_commit_callbacks(execute=True):
        if expected:
            link = services.issue_link(registration=registration,
                                       purpose=LinkPurpose.COMPANY_OPINION, actor=None)
            assert link.email == registration.tutor.email
        else:
            with pytest.raises(ValidationError) as refused:
                services.issue_link(registration=registration,
                                    purpose=LinkPurpose.COMPANY_OPINION, actor=None)
            assert refused.value.messages == [REFUSAL]

    assert AccessLink.objects.filter(registration=registration).count() == int(expected)
    assert len(mailoutbox) == int(expected)
