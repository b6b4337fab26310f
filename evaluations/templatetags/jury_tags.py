"""Template tags of the jury pages."""

from django import template
from django.utils.html import format_html

from evaluations.deliberation import FAILED, PARTIAL, PASSED
from evaluations.models import OUTCOME_LABELS

register = template.Library()

# An outcome's badge colour; its label is the decision's (Decision.outcome choices).
OUTCOME_CLASSES = {PASSED: "text-bg-success", PARTIAL: "text-bg-warning",
                   FAILED: "text-bg-danger"}


@register.simple_tag
def outcome_badge(outcome: str, blocs=None) -> str:
    """A proposal's or decision's outcome as a badge, with the acquired blocs when given. A
    tag rather than an include: the session page shows two per candidate, and an include per
    row and column cost ≈ 10 ms for 100 candidates."""
    if outcome in OUTCOME_CLASSES:
        html = format_html('<span class="badge {}" data-outcome="{}">{}</span>',
                           OUTCOME_CLASSES[outcome], outcome, OUTCOME_LABELS[outcome])
    else:
        html = format_html('<span class="text-muted">{}</span>', "—")
    if blocs:
        html += format_html(' <span class="small">{}</span>', ", ".join(blocs))
    return html
