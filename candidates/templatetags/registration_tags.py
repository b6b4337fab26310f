"""Template filters of the registration pages."""

from django import template

register = template.Library()

# The colour of each state's badge (Bootstrap), one place for the list and the page.
STATE_BADGE_CLASSES = {
    "inscrit": "text-bg-secondary",
    "en_formation": "text-bg-info",
    "pret_evaluation": "text-bg-primary",
    "evalue": "text-bg-warning",
    "delibere": "text-bg-success",
}


@register.filter
def state_badge_class(state: str) -> str:
    return STATE_BADGE_CLASSES.get(state, "text-bg-dark")
