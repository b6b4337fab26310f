"""Celery tasks of the declarations to the Caisse des Dépôts: thin and idempotent."""

from celery import shared_task

from reporting import services


@shared_task
def sync_holders_awards() -> int:
    """Each night: the awards follow the decisions and identities, so that the deadlines and
    the statistics are right even on days nobody opens the page."""
    return services.sync_awards()
