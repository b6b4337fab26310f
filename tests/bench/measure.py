"""Timing one request in-process: its query count, the median and p95 of its server time over
repeated runs, its size — and the same figures for its floor (``tests.bench.floor``)."""

import math
import statistics
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from time import perf_counter

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

WARMUP = 3
REPEAT = 30
# Every request goes through the same middleware as behind the production proxy: HTTPS as
# announced by X-Forwarded-Proto (no redirect), a host of ALLOWED_HOSTS.
CLIENT_DEFAULTS = {"HTTP_X_FORWARDED_PROTO": "https", "HTTP_HOST": "127.0.0.1"}


def bench_client(user=None) -> Client:
    """A test client as a browser behind the proxy, logged in as ``user`` when given.

    The bench runs with production settings, where staff and jury presidents must sign in
    with a second factor (issue 11): a signed-in client is one whose session went through
    it, with a confirmed authenticator device, as in service. Otherwise every page of
    theirs would measure the redirect to the enrolment page."""
    client = Client(**CLIENT_DEFAULTS)
    if user is not None:
        client.force_login(user)
        from commissions import two_factor

        if client.session.get(two_factor.SESSION_KEY) != two_factor.DONE:
            verify_second_factor(client, user)
    return client


def verify_second_factor(client: Client, user) -> None:
    """Mark the client's session verified by ``user``'s authenticator app (created confirmed
    when missing), as ``commissions.two_factor.mark_done`` does after a right code."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from commissions import two_factor

    device = TOTPDevice.objects.devices_for_user(user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, key=two_factor.new_secret(),
                                           confirmed=True, name="Banc de mesure")
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session[two_factor.SESSION_KEY] = two_factor.DONE
    session.save()


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile (``fraction`` in 0..1) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


@dataclass
class Sample:
    """What repeated runs of one request gave. Durations in milliseconds."""

    status: int
    size: int
    queries: int
    median_ms: float
    p95_ms: float
    min_ms: float
    runs: int
    statuses: list[int] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


def _first_runs(send: Callable, warmup: int):
    """``warmup`` untimed runs (caches, connection, compiled templates), then one under
    CaptureQueriesContext: the response and its query count."""
    for _ in range(warmup):
        send()
    with CaptureQueriesContext(connection) as captured:
        response = send()
    # Read now: the next request's request_started signal empties the connection's log.
    return response, len(captured.captured_queries)


def _timed(send: Callable) -> tuple[float, int]:
    start = perf_counter()
    response = send()
    return (perf_counter() - start) * 1000, response.status_code


def _sample(response, queries: int, durations: list[float], statuses: set[int]) -> Sample:
    return Sample(
        status=response.status_code,
        size=len(response.content),
        queries=queries,
        median_ms=round(statistics.median(durations), 2),
        p95_ms=round(percentile(durations, 0.95), 2),
        min_ms=round(min(durations), 2),
        runs=len(durations),
        statuses=sorted(statuses),
    )


def measure(send: Callable, *, warmup: int = WARMUP, repeat: int = REPEAT) -> Sample:
    """Run ``send()`` (which makes the request and returns the response): ``warmup`` times
    untimed, once for the query count, then ``repeat`` timed runs without capture
    (capturing costs time)."""
    response, queries = _first_runs(send, warmup)
    durations, statuses = [], {response.status_code}
    for _ in range(max(1, repeat)):
        duration, status = _timed(send)
        durations.append(duration)
        statuses.add(status)
    return _sample(response, queries, durations, statuses)


def measure_with_floor(send: Callable, client: Client, *, warmup: int = WARMUP,
                       repeat: int = REPEAT) -> tuple[Sample, Sample]:
    """The page and its floor (same size), their timed runs interleaved: page, floor, page,
    floor… This machine's speed drifts by ±20 % over a minute (other virtual machines on the
    host); timed one after the other, a drift between the two series moved a ratio by as
    much. Interleaved, both series see the same machine. Needs ROOT_URLCONF =
    "tests.bench.urls"."""
    page_response, page_queries = _first_runs(send, warmup)
    size = len(page_response.content)

    def send_floor():
        return client.get(floor_url(size))

    floor_response, floor_queries = _first_runs(send_floor, warmup)
    page_runs, floor_runs = [], []
    page_statuses, floor_statuses = {page_response.status_code}, {floor_response.status_code}
    for _ in range(max(1, repeat)):
        duration, status = _timed(send)
        page_runs.append(duration)
        page_statuses.add(status)
        duration, status = _timed(send_floor)
        floor_runs.append(duration)
        floor_statuses.add(status)
    return (_sample(page_response, page_queries, page_runs, page_statuses),
            _sample(floor_response, floor_queries, floor_runs, floor_statuses))


def floor_url(size: int) -> str:
    return f"/__bench__/floor/{max(0, int(size))}/"


def ratio(page: Sample, floor: Sample) -> float | None:
    if not floor.median_ms:
        return None
    return round(page.median_ms / floor.median_ms, 2)
