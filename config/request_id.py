"""Who and what a log record belongs to: the request id, the signed-in user's id, the Celery task
(issue 11 §5). Kept in context variables, read by ``config.logging_config.ContextFilter``.

A request id comes from the ``X-Request-ID`` header when the reverse proxy (or the caller) set a
safe one — so one id follows a request from nginx to gunicorn to Django — otherwise it is made
here; it is sent back in the response header. The values are overwritten when the next request
starts, not cleared when one ends: the lines logged after the response (Django's « Not Found »,
gunicorn's access line) still carry the request they are about.
"""

import contextvars
import re
import uuid

from django.utils.functional import SimpleLazyObject

HEADER = "X-Request-ID"
SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")

REQUEST_ID = contextvars.ContextVar("request_id", default=None)
REQUEST = contextvars.ContextVar("request", default=None)
TASK_ID = contextvars.ContextVar("task_id", default=None)
TASK_NAME = contextvars.ContextVar("task_name", default=None)
_task_tokens: dict[str, tuple] = {}


def accepted_request_id(value: str | None) -> str:
    """``value`` when it is a safe id (no spaces, quotes or line breaks to forge log lines),
    else a new one."""
    if value and SAFE_REQUEST_ID.fullmatch(value):
        return value
    return uuid.uuid4().hex


class RequestIdMiddleware:
    """First in MIDDLEWARE: every record logged while the request runs carries its id."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.request_id = accepted_request_id(request.headers.get(HEADER))
        REQUEST_ID.set(request.request_id)
        REQUEST.set(request)
        response = self.get_response(request)
        response[HEADER] = request.request_id
        return response


def current_user_id() -> int | None:
    """The current request's user id, once authentication has resolved the user (never
    resolved here: a log call must not query the database). Only the id: a username, a name
    or an e-mail address is personal data and never reaches the logs."""
    request = REQUEST.get()
    if request is None:
        return None
    user = vars(request).get("user")  # AuthenticationMiddleware's lazy user, or login()'s
    if isinstance(user, SimpleLazyObject):
        user = vars(request).get("_cached_user")  # set by Django once the lazy user is read
    return getattr(user, "pk", None)


def bind_task(task_id=None, task=None, **kwargs) -> None:
    """Celery ``task_prerun``: the records of a task carry its id and name."""
    if task_id is None:
        return
    _task_tokens[task_id] = (TASK_ID.set(task_id), TASK_NAME.set(getattr(task, "name", None)))


def unbind_task(task_id=None, **kwargs) -> None:
    """Celery ``task_postrun``: back to what ran before (a request, for an eager task)."""
    tokens = _task_tokens.pop(task_id, None)
    if tokens is not None:
        TASK_ID.reset(tokens[0])
        TASK_NAME.reset(tokens[1])
