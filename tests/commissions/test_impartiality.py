"""The impartiality check and the eligibility of an evaluator (DOMAIN.md §4), as the one
service ``commissions.impartiality`` answers them — every assigning path relies on it."""

import datetime

import pytest
from django.utils import timezone

from candidates.models import Registration
from commissions import impartiality, services
from commissions.models import CharterVersion, Unavailability
from tests.commissions.conftest import LINKS
from tests.factories import (
    CertificationFactory,
    CompanyFactory,
    make_siret,
    siret_of_siren,
)

pytestmark = pytest.mark.django_db


def codes(problems) -> list[str]:
    return [problem.code for problem in problems]


def fresh(registration) -> Registration:
    return Registration.objects.get(pk=registration.pk)


# ---------------------------------------------------------------------------
# Links with the candidate
# ---------------------------------------------------------------------------
def test_each_link_with_the_candidate_is_a_conflict(president, linked_registration, link):
    registration = linked_registration(link, president)

    assert codes(impartiality.conflicts(president, fresh(registration))) == [LINKS[link]]


def test_each_conflict_message_is_french_and_names_evaluator_and_candidate(
    president, linked_registration, link
):
    registration = fresh(linked_registration(link, president))

    [problem] = impartiality.conflicts(president, registration)

    assert str(president) == "Marc Durand"
    assert "Marc Durand" in problem.message
    assert registration.candidate.full_name in problem.message
    assert str(problem) == problem.message


def test_conflict_messages_say_which_link(president, linked_registration):
    messages = {}
    for kind in LINKS:
        registration = fresh(linked_registration(kind, president))
        message = impartiality.conflicts(president, registration)[0].message
        messages[kind] = message.replace(registration.candidate.full_name, "«candidat»")

    assert messages == {
        "same_company_other_establishment":
            "Marc Durand travaille dans la même entreprise (même SIREN) que «candidat».",
        "same_company_via_candidate_employer":
            "Marc Durand travaille dans la même entreprise (même SIREN) que «candidat».",
        "tutor": "Marc Durand est le tuteur de «candidat».",
        "referent_trainer": "Marc Durand est le formateur référent de «candidat».",
        "manager": "Marc Durand est le responsable hiérarchique de «candidat».",
        "declared_with_candidate": "Marc Durand a déclaré un conflit d'intérêts concernant "
                                   "«candidat» : ancien collègue de l'atelier.",
        "declared_with_company_of_same_siren": "Marc Durand a déclaré un conflit d'intérêts "
                                               "concernant «candidat» : prestataire régulier "
                                               "de l'entreprise.",
    }


def test_company_with_another_siren_is_no_conflict(president, ready):
    assert ready.company.siren != president.employer_siren

    assert impartiality.conflicts(president, fresh(ready)) == []


def test_same_siren_is_a_conflict_whatever_the_establishment(president, ready):
    """Two establishments: same 9 first digits (SIREN), different NIC."""
    company = ready.company
    company.siret = siret_of_siren(president.employer_siren, 1234)
    company.save()
    assert company.siret != president.employer_siret

    assert codes(impartiality.conflicts(president, fresh(ready))) == ["same_company"]


def test_sirets_sharing_fewer_than_nine_digits_are_other_companies(president, ready):
    company = ready.company
    siren = president.employer_siren
    other_siren = siren[:8] + str((int(siren[8]) + 1) % 10)
    company.siret = siret_of_siren(other_siren, int(president.employer_siret[9:13]))
    company.save()

    assert impartiality.conflicts(president, fresh(ready)) == []


def test_evaluator_without_employer_has_no_company_conflict(evaluator_factory, ready):
    evaluator = evaluator_factory(employer_siret="", employer_name="")

    assert impartiality.conflicts(evaluator, fresh(ready)) == []


def test_tutor_with_another_email_is_no_conflict(president, ready):
    assert ready.tutor.email != president.user.email

    assert impartiality.conflicts(president, fresh(ready)) == []


def test_blank_emails_never_match(evaluator_factory, ready):
    """An evaluator without e-mail is not the tutor of a registration without referent
    trainer or manager."""
    evaluator = evaluator_factory(user__email="")

    assert impartiality.conflicts(evaluator, fresh(ready)) == []


def test_declared_conflict_with_another_candidate_is_no_conflict(president, ready, ready_factory):
    other = ready_factory()
    services.declare_conflict(evaluator=president, candidate=other.candidate,
                              reason="voisin")

    assert impartiality.conflicts(president, fresh(ready)) == []


def test_declared_conflict_with_another_company_is_no_conflict(president, centre, ready):
    elsewhere = CompanyFactory(centre=centre, siret=make_siret(555_555))
    assert elsewhere.siren != ready.company.siren
    services.declare_conflict(evaluator=president, company=elsewhere, reason="client")

    assert impartiality.conflicts(president, fresh(ready)) == []


def test_declaring_a_conflict_requires_a_target_and_a_reason(president, ready):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as no_target:
        services.declare_conflict(evaluator=president, reason="lien familial")
    with pytest.raises(ValidationError) as no_reason:
        services.declare_conflict(evaluator=president, candidate=ready.candidate, reason="  ")

    assert no_target.value.messages == ["Précisez l'entreprise ou le candidat concerné."]
    assert no_reason.value.messages == ["Décrivez la nature du lien."]


def test_several_links_are_all_reported(president, ready):
    Registration.objects.filter(pk=ready.pk).update(
        referent_trainer_email=president.user.email, manager_email=president.user.email)
    services.declare_conflict(evaluator=president, candidate=ready.candidate, reason="cousin")

    assert codes(impartiality.conflicts(president, fresh(ready))) == [
        "trainer", "manager", "declared"]


# ---------------------------------------------------------------------------
# Eligibility: active, charter, habilitation, availability
# ---------------------------------------------------------------------------
def eligibility(evaluator, commission):
    return impartiality.eligibility_problems(
        evaluator, certifications=list(commission.certifications.all()), on=commission.date)


def publish_new_charter(label="2026-1") -> CharterVersion:
    return CharterVersion.objects.create(label=label, text="Charte révisée.",
                                         published_at=timezone.now())


def test_ready_evaluator_is_eligible(president, commission):
    assert eligibility(president, commission) == []


def test_evaluator_who_accepted_only_an_older_charter_is_not_eligible(president, commission):
    publish_new_charter()

    problems = eligibility(president, commission)

    assert codes(problems) == ["charter"]
    assert problems[0].message == ("Marc Durand n'a pas accepté la version en vigueur de la "
                                   "charte de déontologie.")


def test_accepting_the_current_charter_makes_the_evaluator_eligible_again(president, commission):
    new = publish_new_charter()

    services.accept_charter(evaluator=president)

    assert president.charter_acceptances.filter(charter=new).exists()
    assert eligibility(president, commission) == []


def test_charter_published_in_the_future_is_not_yet_the_current_one(president, commission):
    CharterVersion.objects.create(label="2099-1", text="Future charte.",
                                  published_at=timezone.now() + datetime.timedelta(days=30))

    assert eligibility(president, commission) == []


def test_evaluator_who_never_accepted_the_charter_is_not_eligible(evaluator_factory, commission):
    evaluator = evaluator_factory(charter=False)

    assert codes(eligibility(evaluator, commission)) == ["charter"]


def test_accepting_the_charter_twice_records_one_acceptance(president):
    first = services.accept_charter(evaluator=president, ip="192.0.2.1")
    again = services.accept_charter(evaluator=president, ip="192.0.2.2")

    assert first == again
    assert president.charter_acceptances.count() == 1


def test_habilitation_expired_on_the_commission_date_is_refused(evaluator_factory, commission):
    evaluator = evaluator_factory(valid_until=commission.date - datetime.timedelta(days=1))

    problems = eligibility(evaluator, commission)

    assert codes(problems) == ["habilitation"]
    assert problems[0].message.startswith(f"{evaluator} n'a pas d'habilitation valide le "
                                          f"{commission.date:%d/%m/%Y} pour CQPM ")


def test_habilitation_ending_on_the_commission_date_still_covers_it(evaluator_factory,
                                                                      commission):
    evaluator = evaluator_factory(valid_until=commission.date)

    assert eligibility(evaluator, commission) == []


def test_habilitation_not_yet_valid_on_the_commission_date_is_refused(evaluator_factory,
                                                                       commission):
    evaluator = evaluator_factory(valid_from=commission.date + datetime.timedelta(days=1),
                                  valid_until=commission.date + datetime.timedelta(days=400))

    assert codes(eligibility(evaluator, commission)) == ["habilitation"]


def test_habilitation_for_another_certification_is_refused(evaluator_factory, commission):
    evaluator = evaluator_factory(certifications=[CertificationFactory()])

    assert codes(eligibility(evaluator, commission)) == ["habilitation"]


def test_evaluator_without_any_habilitation_is_refused(evaluator_factory, commission):
    evaluator = evaluator_factory(certifications=[])

    assert codes(eligibility(evaluator, commission)) == ["habilitation"]


def test_every_certification_of_the_commission_must_be_covered(evaluator_factory, commission,
                                                               president):
    commission.certifications.add(CertificationFactory(code="MQ 2019 10 69 0324"))

    problems = eligibility(president, commission)

    assert codes(problems) == ["habilitation"]
    assert "MQ 2019 10 69 0324" in problems[0].message


def test_bloc_is_covered_by_a_habilitation_for_its_parent_certification(
    evaluator_factory, commission, certification
):
    bloc = CertificationFactory(kind="BLOC", parent_kind=certification.kind,
                                parent_code=certification.code)
    commission.certifications.set([bloc])
    evaluator = evaluator_factory(certifications=[certification])

    assert eligibility(evaluator, commission) == []


def test_habilitation_for_a_bloc_does_not_cover_its_parent(evaluator_factory, commission,
                                                          certification):
    bloc = CertificationFactory(kind="BLOC", parent_kind=certification.kind,
                                parent_code=certification.code)
    evaluator = evaluator_factory(certifications=[bloc])

    assert codes(eligibility(evaluator, commission)) == ["habilitation"]


def test_bloc_of_another_certification_is_not_covered(evaluator_factory, commission,
                                                      certification):
    other = CertificationFactory()
    bloc = CertificationFactory(kind="BLOC", parent_kind=other.kind, parent_code=other.code)
    commission.certifications.set([bloc])
    evaluator = evaluator_factory(certifications=[certification])

    assert codes(eligibility(evaluator, commission)) == ["habilitation"]


def test_inactive_evaluator_is_refused(president, commission):
    president.is_active = False
    president.save()

    problems = eligibility(president, commission)

    assert codes(problems) == ["inactive"]
    assert problems[0].message == "Marc Durand n'est pas actif dans le réseau."


def test_unavailability_covering_the_date_is_refused(president, commission):
    Unavailability.objects.create(evaluator=president, reason="congés",
                                  start_on=commission.date - datetime.timedelta(days=2),
                                  end_on=commission.date)

    problems = eligibility(president, commission)

    assert codes(problems) == ["unavailable"]
    assert problems[0].message == f"Marc Durand est indisponible le {commission.date:%d/%m/%Y}."


def test_unavailability_ending_the_day_before_is_no_problem(president, commission):
    Unavailability.objects.create(evaluator=president,
                                  start_on=commission.date - datetime.timedelta(days=5),
                                  end_on=commission.date - datetime.timedelta(days=1))

    assert eligibility(president, commission) == []


# ---------------------------------------------------------------------------
# Habilitation length (setting)
# ---------------------------------------------------------------------------
def test_habilitation_lasts_twelve_months_by_default(president, certification, settings):
    assert settings.COMMISSIONS["HABILITATION_MONTHS"] == 12

    habilitation = services.grant_habilitation(
        evaluator=president, certifications=[certification],
        valid_from=datetime.date(2025, 1, 15))

    assert habilitation.valid_until == datetime.date(2026, 1, 14)
    assert list(habilitation.certifications.all()) == [certification]


def test_habilitation_length_follows_the_setting(president, certification, settings):
    settings.COMMISSIONS = {**settings.COMMISSIONS, "HABILITATION_MONTHS": 24}

    habilitation = services.grant_habilitation(
        evaluator=president, certifications=[certification],
        valid_from=datetime.date(2025, 3, 1))

    assert habilitation.valid_until == datetime.date(2027, 2, 28)


def test_habilitation_starts_today_by_default(president, certification):
    habilitation = services.grant_habilitation(evaluator=president,
                                               certifications=[certification], months=6)

    assert habilitation.valid_from == timezone.localdate()
