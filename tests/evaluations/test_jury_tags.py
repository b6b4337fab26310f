"""The outcome badge of the jury pages: the decision's own labels, its blocs, escaped."""

from django.utils import translation

from evaluations.models import Decision
from evaluations.templatetags.jury_tags import outcome_badge


def test_each_outcome_shows_the_decisions_label_and_colour():
    with translation.override("fr"):
        for outcome, colour in [("admis", "success"), ("admis_partiel", "warning"),
                                ("non_admis", "danger")]:
            label = Decision(outcome=outcome).get_outcome_display()
            assert outcome_badge(outcome) == (
                f'<span class="badge text-bg-{colour}" data-outcome="{outcome}">{label}</span>')
        assert "Validation partielle" in outcome_badge("admis_partiel")


def test_blocs_follow_and_an_unknown_outcome_is_a_dash():
    assert outcome_badge("admis", ["B1", "B<2>"]).endswith(
        ' <span class="small">B1, B&lt;2&gt;</span>')
    assert outcome_badge("") == '<span class="text-muted">—</span>'
    assert outcome_badge(None, ["B1"]) == (
        '<span class="text-muted">—</span> <span class="small">B1</span>')
