"""The candidate search of the staff list (issue 7): every word typed must be found in a name
of the candidate (birth, usage or first names) or of the registration's company — case and
accents ignored, the same on SQLite and PostgreSQL — or in the reference. On PostgreSQL, each
of those columns has a trigram index the search uses (candidates migration 0003)."""

import datetime

import pytest
from django.db import connection
from django.urls import reverse

from candidates import selectors
from candidates.models import Candidate, Company, Path, Registration
from config.unaccent import strip_accents
from tests.factories import (
    CandidateFactory,
    CompanyFactory,
    build_version,
    make_registration,
    make_siret,
)

pytestmark = pytest.mark.django_db

LIST = reverse("candidates:registration_list")


@pytest.fixture
def people(centre, staff):
    """Registrations of ``centre`` whose names differ in accents, case and ligatures."""
    version = build_version(blocs=1, competences=1, criteria=1)

    def register(key, *, birth_name, first_names, usage_name="", company="Forges de l'Ouest",
                 path="salarie"):
        employer = CompanyFactory(centre=centre, name=company)
        candidate = CandidateFactory(centre=centre, birth_name=birth_name,
                                     first_names=first_names, usage_name=usage_name,
                                     employer=employer)
        from candidates.services import create_registration

        registration = create_registration(
            actor=staff, centre=centre, candidate=candidate, version=version, path=path,
            company=employer if path == "salarie" else None).registration
        return key, registration

    return dict([
        register("helene", birth_name="Lefèvre", first_names="Hélène Marie"),
        register("camille", birth_name="LEFEVRE", first_names="Camille",
                 company="Cœur d'Acier Industrie"),
        register("married", birth_name="Dupont", usage_name="Nguyễn", first_names="Inès"),
        register("jobseeker", birth_name="Martin", first_names="Loïc",
                 path="demandeur_emploi"),
        register("other", birth_name="Bernard", first_names="Zoé",
                 company="Chaudronnerie Dubois"),
    ])


def found(user, search: str) -> set[str]:
    keys = {registration.pk: registration.candidate.first_names
            for registration in selectors.registration_list(user, search=search)}
    return set(keys.values())


@pytest.mark.parametrize(("search", "expected"), [
    # birth name, whatever the accents and the case on either side
    ("Lefèvre", {"Hélène Marie", "Camille"}),
    ("lefevre", {"Hélène Marie", "Camille"}),
    ("LEFÈVRE", {"Hélène Marie", "Camille"}),
    ("efev", {"Hélène Marie", "Camille"}),
    # first names
    ("helene", {"Hélène Marie"}),
    ("HÉLÈNE", {"Hélène Marie"}),
    ("marie", {"Hélène Marie"}),
    ("loic", {"Loïc"}),
    # usage name (and the birth name still finds the married candidate)
    ("nguyen", {"Inès"}),
    ("dupont", {"Inès"}),
    # the registration's company, ligatures spelt out
    ("coeur", {"Camille"}),
    ("CŒUR D'ACIER", {"Camille"}),
    ("dubois", {"Zoé"}),
    # nothing else
    ("durand", set()),
])
def test_search_finds_each_name_ignoring_case_and_accents(staff, people, search, expected):
    assert found(staff, search) == expected


def test_search_finds_by_reference(staff, people):
    reference = people["jobseeker"].reference
    assert found(staff, reference) == {"Loïc"}
    assert found(staff, reference.lower()) == {"Loïc"}
    assert found(staff, reference[-4:]) >= {"Loïc"}


def test_every_word_must_be_found_in_one_of_the_fields(staff, people):
    assert found(staff, "lefevre camille") == {"Camille"}
    assert found(staff, "  camille   LEFÈVRE ") == {"Camille"}
    assert found(staff, "lefevre acier") == {"Camille"}  # a name and the company
    assert found(staff, f"lefevre {people['helene'].reference}") == {"Hélène Marie"}
    assert found(staff, "lefevre zoe") == set()
    assert found(staff, "") == {"Hélène Marie", "Camille", "Inès", "Loïc", "Zoé"}


def test_search_wildcards_are_taken_literally(staff, people):
    assert found(staff, "%") == set()
    assert found(staff, "_") == set()
    assert found(staff, "lef_vre") == set()


def test_search_stays_within_the_users_centres(staff, other_staff, people):
    assert found(other_staff, "lefevre") == set()
    make_registration(centre=other_staff.memberships.get().centre)
    assert found(staff, "lefevre") == {"Hélène Marie", "Camille"}


def test_list_page_searches_without_accents(client, staff, people):
    client.force_login(staff)
    response = client.get(LIST, {"q": "helene lefevre"})
    assert [r.pk for r in response.context["page_obj"]] == [people["helene"].pk]


def test_a_search_over_several_pages_counts_and_orders_as_the_list(client, staff, centre):
    """A search reads its page and its count in one pass (config.pagination): the same
    rows, order and count as the list filtered in Python; a page beyond the last shows the
    last one; a search that finds nothing says so."""
    from candidates.views import PAGE_SIZE

    version = build_version(blocs=1, competences=1, criteria=1)
    for i in range(PAGE_SIZE + 5):
        registration = make_registration(centre=centre, version=version, actor=staff)
        Candidate.objects.filter(pk=registration.candidate_id).update(
            birth_name=f"Lefèvre {i}" if i else "Bernard")
    listed = [r.pk for r in selectors.registration_list(staff)
              if r.candidate.birth_name.startswith("Lefèvre")]
    client.force_login(staff)
    pages = [client.get(LIST, {"q": "lefevre", "page": number}) for number in (1, 2, 3)]
    rows = [[r.pk for r in page.context["page_obj"]] for page in pages]
    assert rows[0] + rows[1] == listed and len(rows[0]) == PAGE_SIZE
    assert rows[2] == rows[1]  # beyond the last page: the last page
    assert f"{PAGE_SIZE + 4} inscriptions" in pages[0].content.decode()
    nothing = client.get(LIST, {"q": "personne"})
    assert nothing.context["page_obj"].paginator.count == 0


@pytest.mark.parametrize("text", ["Hélène Lefèvre-Cœur Ærø Straße Łódź Đ ð þ Þ ı Nguyễn Ç ﬁ",
                                  "N'Diaye Benoît-Lacroix Kerouédan MAËLLE Françoise"])
def test_the_database_strips_accents_as_python_does(text):
    """The column side (SQL) and the typed side (Python) of the comparison agree, on SQLite
    and on PostgreSQL."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT immutable_unaccent(%s)", [text])
        assert cursor.fetchone()[0] == strip_accents(text)


def test_strip_accents_spells_out_what_postgresql_unaccent_does():
    # What PostgreSQL's immutable_unaccent answers for the same text.
    assert strip_accents("Hélène Lefèvre-Cœur Ærø Straße Łódź Đ ð þ Þ ı Nguyễn Ç ﬁ") == \
        "Helene Lefevre-Coeur AEro Strasse Lodz D d th TH i Nguyen C fi"


# ---------------------------------------------------------------------------
# PostgreSQL: the trigram indexes exist and the search reads them
# ---------------------------------------------------------------------------
INDEXES = {
    "cand_birth_name_search_trgm": "upper(immutable_unaccent((birth_name)::text))",
    "cand_usage_name_search_trgm": "upper(immutable_unaccent((usage_name)::text))",
    "cand_first_names_search_trgm": "upper(immutable_unaccent((first_names)::text))",
    "cand_company_name_search_trgm": "upper(immutable_unaccent((name)::text))",
    "cand_reference_search_trgm": "upper((reference)::text)",
}


@pytest.mark.postgres
def test_search_columns_have_trigram_indexes():
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE indexname = ANY(%s)",
                       [list(INDEXES)])
        definitions = dict(cursor.fetchall())
    assert set(definitions) == set(INDEXES)
    for name, expression in INDEXES.items():
        assert f"USING gin ({expression} gin_trgm_ops)" in definitions[name]


@pytest.mark.postgres
def test_search_reads_the_trigram_indexes(centre, staff):
    """A few thousand candidates; the planner told not to scan tables when it has a choice:
    each part of the search goes through its trigram index."""
    companies = Company.objects.bulk_create(
        Company(centre=centre, name=f"Métallerie {i:04d}", siret=make_siret(10_000 + i))
        for i in range(300))
    candidates = Candidate.objects.bulk_create(
        Candidate(centre=centre, birth_name=f"Lefèvre{i:05d}" if i % 100 == 0 else f"Nom{i:05d}",
                  first_names="Camille", birth_date=datetime.date(1990, 1, 1),
                  employer=companies[i % 300])
        for i in range(3000))
    version = build_version(blocs=1, competences=1, criteria=1)
    Registration.objects.bulk_create(
        Registration(centre=centre, candidate=candidate, version=version, path=Path.SALARIE,
                     company=candidate.employer, reference=f"T-{i:05d}")
        for i, candidate in enumerate(candidates))
    with connection.cursor() as cursor:
        for table in ("candidates_candidate", "candidates_company", "candidates_registration"):
            cursor.execute(f"ANALYZE {table}")
        cursor.execute("SET LOCAL enable_seqscan = off")
    search = selectors.registration_list(staff, search="lefevre00")
    assert search.count() == 10
    plan = search.explain()
    # The registrations are then found through their own indexes, not tested one by one
    # against each part (config.planning.InArray).
    assert "SubPlan" not in plan, plan
    for name in INDEXES:
        assert name in plan, plan
