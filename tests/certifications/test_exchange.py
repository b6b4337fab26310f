"""The « referentiel/1 » exchange format: import, export, and every refusal of the importer
(shared/data/README.md)."""

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from certifications.exchange import (
    FormatIssue,
    ReferentialFormatError,
    dump_referential,
    export_referential,
    import_referentials,
    parse_referential,
)
from certifications.models import (
    DEFAULT_RATING_SCALE,
    Bloc,
    Certification,
    CertificationStatus,
    Competence,
    Criterion,
    RatingLevel,
    ReferentialVersion,
    VersionStatus,
)
from tests.certifications.conftest import (
    BLOC_SAMPLE,
    CCPM_SAMPLE,
    CQPM_SAMPLE,
    DEMO_SAMPLES_DIR,
    SAMPLES_DIR,
    SHARED_SAMPLES_DIR,
)


def as_bytes(document) -> bytes:
    return json.dumps(document, indent=2, ensure_ascii=False).encode("utf-8")


def table_counts() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (Certification, ReferentialVersion, RatingLevel, Bloc, Competence, Criterion)
    }


def version_of(document: dict) -> ReferentialVersion:
    return ReferentialVersion.objects.get(
        certification__kind=document["certification"]["kind"],
        certification__code=document["certification"]["code"],
        label=document["version"]["label"],
    )


def refusal(raw: bytes | str, source: str = "cqpm.json") -> list[FormatIssue]:
    with pytest.raises(ReferentialFormatError) as caught:
        parse_referential(raw, source=source)
    return caught.value.errors


# ---------------------------------------------------------------------------
# The sample files
# ---------------------------------------------------------------------------
def test_sample_copies_are_the_same_three_files(sample_referentials):
    names = [path.name for path in sample_referentials]
    assert names == [BLOC_SAMPLE, CCPM_SAMPLE, CQPM_SAMPLE]
    for path in sample_referentials:
        assert (DEMO_SAMPLES_DIR / path.name).read_bytes() == path.read_bytes()


def test_sample_copies_match_the_shared_data_when_present(sample_referentials):
    if not SHARED_SAMPLES_DIR.is_dir():
        pytest.skip("shared/data/referentials absent à côté du dépôt")
    assert sorted(p.name for p in SHARED_SAMPLES_DIR.glob("*.json")) == [
        p.name for p in sample_referentials
    ]
    for path in sample_referentials:
        assert (SHARED_SAMPLES_DIR / path.name).read_bytes() == path.read_bytes()


@pytest.mark.django_db
@pytest.mark.parametrize("name", [BLOC_SAMPLE, CCPM_SAMPLE, CQPM_SAMPLE])
def test_sample_file_imports_with_the_command_and_exports_back_identical(name):
    path = SAMPLES_DIR / name
    out = StringIO()

    call_command("import_referential", str(path), stdout=out)

    source = json.loads(path.read_text(encoding="utf-8"))
    assert "créée" in out.getvalue()
    assert export_referential(version_of(source)) == source


@pytest.mark.django_db
def test_reimporting_a_sample_file_is_a_no_op(sample_referentials):
    call_command("import_referential", *map(str, sample_referentials), stdout=StringIO())
    before = table_counts()
    out = StringIO()

    call_command("import_referential", *map(str, sample_referentials), stdout=out)

    assert table_counts() == before
    assert out.getvalue().count("inchangée (déjà importée à l'identique)") == 3


@pytest.mark.django_db
def test_importing_the_export_again_is_a_no_op(sample_referentials):
    import_referentials([(path.name, path.read_bytes()) for path in sample_referentials])
    exports = [(f"export-{version.pk}.json", dump_referential(version).encode("utf-8"))
               for version in ReferentialVersion.objects.all()]
    before = table_counts()

    reports = import_referentials(exports)

    assert [report.action for report in reports] == ["unchanged"] * 3
    assert table_counts() == before


@pytest.mark.django_db
def test_import_report_summary_counts_blocs_competences_and_criteria(sample_referentials):
    reports = import_referentials([(p.name, p.read_bytes()) for p in sample_referentials])

    assert [report.summary() for report in reports] == [
        "BLOC MQ 2018 05 69 0312 - B2 v2024-1 : créée (1 bloc, 3 compétences, 9 critères)",
        "CCPM CCPM 0012 v2023-1 : créée (3 compétences, 9 critères)",
        "CQPM MQ 2018 05 69 0312 v2024-1 : créée (2 blocs, 6 compétences, 20 critères)",
    ]
    assert reports[2].counts == {"blocs": 2, "competences": 6, "criteria": 20}
    assert reports[2].action == "created"


@pytest.mark.django_db
def test_imported_version_is_published_with_its_certification(sample_document):
    document = sample_document(CQPM_SAMPLE)

    import_referentials([("cqpm.json", as_bytes(document))])

    version = version_of(document)
    assert version.status == VersionStatus.PUBLISHED
    assert version.published_at is not None
    assert version.certification.status == CertificationStatus.PUBLISHED
    assert version.certification.registry_number == "RNCP00001"
    assert version.certification.level == 4


@pytest.mark.django_db
def test_import_keeps_file_order_and_attaches_competences_to_their_bloc(sample_document):
    document = sample_document(CQPM_SAMPLE)
    document["blocs"].reverse()
    document["blocs"][0]["competences"][0]["criteria"].reverse()

    import_referentials([("cqpm.json", as_bytes(document))])

    version = version_of(document)
    assert [bloc.code for bloc in version.blocs.order_by("order")] == ["B2", "B1"]
    first = version.blocs.get(code="B2").competences.order_by("order").first()
    assert [c.code for c in first.criteria.order_by("order")] == ["C4.3", "C4.2", "C4.1"]
    assert {c.code: c.bloc.code for c in version.competences.select_related("bloc")} == {
        "C1": "B1", "C2": "B1", "C3": "B1", "C4": "B2", "C5": "B2", "C6": "B2",
    }
    assert export_referential(version) == document


@pytest.mark.django_db
def test_optional_fields_round_trip_and_empty_ones_are_dropped(sample_document):
    document = sample_document(CQPM_SAMPLE)
    document["activities"] = "Missions : maintenir les équipements.\nEnvironnement : atelier."
    bloc = document["blocs"][0]
    bloc["registry_code"] = "RNCP00001BC01"
    bloc["shared_with"] = [{"kind": "CQPI", "code": "2004 0230"}]
    bloc["knowledge"] = ["Technologie des équipements"]
    bloc["competences"][0]["knowledge"] = ["Lecture de schémas"]
    bloc["competences"][1]["knowledge"] = []
    bloc["competences"][1]["conditions"] = ""

    import_referentials([("cqpm.json", as_bytes(document))])

    del bloc["competences"][1]["knowledge"]
    del bloc["competences"][1]["conditions"]
    assert export_referential(version_of(document)) == document


@pytest.mark.django_db
def test_missing_rating_scale_means_the_default_scale(sample_document):
    document = sample_document(CCPM_SAMPLE)
    del document["rating_scale"]

    import_referentials([("ccpm.json", as_bytes(document))])

    assert export_referential(version_of(document))["rating_scale"] == DEFAULT_RATING_SCALE


# ---------------------------------------------------------------------------
# All or nothing, dry run, versions
# ---------------------------------------------------------------------------
@pytest.mark.django_db
def test_dry_run_writes_nothing_and_says_what_would_be_created(sample_referentials):
    out = StringIO()

    call_command("import_referential", *map(str, sample_referentials), "--dry-run", stdout=out)

    assert set(table_counts().values()) == {0}
    assert out.getvalue().count("serait créée") == 3


@pytest.mark.django_db
def test_dry_run_reports_an_identical_version_as_unchanged(sample_document):
    raw = as_bytes(sample_document(CCPM_SAMPLE))
    import_referentials([("ccpm.json", raw)])

    (report,) = import_referentials([("ccpm.json", raw)], dry_run=True)

    assert report.action == "unchanged"


@pytest.mark.django_db
def test_reimport_with_different_content_under_the_same_label_is_refused(sample_document):
    document = sample_document(CQPM_SAMPLE)
    import_referentials([("cqpm.json", as_bytes(document))])
    document["blocs"][0]["competences"][0]["criteria"][0]["text"] = "Un autre critère."
    before = table_counts()

    issues = refusal_on_import([("cqpm-v2.json", as_bytes(document))])

    assert [(issue.path, issue.message) for issue in issues] == [(
        "version.label",
        "la version 2024-1 existe déjà avec un contenu différent : utilisez un nouveau libellé "
        "de version",
    )]
    assert table_counts() == before


@pytest.mark.django_db
def test_changed_content_under_a_new_label_is_a_new_published_version(sample_document):
    document = sample_document(CQPM_SAMPLE)
    import_referentials([("cqpm.json", as_bytes(document))])
    document["version"] = {"label": "2025-1", "valid_from": "2025-01-01", "valid_until": None}
    document["blocs"][0]["competences"][0]["criteria"][0]["text"] = "Un autre critère."

    (report,) = import_referentials([("cqpm-2025.json", as_bytes(document))])

    assert report.action == "created"
    assert Certification.objects.count() == 1
    assert ReferentialVersion.objects.filter(status=VersionStatus.PUBLISHED).count() == 2


@pytest.mark.django_db
def test_certification_row_follows_the_newest_version_imported(sample_document):
    old = sample_document(CQPM_SAMPLE)
    new = sample_document(CQPM_SAMPLE)
    new["certification"]["title"] = "Technicien(ne) de maintenance des systèmes industriels"
    new["version"] = {"label": "2025-1", "valid_from": "2025-01-01", "valid_until": None}
    import_referentials([("old.json", as_bytes(old))])

    (report,) = import_referentials([("new.json", as_bytes(new))])
    (again,) = import_referentials([("old.json", as_bytes(old))])

    assert report.certification_updated
    assert "fiche de la certification mise à jour" in report.summary()
    assert again.action == "unchanged"
    assert not again.certification_updated
    assert Certification.objects.get().title == new["certification"]["title"]


@pytest.mark.django_db
def test_same_version_twice_in_one_batch_is_refused(sample_document):
    raw = as_bytes(sample_document(CCPM_SAMPLE))

    issues = refusal_on_import([("a.json", raw), ("b.json", raw)])

    assert [(issue.source, issue.path) for issue in issues] == [("b.json", "version.label")]
    assert "a.json" in issues[0].message
    assert set(table_counts().values()) == {0}


@pytest.mark.django_db
def test_batch_with_a_bad_second_file_imports_nothing(sample_document):
    good = as_bytes(sample_document(CQPM_SAMPLE))
    bad_document = sample_document(CCPM_SAMPLE)
    bad_document["competences"][0]["criteria"] = []
    import_referentials([("bloc.json", as_bytes(sample_document(BLOC_SAMPLE)))])
    before = table_counts()

    issues = refusal_on_import([("cqpm.json", good), ("ccpm.json", as_bytes(bad_document))])

    assert [(issue.source, issue.path) for issue in issues] == [
        ("ccpm.json", "competences[0].criteria"),
    ]
    assert table_counts() == before


@pytest.mark.django_db
def test_import_command_with_a_bad_file_fails_lists_the_issues_and_imports_nothing(
    tmp_path, sample_document
):
    good = tmp_path / "cqpm.json"
    good.write_bytes(as_bytes(sample_document(CQPM_SAMPLE)))
    bad_document = sample_document(CCPM_SAMPLE)
    bad_document["competences"][1]["modalities"] = ["entretien"]
    bad_document["version"]["valid_until"] = "2020-01-01"
    bad = tmp_path / "ccpm.json"
    bad.write_bytes(as_bytes(bad_document))
    out, err = StringIO(), StringIO()

    with pytest.raises(CommandError, match="rien n'a été importé"):
        call_command("import_referential", str(good), str(bad), stdout=out, stderr=err)

    assert set(table_counts().values()) == {0}
    assert out.getvalue() == ""
    assert f"{bad}, ligne 18, version.valid_until : " in err.getvalue()
    assert "competences[1].modalities[0] : modalité « entretien » inconnue" in err.getvalue()


@pytest.mark.django_db
def test_import_command_refuses_a_missing_file(tmp_path):
    with pytest.raises(CommandError, match="Lecture impossible"):
        call_command("import_referential", str(tmp_path / "absent.json"))


def refusal_on_import(files: list[tuple[str, bytes]]) -> list[FormatIssue]:
    with pytest.raises(ReferentialFormatError) as caught:
        import_referentials(files)
    return caught.value.errors


# ---------------------------------------------------------------------------
# Every rule of the importer, with its path
# ---------------------------------------------------------------------------
def _set(path: str, value):
    """A mutation that sets document[path] (path as in the error messages) to value."""

    def mutate(document):
        *parents, last = _steps(path)
        target = document
        for step in parents:
            target = target[step]
        target[last] = value

    return mutate


def _delete(path: str):
    def mutate(document):
        *parents, last = _steps(path)
        target = document
        for step in parents:
            target = target[step]
        del target[last]

    return mutate


def _steps(path: str) -> list[str | int]:
    steps: list[str | int] = []
    for part in path.replace("[", ".[").split("."):
        steps.append(int(part[1:-1]) if part.startswith("[") else part)
    return steps


COMPETENCE = "blocs[0].competences[0]"
CCPM_BLOC = [{"code": "B1", "title": "Bloc", "competences": []}]
CCPM_COMPETENCE = {"code": "C9", "title": "Compétence", "modalities": ["situation_reconstituee"],
                   "criteria": [{"code": "C9.1", "text": "Critère."}]}

MALFORMED = [
    # (id, sample, mutation, path of the single issue, fragment of its message)
    ("bad format", CQPM_SAMPLE, _set("format", "referentiel/2"), "format",
     "format « referentiel/2 » inconnu"),
    ("missing format", CQPM_SAMPLE, _delete("format"), "format", "clé obligatoire manquante"),
    ("unknown key at root", CQPM_SAMPLE, _set("colour", "bleu"), "colour", "clé inconnue"),
    ("unknown key in certification", CQPM_SAMPLE, _set("certification.rncp", "RNCP1"),
     "certification.rncp", "clé inconnue"),
    ("unknown key in a bloc", CQPM_SAMPLE, _set("blocs[1].titre", "x"), "blocs[1].titre",
     "clé inconnue"),
    ("unknown key in a competence", CQPM_SAMPLE, _set(f"{COMPETENCE}.critere", []),
     f"{COMPETENCE}.critere", "clé inconnue"),
    ("unknown key in a criterion", CQPM_SAMPLE, _set(f"{COMPETENCE}.criteria[2].note", 1),
     f"{COMPETENCE}.criteria[2].note", "clé inconnue"),
    ("missing version", CQPM_SAMPLE, _delete("version"), "version", "clé obligatoire manquante"),
    ("root is a list", CQPM_SAMPLE, None, "", "un objet est attendu"),
    ("unknown kind", CQPM_SAMPLE, _set("certification.kind", "CQP"), "certification.kind",
     "valeur « CQP » non permise : CQPM, CQPI, BLOC, CCPM ou CCPI attendu"),
    ("CQPM with competences", CQPM_SAMPLE, _set("competences", [CCPM_COMPETENCE]),
     "competences", "un CQPM se compose de blocs"),
    ("CQPM without bloc", CQPM_SAMPLE, _set("blocs", []), "blocs",
     "au moins un bloc est requis pour un CQPM"),
    ("CQPM with blocs missing", CQPM_SAMPLE, _delete("blocs"), "blocs",
     "au moins un bloc est requis pour un CQPM"),
    ("CCPM with blocs", CCPM_SAMPLE, _set("blocs", CCPM_BLOC), "blocs",
     "un CCPM n'a pas de blocs"),
    ("CCPM without competence", CCPM_SAMPLE, _set("competences", []), "competences",
     "au moins une compétence est requise pour un CCPM"),
    ("blocs not a list", CQPM_SAMPLE, _set("blocs", {"B1": {}}), "blocs",
     "une liste est attendue"),
    ("bloc without competence", CQPM_SAMPLE, _set("blocs[1].competences", []),
     "blocs[1].competences", "au moins une compétence est requise"),
    ("empty certification code", CQPM_SAMPLE, _set("certification.code", "  "),
     "certification.code", "ne doit pas être vide"),
    ("empty competence code", CQPM_SAMPLE, _set(f"{COMPETENCE}.code", ""),
     f"{COMPETENCE}.code", "ne doit pas être vide"),
    ("empty criterion text", CQPM_SAMPLE, _set(f"{COMPETENCE}.criteria[0].text", ""),
     f"{COMPETENCE}.criteria[0].text", "ne doit pas être vide"),
    ("title not a string", CQPM_SAMPLE, _set("certification.title", 12),
     "certification.title", "une chaîne de caractères est attendue"),
    ("code too long", CQPM_SAMPLE, _set("blocs[0].code", "B" * 41), "blocs[0].code",
     "ne doit pas dépasser 40 caractères"),
    ("duplicate bloc code", CQPM_SAMPLE, _set("blocs[1].code", "B1"), "blocs[1].code",
     "code « B1 » en double (déjà utilisé par blocs[0])"),
    ("duplicate competence code in a bloc", CQPM_SAMPLE,
     _set("blocs[0].competences[2].code", "C1"), "blocs[0].competences[2].code",
     "code « C1 » en double"),
    ("duplicate criterion code in a competence", CQPM_SAMPLE,
     _set(f"{COMPETENCE}.criteria[3].code", "C1.2"), f"{COMPETENCE}.criteria[3].code",
     f"code « C1.2 » en double (déjà utilisé par {COMPETENCE}.criteria[1])"),
    ("duplicate competence code in a CCPM", CCPM_SAMPLE, _set("competences[1].code", "C1"),
     "competences[1].code", "code « C1 » en double"),
    ("competence without criterion", CQPM_SAMPLE, _set("blocs[1].competences[0].criteria", []),
     "blocs[1].competences[0].criteria", "au moins un critère est requis"),
    ("competence with criteria missing", CCPM_SAMPLE, _delete("competences[2].criteria"),
     "competences[2].criteria", "clé obligatoire manquante"),
    ("unknown modality", CQPM_SAMPLE, _set(f"{COMPETENCE}.modalities", ["entretien"]),
     f"{COMPETENCE}.modalities[0]", "modalité « entretien » inconnue"),
    ("no modality", CQPM_SAMPLE, _set(f"{COMPETENCE}.modalities", []),
     f"{COMPETENCE}.modalities", "au moins une modalité d'évaluation est requise"),
    ("duplicate modality", CQPM_SAMPLE,
     _set(f"{COMPETENCE}.modalities", ["situation_professionnelle"] * 2),
     f"{COMPETENCE}.modalities[1]", "en double"),
    ("scale with one level", CQPM_SAMPLE, _delete("rating_scale[1]"), "rating_scale",
     "au moins deux niveaux"),
    ("scale without mastered level", CQPM_SAMPLE, _set("rating_scale[0].mastered", False),
     "rating_scale", "au moins un niveau doit être « maîtrisé »"),
    ("scale without unmastered level", CQPM_SAMPLE, _set("rating_scale[1].mastered", True),
     "rating_scale", "au moins un niveau doit être « non maîtrisé »"),
    ("duplicate level code", CQPM_SAMPLE, _set("rating_scale[1].code", "MA"),
     "rating_scale[1].code", "code « MA » en double"),
    ("mastered not a boolean", CQPM_SAMPLE, _set("rating_scale[0].mastered", "oui"),
     "rating_scale[0].mastered", "true ou false est attendu"),
    ("bad date", CQPM_SAMPLE, _set("version.valid_from", "2024-13-01"), "version.valid_from",
     "date invalide : AAAA-MM-JJ attendu"),
    ("French date", CQPM_SAMPLE, _set("version.valid_from", "01/01/2024"),
     "version.valid_from", "date invalide"),
    ("compact date", CQPM_SAMPLE, _set("version.valid_until", "20300101"),
     "version.valid_until", "date invalide : AAAA-MM-JJ ou null attendu"),
    ("valid_until before valid_from", CCPM_SAMPLE, _set("version.valid_until", "2022-01-01"),
     "version.valid_until", "la fin de validité doit être postérieure au début (2023-06-01)"),
    ("valid_until equal to valid_from", CCPM_SAMPLE, _set("version.valid_until", "2023-06-01"),
     "version.valid_until", "postérieure au début"),
    ("empty version label", CQPM_SAMPLE, _set("version.label", ""), "version.label",
     "ne doit pas être vide"),
    ("level 9", CQPM_SAMPLE, _set("certification.level", 9), "certification.level",
     "niveau invalide : entier de 3 à 8 ou null attendu"),
    ("level 2", CQPM_SAMPLE, _set("certification.level", 2), "certification.level",
     "niveau invalide"),
    ("level as text", CQPM_SAMPLE, _set("certification.level", "4"), "certification.level",
     "niveau invalide"),
    ("level as boolean", CQPM_SAMPLE, _set("certification.level", True), "certification.level",
     "niveau invalide"),
    ("registry XYZ", CQPM_SAMPLE, _set("certification.registry.name", "XYZ"),
     "certification.registry.name", "valeur « XYZ » non permise : RNCP ou RS attendu"),
    ("registry without number", CQPM_SAMPLE, _set("certification.registry.number", ""),
     "certification.registry.number", "ne doit pas être vide"),
    ("registry as text", CQPM_SAMPLE, _set("certification.registry", "RNCP00001"),
     "certification.registry", "un objet est attendu"),
    ("BLOC without parent", BLOC_SAMPLE, _set("certification.parent", None),
     "certification.parent", "un bloc indique la certification dont il fait partie"),
    ("BLOC with a CCPM parent", BLOC_SAMPLE, _set("certification.parent.kind", "CCPM"),
     "certification.parent.kind", "CQPM ou CQPI attendu"),
    ("CQPM with a parent", CQPM_SAMPLE,
     _set("certification.parent", {"kind": "CQPM", "code": "X"}), "certification.parent",
     "seul un bloc a une certification parente"),
    ("knowledge with an empty entry", CQPM_SAMPLE, _set(f"{COMPETENCE}.knowledge", ["x", ""]),
     f"{COMPETENCE}.knowledge[1]", "une chaîne de caractères non vide est attendue"),
    ("shared bloc of unknown kind", CQPM_SAMPLE,
     _set("blocs[0].shared_with", [{"kind": "XX", "code": "1"}]), "blocs[0].shared_with[0].kind",
     "valeur « XX » non permise"),
]


@pytest.mark.parametrize(
    ("sample", "mutate", "path", "message"),
    [case[1:] for case in MALFORMED],
    ids=[case[0] for case in MALFORMED],
)
def test_malformed_file_is_refused_with_the_path_of_the_fault(
    sample_document, sample, mutate, path, message
):
    document = sample_document(sample)
    if mutate is None:
        document = [document]
    else:
        mutate(document)

    issues = refusal(as_bytes(document))

    assert [issue.path for issue in issues] == [path]
    assert message in issues[0].message
    assert issues[0].source == "cqpm.json"
    assert issues[0].line is not None


def test_every_fault_of_a_file_is_reported_not_only_the_first(sample_document):
    document = sample_document(CQPM_SAMPLE)
    document["format"] = "referentiel/0"
    document["certification"]["level"] = 12
    document["blocs"][1]["competences"][2]["criteria"] = []
    document["rating_scale"][0]["mastered"] = False

    issues = refusal(as_bytes(document))

    assert [issue.path for issue in issues] == [
        "format", "certification.level", "rating_scale", "blocs[1].competences[2].criteria",
    ]


def test_fault_is_located_at_the_line_of_its_key(sample_document):
    document = sample_document(CQPM_SAMPLE)
    document["blocs"][1]["competences"][1]["critere"] = []
    text = as_bytes(document).decode("utf-8")
    line = next(number for number, content in enumerate(text.splitlines(), start=1)
                if '"critere"' in content)

    (issue,) = refusal(text)

    assert issue.line == line
    assert str(issue) == (
        f"cqpm.json, ligne {line}, blocs[1].competences[1].critere : clé inconnue (clés permises"
        " : code, title, modalities, criteria, conditions, expected_results, knowledge)"
    )


def test_missing_key_is_located_at_the_line_of_its_object(sample_document):
    document = sample_document(CCPM_SAMPLE)
    del document["competences"][2]["criteria"]
    text = as_bytes(document).decode("utf-8")
    line = next(number for number, content in enumerate(text.splitlines(), start=1)
                if '"code": "C3"' in content) - 1  # the object opens on the line above

    (issue,) = refusal(text)

    assert issue.line == line


def test_duplicate_key_in_an_object_is_refused(sample_document):
    text = as_bytes(sample_document(CQPM_SAMPLE)).decode("utf-8")
    text = text.replace('"level": 4,', '"level": 4,\n    "level": 5,')

    (issue,) = refusal(text)

    assert (issue.path, issue.message) == ("certification.level", "clé en double")


def test_invalid_json_is_refused_with_its_line_number(sample_document):
    lines = as_bytes(sample_document(CQPM_SAMPLE)).decode("utf-8").splitlines()
    lines[11] = lines[11].rstrip(",")  # "level": 4   <- the comma is gone

    (issue,) = refusal("\n".join(lines))

    assert issue.line == 13
    assert issue.path == ""
    assert str(issue) == "cqpm.json, ligne 13 : JSON invalide : virgule attendue (colonne 5)"


def test_empty_file_is_refused_as_invalid_json():
    (issue,) = refusal(b"")

    assert issue.message.startswith("JSON invalide")


def test_file_not_in_utf8_is_refused(sample_document):
    text = as_bytes(sample_document(CQPM_SAMPLE)).decode("utf-8")
    first_accent = next(number for number, content in enumerate(text.splitlines(), start=1)
                        if not content.isascii())

    (issue,) = refusal(text.encode("latin-1"))

    assert "n'est pas encodé en UTF-8" in issue.message
    assert issue.line == first_accent


def test_utf8_byte_order_mark_is_accepted(sample_document):
    document = sample_document(CCPM_SAMPLE)

    parsed = parse_referential(b"\xef\xbb\xbf" + as_bytes(document))

    assert parsed == document


def test_file_larger_than_the_setting_is_refused(settings, sample_document):
    settings.CERTIFICATION = {**settings.CERTIFICATION, "REFERENTIAL_MAX_BYTES": 1000}

    (issue,) = refusal(as_bytes(sample_document(CCPM_SAMPLE)))

    assert "trop volumineux" in issue.message


def test_deeply_nested_json_is_refused_without_crashing():
    (issue,) = refusal(b"[" * 100_000)

    assert issue.message.startswith("JSON invalide")


def test_format_issue_reads_in_french_with_source_and_path():
    issue = FormatIssue("cqpm.json", "blocs[1].competences[0].criteria",
                        "au moins un critère est requis", None)

    assert str(issue) == (
        "cqpm.json, blocs[1].competences[0].criteria : au moins un critère est requis"
    )


# ---------------------------------------------------------------------------
# Export command
# ---------------------------------------------------------------------------
@pytest.mark.django_db
@pytest.mark.parametrize("name", [BLOC_SAMPLE, CCPM_SAMPLE, CQPM_SAMPLE])
def test_export_command_writes_the_imported_file(name):
    path = SAMPLES_DIR / name
    source = json.loads(path.read_text(encoding="utf-8"))
    import_referentials([(name, path.read_bytes())])
    out = StringIO()

    call_command("export_referential", source["certification"]["code"], stdout=out)

    assert json.loads(out.getvalue()) == source
    assert out.getvalue() == dump_referential(version_of(source))


@pytest.mark.django_db
def test_export_command_takes_the_latest_published_version_or_the_one_named(sample_document):
    old = sample_document(CCPM_SAMPLE)
    new = sample_document(CCPM_SAMPLE)
    new["version"] = {"label": "2024-1", "valid_from": "2024-06-01", "valid_until": None}
    new["competences"].pop()
    import_referentials([("new.json", as_bytes(new)), ("old.json", as_bytes(old))])

    latest, named = StringIO(), StringIO()
    call_command("export_referential", "CCPM 0012", stdout=latest)
    call_command("export_referential", "CCPM 0012", "--version", "2023-1", stdout=named)

    assert json.loads(latest.getvalue()) == new
    assert json.loads(named.getvalue()) == old


@pytest.mark.django_db
def test_export_command_refuses_an_unknown_code():
    with pytest.raises(CommandError, match="Aucune certification de code « XX 0000 »"):
        call_command("export_referential", "XX 0000")


@pytest.mark.django_db
def test_export_command_refuses_an_unknown_version(sample_document):
    import_referentials([("ccpm.json", as_bytes(sample_document(CCPM_SAMPLE)))])

    with pytest.raises(CommandError, match="pas de version « 1999-1 »"):
        call_command("export_referential", "CCPM 0012", "--version", "1999-1")


@pytest.mark.django_db
def test_export_command_needs_the_kind_when_several_certifications_share_the_code(
    sample_document
):
    cqpm = sample_document(CQPM_SAMPLE)
    cqpi = sample_document(CQPM_SAMPLE)
    cqpi["certification"]["kind"] = "CQPI"
    import_referentials([("cqpm.json", as_bytes(cqpm)), ("cqpi.json", as_bytes(cqpi))])

    with pytest.raises(CommandError, match="précisez --kind"):
        call_command("export_referential", "MQ 2018 05 69 0312")
    out = StringIO()
    call_command("export_referential", "MQ 2018 05 69 0312", "--kind", "CQPI", stdout=out)

    assert json.loads(out.getvalue()) == cqpi


@pytest.mark.django_db
def test_export_command_refuses_a_certification_without_published_version():
    Certification.objects.create(kind="CCPM", code="CCPM 0099", title="Sans version")

    with pytest.raises(CommandError, match="aucune version publiée"):
        call_command("export_referential", "CCPM 0099")
