"""Celery application. With no broker configured, settings make tasks run eagerly."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("uimm")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
