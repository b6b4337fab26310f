"""Sending work to the Celery broker without ever failing the user's action.

Every piece of work the product sends to a worker is first recorded durably in the database
by the caller (a document row without its file, an unsent results letter, an unfinished
export): the broker only carries a wake-up call. So when Redis is down at the moment a grid is
signed or a jury decides, the action still succeeds; the message is simply not sent, and the
periodic sweep (``evaluations.tasks.requeue_pending_work``, run by Celery beat) sends it again
once the broker is back. The tasks are idempotent: a second delivery produces nothing twice.
"""

import logging

from django.db import transaction
from kombu.exceptions import OperationalError as BrokerError

logger = logging.getLogger(__name__)

# Publishing retries briefly: a user waits on this, and the sweep is the real safety net.
PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.2,
                        "interval_max": 0.5}


def send(task, **kwargs) -> bool:
    """Send ``task`` now; False (logged, never raised) when the broker cannot be reached.
    In eager mode (no broker configured) the task runs in-process and its errors propagate."""
    if task.app.conf.task_always_eager:
        task.apply_async(kwargs=kwargs)
        return True
    try:
        task.apply_async(kwargs=kwargs, retry=True, retry_policy=PUBLISH_RETRY_POLICY)
    except (BrokerError, OSError):
        logger.warning("Broker unreachable: %s(%s) stays pending until the next sweep",
                       task.name, kwargs, exc_info=True)
        return False
    return True


def send_on_commit(task, **kwargs) -> None:
    """``send`` once the current transaction commits (nothing is sent if it rolls back)."""
    transaction.on_commit(lambda: send(task, **kwargs))
