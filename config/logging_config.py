"""LOGGING (issue 11 §5): one line per record on stderr — JSON in production, plain text on a
laptop — each carrying the request id, the user id and the Celery task it belongs to, and never
the secret of a personal link.

The same dictionary serves Django (settings.LOGGING), Celery (config/celery.py hands logging to
it) and gunicorn (``logconfig_dict``): every process writes the same format. Personal data stays
out of the messages themselves: log calls name objects by id, never by name, e-mail or birth
date (tests/config/test_logging.py runs a whole registration and reads the logs).
"""

import logging
import re

from pythonjsonlogger.core import RESERVED_ATTRS

from config import request_id as context

FORMATS = ("json", "text")

# /lien/<page>/<token>/: the token in a personal link's URL is its only credential. Django logs
# the path of a 404/410 (an expired link), gunicorn and runserver that of every request.
LINK_TOKEN = re.compile(r"(/lien/[\w-]+/)(?!merci/)[^/\s?#\"'<>]+")
REDACTED = r"\1<jeton>"


class ContextFilter(logging.Filter):
    """Adds ``request_id``, ``user_id``, ``task_id`` and ``task_name`` to every record."""

    def filter(self, record):
        record.request_id = context.REQUEST_ID.get()
        record.user_id = context.current_user_id()
        record.task_id = context.TASK_ID.get()
        record.task_name = context.TASK_NAME.get()
        return True


class RedactLinkTokens(logging.Filter):
    """Replaces the token of every personal-link path in the message by ``<jeton>``."""

    def filter(self, record):
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a malformed call: the formatter reports it
            return True
        redacted = LINK_TOKEN.sub(REDACTED, message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


def logging_config(*, fmt: str, level: str) -> dict:
    """The ``LOGGING`` dictionary for ``fmt`` (``"json"`` or ``"text"``) at ``level``."""
    if fmt not in FORMATS:
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured(
            f"LOG_FORMAT doit valoir « json » ou « text » (valeur reçue : « {fmt} »).")
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            "context": {"()": "config.logging_config.ContextFilter"},
            "redact": {"()": "config.logging_config.RedactLinkTokens"},
            "require_debug_false": {"()": "django.utils.log.RequireDebugFalse"},
        },
        "formatters": {
            "json": {
                "()": "pythonjsonlogger.json.JsonFormatter",
                "fmt": ["levelname", "name", "message", "request_id", "user_id", "task_id",
                        "task_name"],
                "rename_fields": {"levelname": "level", "name": "logger"},
                "timestamp": True,
                # Django attaches the request object (and runserver its socket) to some
                # records: its text holds the full path, query string included.
                "reserved_attrs": [*RESERVED_ATTRS, "request", "server_time"],
                "json_ensure_ascii": False,
            },
            "text": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
        },
        "handlers": {
            # stderr, never stdout: commands write their product there (export_holders,
            # export_referential > file) and a log line must not end up inside it.
            "console": {"class": "logging.StreamHandler", "stream": "ext://sys.stderr",
                        "formatter": fmt, "filters": ["context", "redact"]},
            "mail_admins": {"class": "django.utils.log.AdminEmailHandler", "level": "ERROR",
                            "filters": ["require_debug_false"]},
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            # Django's own defaults, but its console handler (a second, unfiltered copy of
            # every line on a laptop) left to the root's.
            "django": {"handlers": ["mail_admins"]},
            "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
            # SQL with its parameters (names, birth dates) would be logged at DEBUG.
            "django.db.backends": {"level": "INFO"},
            "weasyprint": {"level": "WARNING"},
            "fontTools": {"level": "WARNING"},
            # gunicorn (when it is given this dictionary as logconfig_dict): through the root.
            "gunicorn.error": {"handlers": [], "propagate": True},
            "gunicorn.access": {"handlers": [], "propagate": True},
        },
    }
