"""The grille d'évaluation's rules (DOMAIN.md §5): built from the referential and the dossier;
a competence not mastered in full autonomy needs a comment tied to the criteria concerned;
the grid goes to signature only when complete, and says what is missing and where; each
field saved on its own with a revision check and an audit row."""

import pytest
from django.core.exceptions import ValidationError

from certifications.models import Modality
from evaluations import services
from evaluations.models import CompetenceResult, CriterionResult, GridEvent, GridState
from evaluations.services import StaleEdit
from tests.evaluations.conftest import (
    NM_COMMENT,
    competence_row,
    competence_rows,
    criterion_row,
    fill_grid,
    level_id,
    save,
)
from tests.factories import build_version

pytestmark = pytest.mark.django_db

A = GridEvent.Action


def submit_errors(grid, actor) -> list[str]:
    with pytest.raises(ValidationError) as refused:
        services.submit_for_signature(grid=grid, actor=actor)
    return refused.value.messages


def missing_messages(grid) -> list[str]:
    return [m.message for m in services.missing_items(services.grid_content(grid))]


# ---------------------------------------------------------------------------
# The grid is built from the referential version and the dossier
# ---------------------------------------------------------------------------
def test_grid_has_every_competence_and_criterion_of_the_referential(grid, version):
    rows = competence_rows(grid)
    assert [r.competence.code for r in rows] == ["C1", "C2", "C3", "C4"]
    assert CriterionResult.objects.filter(competence_result__grid=grid).count() == 12
    for row in rows:
        assert row.planned_modality == Modality.SITUATION_PROFESSIONNELLE  # the dossier's
        assert row.modality_used == row.planned_modality
        assert row.level is None and row.comment == "" and row.revision == 1
    assert grid.state == GridState.DRAFT
    assert list(grid.events.values_list("action", flat=True)) == [A.CREATED]


def test_ensure_grid_returns_the_existing_grid(grid, scheduled, staff):
    assert services.ensure_grid(scheduled=scheduled, actor=staff) == grid
    assert CompetenceResult.objects.filter(grid=grid).count() == 4


def test_progress_counts_levels_and_criteria(grid, president):
    save(grid, competence_row(grid, "C1"), "level", level_id(grid, "MA"), president.user)
    save(grid, criterion_row(grid, "C1.1"), "satisfied", "oui", president.user)
    save(grid, criterion_row(grid, "C1.2"), "satisfied", "non", president.user)
    assert services.progress(services.grid_content(grid)) == {
        "competences_done": 1, "competences": 4, "criteria_done": 2, "criteria": 12}


def test_the_autosave_read_gives_the_same_completeness_and_progress(grid, president,
                                                                    django_assert_num_queries):
    """An autosave sends back what is missing and the progress from a lighter read
    (completeness_content): the same as the full read, in one query."""
    save(grid, competence_row(grid, "C1"), "level", level_id(grid, "MA"), president.user)
    save(grid, competence_row(grid, "C2"), "level", level_id(grid, "NM"), president.user)
    save(grid, criterion_row(grid, "C2.1"), "concerned", "on", president.user)
    save(grid, competence_row(grid, "C3"), "level", level_id(grid, "NM"), president.user)
    save(grid, criterion_row(grid, "C1.2"), "satisfied", "non", president.user)
    with django_assert_num_queries(1):
        light = services.completeness_content(grid)
        missing, progress = services.missing_items(light), services.progress(light)
    full = services.grid_content(grid)
    assert [(r.pk, r.competence.code) for r in light] == [(r.pk, r.competence.code)
                                                          for r in full]
    # C2: a comment; C3: a comment and a concerned criterion; C4: a level.
    assert missing == services.missing_items(full) and len(missing) == 4
    assert progress == services.progress(full) == {
        "competences_done": 3, "competences": 4, "criteria_done": 1, "criteria": 12}


# ---------------------------------------------------------------------------
# Completeness and the comment rule
# ---------------------------------------------------------------------------
def test_every_competence_needs_a_level_before_signature(grid, president):
    messages = submit_errors(grid, president.user)
    assert messages == [f"C{n} : niveau de maîtrise à indiquer." for n in (1, 2, 3, 4)]
    grid.refresh_from_db()
    assert grid.state == GridState.DRAFT


def test_missing_items_say_which_competence_and_where(grid, president):
    fill_grid(grid, president.user)
    row = competence_row(grid, "C3")
    save(grid, row, "level", "", president.user)
    [missing] = services.missing_items(services.grid_content(grid))
    assert missing.code == "C3"
    assert missing.anchor == f"competence-{row.pk}"
    assert missing.message == "C3 : niveau de maîtrise à indiquer."


def test_unmastered_competence_requires_comment(grid, president):
    fill_grid(grid, president.user, non_mastered={"C2"}, comment=False)
    assert submit_errors(grid, president.user) == [
        "C2 : compétence non maîtrisée en toute autonomie — un commentaire est obligatoire."]
    grid.refresh_from_db()
    assert grid.state == GridState.DRAFT


def test_unmastered_competence_requires_the_criteria_concerned(grid, president):
    fill_grid(grid, president.user, non_mastered={"C2"}, concerned=False)
    assert submit_errors(grid, president.user) == [
        "C2 : cochez le ou les critères auxquels se rapporte le commentaire."]


def test_unmastered_competence_without_comment_nor_criteria_lists_both(grid, president):
    fill_grid(grid, president.user, non_mastered={"C4"}, comment=False, concerned=False)
    assert missing_messages(grid) == [
        "C4 : compétence non maîtrisée en toute autonomie — un commentaire est obligatoire.",
        "C4 : cochez le ou les critères auxquels se rapporte le commentaire.",
    ]


def test_a_blank_comment_does_not_count(grid, president):
    fill_grid(grid, president.user, non_mastered={"C2"}, comment=False)
    save(grid, competence_row(grid, "C2"), "comment", "   \n ", president.user)
    assert competence_row(grid, "C2").comment == ""
    assert len(missing_messages(grid)) == 1


def test_mastered_competence_needs_no_comment(grid, president):
    fill_grid(grid, president.user)
    assert all(r.comment == "" for r in competence_rows(grid))
    assert missing_messages(grid) == []
    grid = services.submit_for_signature(grid=grid, actor=president.user)
    assert grid.state == GridState.TO_SIGN


def test_complete_grid_goes_to_signature(grid, president):
    fill_grid(grid, president.user, non_mastered={"C2", "C3"})
    grid = services.submit_for_signature(grid=grid, actor=president.user)
    grid.refresh_from_db()
    assert grid.state == GridState.TO_SIGN
    event = grid.events.get(action=A.SUBMITTED)
    assert event.actor == president.user


def test_submitting_twice_keeps_one_submission(grid, president):
    fill_grid(grid, president.user)
    services.submit_for_signature(grid=grid, actor=president.user)
    services.submit_for_signature(grid=grid, actor=president.user)
    assert grid.events.filter(action=A.SUBMITTED).count() == 1


# ---------------------------------------------------------------------------
# save_field: one field at a time, with a revision and an audit row
# ---------------------------------------------------------------------------
def last_change(grid) -> GridEvent:
    return grid.events.filter(action=A.CHANGED).order_by("-pk").first()


def test_criterion_satisfied_is_saved_with_revision_and_audit(grid, president):
    row = criterion_row(grid, "C1.2")
    saved = services.save_field(grid=grid, row_kind="criterion", row_id=row.pk,
                                field="satisfied", value="non", revision=1,
                                actor=president.user)
    assert saved.satisfied is False
    assert saved.revision == 2
    assert saved.updated_by == president.user
    event = last_change(grid)
    assert (event.actor, event.target, event.before, event.after) == (
        president.user, "C1.2.satisfied", {"satisfied": None}, {"satisfied": False})
    saved = save(grid, row, "satisfied", "oui", president.user)
    assert (saved.satisfied, saved.revision) == (True, 3)
    assert last_change(grid).before == {"satisfied": False}
    saved = save(grid, row, "satisfied", "", president.user)
    assert (saved.satisfied, saved.revision) == (None, 4)


def test_criterion_notes_are_saved_trimmed(grid, president):
    row = save(grid, criterion_row(grid, "C3.1"), "notes",
               "  A expliqué la consignation électrique.  ", president.user)
    assert row.notes == "A expliqué la consignation électrique."
    assert last_change(grid).after == {"notes": "A expliqué la consignation électrique."}
    assert last_change(grid).target == "C3.1.notes"


def test_criterion_concerned_is_saved(grid, president):
    row = save(grid, criterion_row(grid, "C2.3"), "concerned", "on", president.user)
    assert row.concerned is True
    assert (last_change(grid).before, last_change(grid).after) == (
        {"concerned": False}, {"concerned": True})
    row = save(grid, row, "concerned", "", president.user)
    assert row.concerned is False


def test_competence_level_is_saved_as_a_level_of_the_referential(grid, president):
    row = save(grid, competence_row(grid, "C1"), "level", level_id(grid, "NM"), president.user)
    assert row.level.code == "NM" and row.level.mastered is False
    assert (last_change(grid).target, last_change(grid).before, last_change(grid).after) == (
        "C1.level", {"level": None}, {"level": "NM"})
    row = save(grid, row, "level", str(level_id(grid, "MA")), president.user)
    assert row.level.code == "MA" and row.revision == 3
    assert last_change(grid).before == {"level": "NM"}


def test_a_level_of_another_referential_is_refused(grid, president):
    foreign = build_version().rating_levels.get(code="MA")
    row = competence_row(grid, "C1")
    with pytest.raises(ValidationError, match="Niveau inconnu"):
        save(grid, row, "level", foreign.pk, president.user)
    row.refresh_from_db()
    assert row.level is None and row.revision == 1


def test_competence_comment_is_saved(grid, president):
    row = save(grid, competence_row(grid, "C2"), "comment", NM_COMMENT, president.user)
    assert row.comment == NM_COMMENT
    assert last_change(grid).after == {"comment": NM_COMMENT}
    assert last_change(grid).before == {"comment": ""}


def test_modality_used_may_be_another_modality_the_referential_allows(grid, president):
    row = save(grid, competence_row(grid, "C4"), "modality_used",
               Modality.PRESENTATION_PROJETS, president.user)
    assert row.modality_used == Modality.PRESENTATION_PROJETS
    assert row.planned_modality == Modality.SITUATION_PROFESSIONNELLE
    assert last_change(grid).before == {"modality_used": "situation_professionnelle"}


def test_a_modality_the_referential_does_not_allow_is_refused(grid, president):
    row = competence_row(grid, "C4")
    with pytest.raises(ValidationError) as refused:
        save(grid, row, "modality_used", Modality.SITUATION_RECONSTITUEE, president.user)
    assert refused.value.messages == ["Le référentiel n'autorise pas cette modalité pour C4."]
    row.refresh_from_db()
    assert row.modality_used == Modality.SITUATION_PROFESSIONNELLE and row.revision == 1
    assert last_change(grid) is None


@pytest.mark.parametrize(("row_kind", "field"), [
    ("criterion", "level"), ("competence", "satisfied"), ("competence", "revision"),
    ("criterion", "competence_result"), ("other", "notes"),
])
def test_unknown_fields_are_refused(grid, president, row_kind, field):
    row = criterion_row(grid, "C1.1") if row_kind == "criterion" else competence_row(grid, "C1")
    with pytest.raises(ValidationError, match="Champ inconnu"):
        services.save_field(grid=grid, row_kind=row_kind, row_id=row.pk, field=field,
                            value="1", revision=1, actor=president.user)


def test_an_invalid_verdict_is_refused(grid, president):
    row = criterion_row(grid, "C1.1")
    with pytest.raises(ValidationError, match="Valeur invalide"):
        save(grid, row, "satisfied", "peut-être", president.user)
    row.refresh_from_db()
    assert row.satisfied is None and row.revision == 1


def test_a_row_of_another_grid_is_not_found(grid, president, centre, version, staff,
                                            certification, assessor):
    from tests.factories import make_commission, make_ready, make_registration

    other_registration = make_ready(make_registration(centre=centre, version=version,
                                                      actor=staff), actor=staff)
    other = make_commission(centre=centre, certifications=[certification], actor=staff,
                            members=[president, assessor], registrations=[other_registration])
    other_grid = services.ensure_grid(scheduled=other.scheduled.get(), actor=staff)
    foreign_row = competence_row(other_grid, "C1")
    with pytest.raises(CompetenceResult.DoesNotExist):
        services.save_field(grid=grid, row_kind="competence", row_id=foreign_row.pk,
                            field="comment", value="intrus", revision=1, actor=president.user)
    foreign_row.refresh_from_db()
    assert foreign_row.comment == ""


def test_saving_the_same_value_changes_nothing(grid, president):
    row = save(grid, competence_row(grid, "C1"), "comment", "Observé.", president.user)
    events = grid.events.count()
    again = save(grid, row, "comment", "Observé.  ", president.user)
    assert again.revision == row.revision == 2
    assert grid.events.count() == events


def test_stale_revision_is_refused_with_the_other_writers_value(grid, president, assessor):
    row = criterion_row(grid, "C1.1")
    # Both members read revision 1; the président saves first.
    services.save_field(grid=grid, row_kind="criterion", row_id=row.pk, field="notes",
                        value="Observé sur le banc de test.", revision=1, actor=president.user)
    events = grid.events.count()
    with pytest.raises(StaleEdit) as stale:
        services.save_field(grid=grid, row_kind="criterion", row_id=row.pk, field="notes",
                            value="Non observé.", revision=1, actor=assessor.user)
    assert stale.value.current_value == "Observé sur le banc de test."
    assert stale.value.revision == 2
    assert stale.value.who == "Marc Durand"
    [message] = stale.value.messages
    assert "Marc Durand a modifié cet élément" in message
    assert "« Observé sur le banc de test. »" in message
    assert "Votre saisie n'a pas été enregistrée" in message
    row.refresh_from_db()
    assert (row.notes, row.revision, row.updated_by) == (
        "Observé sur le banc de test.", 2, president.user)
    assert grid.events.count() == events


def test_stale_revision_on_a_level_reports_the_level_code(grid, president, assessor):
    row = competence_row(grid, "C2")
    save(grid, row, "level", level_id(grid, "NM"), president.user)
    with pytest.raises(StaleEdit) as stale:
        services.save_field(grid=grid, row_kind="competence", row_id=row.pk, field="level",
                            value=level_id(grid, "MA"), revision=1, actor=assessor.user)
    assert stale.value.current_value == "NM"
    row.refresh_from_db()
    assert row.level.code == "NM"


def test_a_stale_write_on_another_field_of_the_row_is_refused_too(grid, president, assessor):
    """The revision is per row: the second writer is told, never silently merged."""
    row = competence_row(grid, "C2")
    save(grid, row, "comment", NM_COMMENT, president.user)
    with pytest.raises(StaleEdit):
        services.save_field(grid=grid, row_kind="competence", row_id=row.pk, field="level",
                            value=level_id(grid, "NM"), revision=1, actor=assessor.user)
    row.refresh_from_db()
    assert row.level is None and row.comment == NM_COMMENT


@pytest.mark.postgres
def test_the_volume_loader_copies_criterion_rows_as_bulk_create_writes_them(grid):
    """``scale.insert_rows`` (COPY on PostgreSQL) keeps NULL apart from text, even a
    literal « \\N », and keeps commas, quotes and line breaks."""
    from evaluations import scale

    rows = list(CriterionResult.objects.filter(competence_result__grid=grid).order_by("pk"))
    answers = [(None, 'Virgule, « guillemets " » et\nretour à la ligne', False),
               (True, "", True), (False, "\\N", False), (True, "\\", False)]
    expected = [(row.competence_result_id, row.criterion_id) + answers[i % len(answers)]
                for i, row in enumerate(rows)]
    CriterionResult.objects.filter(pk__in=[row.pk for row in rows]).delete()
    scale.insert_rows(CriterionResult, [
        CriterionResult(competence_result_id=result, criterion_id=criterion,
                        satisfied=satisfied, notes=notes, concerned=concerned)
        for result, criterion, satisfied, notes, concerned in expected], batch_size=3)
    stored = CriterionResult.objects.filter(competence_result__grid=grid).order_by("pk")
    assert [(c.competence_result_id, c.criterion_id, c.satisfied, c.notes, c.concerned)
            for c in stored] == expected
    assert {(c.revision, c.updated_by_id) for c in stored} == {(1, None)}
    assert all(c.updated_at is not None for c in stored)
