"""Sign-in throttling (django-axes): who is knocking, and the page a locked-out person sees.

Axes locks a username *from one address* after AXES_FAILURE_LIMIT failures. Behind the
reverse proxy, REMOTE_ADDR is the proxy's own address for everybody: the lock would then
fall on the username for the whole world (anyone could lock out a colleague for a quarter of
an hour). The client's address is the entry the nearest trusted proxy appended to
X-Forwarded-For; entries further left were written by the client and are never trusted,
or an attacker would change « address » at every attempt and never be locked.
"""

import ipaddress

from axes.helpers import get_cool_off
from django.conf import settings
from django.shortcuts import render


def client_ip(request) -> str | None:
    """The address that sent the request, as seen by the first of TRUSTED_PROXY_COUNT
    proxies in front of the application (0: no proxy, REMOTE_ADDR is the client)."""
    count = settings.TRUSTED_PROXY_COUNT
    if count:
        forwarded = [part.strip() for part in
                     request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if len(forwarded) >= count:
            candidate = forwarded[-count]
            try:
                return str(ipaddress.ip_address(candidate))
            except ValueError:
                pass  # a malformed header: the connection's own address is all we know
    return request.META.get("REMOTE_ADDR") or None


def lockout_response(request, original_response=None, credentials=None):
    """The French page shown instead of the login form while the lock lasts (HTTP 429)."""
    cool_off = get_cool_off(request)
    minutes = int(cool_off.total_seconds() // 60) if cool_off else None
    return render(request, "registration/login_locked.html", {"minutes": minutes},
                  status=429)  # Too Many Requests
