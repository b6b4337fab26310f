"""Celery application. With no broker configured, settings make tasks run eagerly."""

import os

from celery import Celery
from celery.signals import setup_logging, task_postrun, task_prerun

from config import request_id

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

# config holds no app, so autodiscovery does not see its tasks: they are listed here.
app = Celery("uimm", include=["config.backup", "config.heartbeat"])
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@setup_logging.connect(dispatch_uid="uimm_django_logging")
def _log_through_django_settings(**kwargs):
    """Celery's own set-up (its handlers, its redirection of stdout) is skipped: the worker and
    beat log through settings.LOGGING — JSON in production — like the web processes."""
    from django.conf import settings
    from django.utils.log import configure_logging

    configure_logging(settings.LOGGING_CONFIG, settings.LOGGING)


# The records of a task carry its id and name (config/logging_config.py).
task_prerun.connect(request_id.bind_task, dispatch_uid="uimm_bind_task")
task_postrun.connect(request_id.unbind_task, dispatch_uid="uimm_unbind_task")
