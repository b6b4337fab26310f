"""The live server the browser tests drive: serial when it shares the test database's one
connection (SQLite in memory), threaded otherwise (tests/browser/conftest.py)."""

import concurrent.futures
import socketserver
import urllib.error
import urllib.request

import pytest
from django.urls import reverse

from tests.browser.conftest import shares_one_connection

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_server_answers_one_request_at_a_time_on_a_shared_connection(live_server):
    threaded = isinstance(live_server.thread.httpd, socketserver.ThreadingMixIn)
    assert threaded is not shares_one_connection()


def test_concurrent_reads_of_the_database_never_fail(live_server):
    """Twenty public lookups asked at once, as a page's parallel requests come: the serial
    server queues them and answers every one « unknown code » (or « too many tries », the
    page's own limit); none is refused or fails on the database connection."""
    url = f"{live_server.url}{reverse('verify', args=['AAAAA-BBBBB-CCCCC-DDDDD'])}"

    def fetch(_):
        try:
            with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 - local
                return response.status
        except urllib.error.HTTPError as error:
            return error.code

    with concurrent.futures.ThreadPoolExecutor(max_workers=10) as pool:
        statuses = list(pool.map(fetch, range(20)))
    assert set(statuses) <= {404, 429} and 404 in statuses
