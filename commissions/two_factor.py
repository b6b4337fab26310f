"""Two-factor sign-in (issue 11 §4): who must use it, enrolment, verification and the staff
reset, on django-otp's devices — a TOTP device (the authenticator app) and a static device
holding the recovery codes.

The policy (settings.TWO_FACTOR["REQUIRED"], default: on when DEBUG is off) applies to staff
(gestionnaire or national role, or a Django staff account) and to the presidents of a jury
session not yet closed; anyone else may enrol voluntarily. Whoever has a confirmed device is
asked for a code after their password, required or not.

What a session still owes is decided when it signs in (``user_logged_in``) and kept in the
session: the pages then cost no query for it. A session that owed nothing is checked against
the policy again every TWO_FACTOR["RECHECK_SECONDS"] (``step_now``), so that a policy change
(a new jury president, a new gestionnaire) reaches it within minutes; the setting turned on
takes effect the same way.
"""

import logging
import time

from django.conf import settings
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth.signals import user_logged_in
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import transaction
from django.dispatch import receiver
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import translation
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django_htmx.http import HttpResponseClientRedirect
from django_otp import devices_for_user, user_has_device, verify_token
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp.util import random_hex

from certifications.models import Role
from certifications.scoping import staff_centre_ids, user_roles
from commissions.models import Seat, SessionStatus

logger = logging.getLogger(__name__)

SESSION_KEY = "two_factor_step"  # "verify", "enrol" or "" (nothing owed)
# When the policy was last applied to a session that owed nothing (epoch seconds).
CHECKED_KEY = "two_factor_checked_at"
VERIFY, ENROL, DONE = "verify", "enrol", ""
RECOVERY_CODE_COUNT = 10
STAFF_ROLES = {Role.STAFF, Role.NATIONAL}
OPEN_SESSION_STATUSES = [SessionStatus.PLANNED, SessionStatus.OPEN]
RESET_PREFIX = gettext_noop("Double authentification réinitialisée")


class TwoFactorError(ValidationError):
    """A refused code or action, with the French message the page shows."""


# ---------------------------------------------------------------------------
# Policy
# ---------------------------------------------------------------------------
def is_required(user) -> bool:
    """Must this account use a second factor? Staff, and presidents of a jury session not
    yet closed, when the setting asks for it."""
    if not settings.TWO_FACTOR["REQUIRED"] or not user.is_authenticated:
        return False
    if user.is_staff or user.is_superuser or user_roles(user) & STAFF_ROLES:
        return True
    return Seat.objects.filter(member__user=user, is_president=True,
                               session__status__in=OPEN_SESSION_STATUSES).exists()


def pending_step(user) -> str:
    """What the signed-in user still owes before reaching the application."""
    if getattr(user, "is_verified", lambda: False)():
        return DONE
    if user_has_device(user):
        return VERIFY
    return ENROL if is_required(user) else DONE


@receiver(user_logged_in, dispatch_uid="two_factor_step_on_login")
def _decide_on_login(sender, request, user, **kwargs):
    if request is not None and hasattr(request, "session"):
        request.session[SESSION_KEY] = pending_step(user)
        request.session[CHECKED_KEY] = int(time.time())


def step_now(request) -> str:
    """What the session owes now. A session that owed nothing at sign-in (no device, not
    required then) is checked against the policy again every
    ``TWO_FACTOR["RECHECK_SECONDS"]``: someone made gestionnaire or named president of a
    jury while signed in must enrol within minutes, not at their next sign-in. A session
    verified by a code is never asked again."""
    session = request.session
    step = session.get(SESSION_KEY)
    if step == DONE and not getattr(request.user, "is_verified", lambda: False)():
        now = int(time.time())
        if now - session.get(CHECKED_KEY, 0) >= settings.TWO_FACTOR["RECHECK_SECONDS"]:
            step = None
    if step is None:  # a session opened before two-factor sign-in existed, or due a check
        step = session[SESSION_KEY] = pending_step(request.user)
        session[CHECKED_KEY] = int(time.time())
    return step


def mark_done(request, device) -> None:
    """The session is verified by ``device`` (django-otp) and owes nothing more."""
    otp_login(request, device)
    request.session[SESSION_KEY] = DONE


# ---------------------------------------------------------------------------
# Services
# ---------------------------------------------------------------------------
def new_secret() -> str:
    """A TOTP key (hex, 20 random bytes) for an enrolment not yet confirmed."""
    return random_hex(20)


def totp_device_for_key(user, key: str) -> TOTPDevice:
    """The unsaved device a key would become: its QR code address and base32 secret."""
    return TOTPDevice(user=user, key=key, name=_("Application d'authentification"))


def normalise_code(code: str) -> str:
    return "".join(code.split()).replace("-", "").lower()


@transaction.atomic
def enrol(*, user, key: str, code: str) -> tuple[TOTPDevice, list[str]]:
    """Confirm the authenticator app showing ``code`` for ``key``, replacing any previous
    device, and issue RECOVERY_CODE_COUNT new recovery codes (returned once, stored by
    django-otp). A wrong code changes nothing."""
    for device in devices_for_user(user, confirmed=None):
        device.delete()
    device = TOTPDevice.objects.create(user=user, key=key, confirmed=False,
                                       name=_("Application d'authentification"))
    if not device.verify_token(normalise_code(code)):
        raise TwoFactorError(_("Code incorrect : saisissez le code à 6 chiffres affiché "
                               "par votre application."))
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    recovery = StaticDevice.objects.create(user=user, name=_("Codes de secours"))
    codes = [StaticToken.random_token() for _i in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=recovery, token=c) for c in codes)
    logger.info("two_factor.enrolled user_id=%s", user.pk)
    return device, codes


def verify(*, user, code: str):
    """The device that accepts ``code``: the app (6 digits) or one recovery code, used up.
    django-otp throttles each device after a wrong code (1 s, 2 s, 4 s…)."""
    code = normalise_code(code)
    model = TOTPDevice if len(code) == 6 and code.isdigit() else StaticDevice
    device = model.objects.devices_for_user(user, confirmed=True).first()
    if device is None:
        raise TwoFactorError(_("Code incorrect. Saisissez le code affiché par votre "
                               "application ou l'un de vos codes de secours."))
    allowed, _details = device.verify_is_allowed()
    if not allowed:
        raise TwoFactorError(_("Trop de codes erronés : patientez quelques secondes avant "
                               "de réessayer."))
    verified = verify_token(user, device.persistent_id, code)
    if verified is None:
        logger.warning("two_factor.code_refused user_id=%s", user.pk)
        raise TwoFactorError(_("Code incorrect. Saisissez le code affiché par votre "
                               "application ou l'un de vos codes de secours."))
    if model is StaticDevice:
        logger.info("two_factor.recovery_code_used user_id=%s", user.pk)
    return verified


def remaining_recovery_codes(user) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def may_reset(actor, target) -> bool:
    """Staff reset another account's second factor: superusers any, a gestionnaire those
    who belong to one of their centres; never their own (that would bypass the factor)."""
    if actor.pk == target.pk or not actor.is_authenticated:
        return False
    if actor.is_superuser:
        return True
    centres = staff_centre_ids(actor)
    return bool(centres) and target.memberships.filter(centre_id__in=centres).exists()


@transaction.atomic
def reset(*, target, actor, reason: str) -> int:
    """Delete every device of ``target`` (lost phone, no recovery code left): they enrol
    again at their next sign-in. Recorded in the admin's history of the account with the
    reason, and in the log (ids only)."""
    if not may_reset(actor, target):
        raise TwoFactorError(_("Vous ne pouvez pas réinitialiser la double authentification "
                               "de ce compte."))
    reason = reason.strip()
    if not reason:
        raise TwoFactorError(_("Indiquez le motif de la réinitialisation."))
    count = 0
    for device in devices_for_user(target, confirmed=None):
        device.delete()
        count += 1
    with translation.override(settings.LANGUAGE_CODE):  # the record reads the same for all
        message = _("%(prefix)s. Motif : %(reason)s") % {"prefix": _(RESET_PREFIX),
                                                        "reason": reason}
    LogEntry.objects.log_actions(user_id=actor.pk, queryset=[target], action_flag=CHANGE,
                                 change_message=message, single_object=True)
    logger.warning("two_factor.reset target_user_id=%s actor_user_id=%s devices=%s",
                   target.pk, actor.pk, count)
    return count


def reset_history(target):
    """The audit entries of resets of ``target`` (newest first)."""
    with translation.override(settings.LANGUAGE_CODE):
        prefix = _(RESET_PREFIX)
    return LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(target), object_id=str(target.pk),
        action_flag=CHANGE, change_message__startswith=prefix,
    ).select_related("user").order_by("-action_time")


# ---------------------------------------------------------------------------
# Middleware
# ---------------------------------------------------------------------------
# Pages reachable before the second factor: signing in and out, the language, the public
# pages (document check, personal links, health probe). The two-factor pages mark
# themselves with @two_factor_exempt.
EXEMPT_URL_NAMES = {"login", "logout", "set_language", "healthz", "verify_form", "verify"}
EXEMPT_NAMESPACES = {"links"}


def two_factor_exempt(view):
    view.two_factor_exempt = True
    return view


class TwoFactorMiddleware:
    """Sends a signed-in user who owes a code (or, required, an enrolment) to that page
    before anything else, the admin included. After django-otp's OTPMiddleware."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if not request.user.is_authenticated or getattr(view_func, "two_factor_exempt", False):
            return None
        match = request.resolver_match
        if match and (match.url_name in EXEMPT_URL_NAMES and not match.namespace
                      or match.namespace in EXEMPT_NAMESPACES):
            return None
        step = step_now(request)
        if step == DONE:
            return None
        url = reverse("two_factor:verify" if step == VERIFY else "two_factor:enrol")
        if request.method == "GET":
            url += "?" + urlencode({"next": request.get_full_path()})
        if getattr(request, "htmx", False):
            return HttpResponseClientRedirect(url)
        return redirect(url)
