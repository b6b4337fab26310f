"""Operational facts the processes leave for /healthz: heartbeats, the last backup.

A web process cannot look at a worker's memory or at beat's disk, so each process records its
facts in the shared cache (Redis in production: ``CACHE_URL`` is required there) and /healthz
reads them back. Entries never expire by themselves: their age is what tells a stopped process.
"""

from __future__ import annotations

from datetime import datetime

from django.core.cache import cache
from django.utils import timezone

PREFIX = "ops:"


def record(name: str, *, ok: bool = True, **details) -> dict:
    """Record that ``name`` (``"worker"``, ``"beat"``, ``"backup"``…) happened now."""
    entry = {"at": timezone.now().isoformat(), "ok": ok, **details}
    cache.set(PREFIX + name, entry, timeout=None)
    return entry


def read(name: str) -> dict | None:
    """The last entry recorded for ``name``, with ``at`` as an aware datetime, or None."""
    entry = cache.get(PREFIX + name)
    if not entry:
        return None
    return {**entry, "at": datetime.fromisoformat(entry["at"])}


def age_seconds(entry: dict | None) -> float | None:
    if entry is None:
        return None
    return (timezone.now() - entry["at"]).total_seconds()
