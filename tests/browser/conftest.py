"""Browser tests: Debian's Chromium driven by Playwright against Django's live server.

Every test here is marked ``browser``, needs the demo (``seed_demo``) and a transactional
database (the live server runs in another thread and must see the committed rows).
Each page fails its test if the browser logs a console error, a script throws, or a
request of the page (CSS, JS…) fails.
"""

import io
import os
from importlib import import_module
from pathlib import Path

import pytest
from django.apps import apps as django_apps
from django.core.management import call_command
from django.core.servers.basehttp import WSGIServer
from django.test import override_settings
from django.test.testcases import LiveServerThread

from certifications.demo import DEMO_PASSWORD
from tests.snapshot import restore_or_build

# Playwright's sync API keeps an asyncio loop in the main thread for the whole session;
# Django would then refuse every ORM call of the test thread (SynchronousOnlyOperation).
# The test thread never shares a connection with that loop, so the check is moot here.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS_DIR = Path(__file__).resolve().parents[2] / "var" / "screenshots"
BROWSER_DIR = Path(__file__).resolve().parent


class SerialLiveServer(WSGIServer):
    """The live server, one request at a time. On SQLite the test database lives in memory
    and Django hands its one connection to the server (connections_override): the threaded
    server answered two of the page's requests at once on that connection, and an autosave
    failed with « cannot open savepoint - SQL statements in progress » (a CI run of
    test_the_commission_fills_and_signs_a_grid). PostgreSQL gives each thread its own
    connection: the threaded server stays."""

    def __init__(self, *args, connections_override=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.connections_override = connections_override  # the thread already uses them


def shares_one_connection() -> bool:
    """Whether the live server would share the test thread's database connection."""
    from django.db import connections

    return any(connection.vendor == "sqlite" and connection.is_in_memory_db()
               for connection in connections.all())


@pytest.fixture(scope="session", autouse=True)
def serial_live_server_on_shared_sqlite(django_db_setup, django_db_blocker):
    """Before the session's live server starts (pytest-django builds it from Django's
    LiveServerThread): serial when its database connection is shared."""
    with django_db_blocker.unblock():
        shared = shares_one_connection()
    if not shared:
        yield
        return
    threaded = LiveServerThread.server_class
    LiveServerThread.server_class = SerialLiveServer
    yield
    LiveServerThread.server_class = threaded


def pytest_collection_modifyitems(config, items):
    for item in items:
        if BROWSER_DIR in item.path.parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser_type_launch_args():
    """Overrides pytest-playwright's fixture: the system Chromium, nothing downloaded."""
    return {
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-quic",
        ],
    }


@pytest.fixture(scope="session")
def base_url(live_server) -> str:
    """Overrides the plugin's ``base_url`` (whose definition pytest 9 deprecates, an error
    under our warning policy): relative ``page.goto("/…")`` go to the live server."""
    return live_server.url


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    # A French browser: headless Chromium would otherwise send Accept-Language: en-US and
    # LocaleMiddleware would answer in English.
    return {
        **browser_context_args,
        "locale": "fr-FR",
        "timezone_id": "Europe/Paris",
        "viewport": {"width": 1280, "height": 800},
    }


def _is_favicon(url: str) -> bool:
    # Chromium fetches the icon in the background and cancels it when the page navigates
    # away quickly; a cancelled icon request is not a problem of the page.
    return url.endswith(("/favicon.ico", "/favicon.svg"))


@pytest.fixture
def page(page):
    """The plugin's page, watched: any console error, uncaught exception or failed
    request (a missing stylesheet, a 404 on a script) fails the test at teardown."""
    problems: list[str] = []

    def on_console(message):
        if message.type == "error" and not _is_favicon(message.location.get("url", "")):
            problems.append(f"console: {message.text} ({message.location.get('url')})")

    def on_response(response):
        if response.status >= 400 and not _is_favicon(response.url):
            problems.append(f"HTTP {response.status}: {response.url}")

    # A fragment still loading when the user clicks away is cancelled by Chromium
    # (net::ERR_ABORTED): that is the user's choice, not a fault of the page. Such a
    # request counts as a problem only if the page never navigated after it started.
    navigations = [0]
    started: dict = {}
    aborted: list = []

    def on_frame_navigated(frame):
        if frame == page.main_frame:
            navigations[0] += 1

    def on_request_failed(request):
        if _is_favicon(request.url):
            return
        if (request.failure or "").startswith("net::ERR_ABORTED"):
            aborted.append((request.url, started.get(request, navigations[0])))
        else:
            problems.append(f"failed: {request.url} ({request.failure})")

    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.append(f"exception: {error}"))
    page.on("request", lambda request: started.__setitem__(request, navigations[0]))
    page.on("framenavigated", on_frame_navigated)
    page.on("requestfailed", on_request_failed)
    page.on("response", on_response)
    page.set_default_timeout(10_000)
    yield page
    problems.extend(f"failed: {url} (net::ERR_ABORTED)" for url, at in aborted
                    if navigations[0] <= at)
    assert problems == [], "the browser reported problems"


# Rows that data migrations create. The flush that ends every transactional test deletes
# them, and seed_demo relies on them (evaluators accept the current deontology charter).
DATA_MIGRATIONS = [("commissions.migrations.0002_charter_v1", "publish_first_charter")]


def _seed_demo():
    for module, function in DATA_MIGRATIONS:
        getattr(import_module(module), function)(django_apps, None)
    # seed_demo refuses to run with DEBUG off, which pytest-django forces; the live
    # server itself keeps DEBUG off, as in production.
    with override_settings(DEBUG=True):
        call_command("seed_demo", stdout=io.StringIO())


@pytest.fixture
def demo(transactional_db):
    """The demo data (centres, accounts, referentials…), as ``make run`` loads it: built by
    ``seed_demo`` for the first test of the process, then its rows put back for the next
    ones (tests.snapshot: ≈ 5 s a test otherwise)."""
    restore_or_build("seed_demo", _seed_demo)


@pytest.fixture
def screenshots_dir() -> Path:
    SCREENSHOTS_DIR.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS_DIR


def login(page, live_server, username: str, password: str = DEMO_PASSWORD):
    """Sign in through the real login form, as a person would."""
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Nom d’utilisateur").fill(username)  # Django's typographic apostrophe
    page.get_by_label("Mot de passe").fill(password)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_load_state("load")
