"""Template tags of the registration pages."""

from django import template
from django.utils.html import format_html

register = template.Library()

# The colour of each state's badge (Bootstrap).
STATE_BADGE_CLASSES = {
    "inscrit": "text-bg-secondary",
    "en_formation": "text-bg-info",
    "pret_evaluation": "text-bg-primary",
    "evalue": "text-bg-warning",
    "delibere": "text-bg-success",
}


@register.simple_tag
def state_badge(state: str, label) -> str:
    """A registration's state as a badge: one tag for the page and for each row of the list
    (an include per row cost the list more than the badge itself)."""
    return format_html('<span class="badge {}" data-state="{}">{}</span>',
                       STATE_BADGE_CLASSES.get(state, "text-bg-dark"), state, label)
