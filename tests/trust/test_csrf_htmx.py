"""CSRF on htmx requests: an htmx POST (the grid's autosave) without the token is refused;
the token the page gives htmx (``hx-headers`` on <body>, templates/base.html) is accepted."""

import json
import re
from html import unescape

import pytest
from django.test import Client
from django.urls import reverse

from evaluations.models import GridState
from tests.evaluations.conftest import criterion_row, fill_grid

pytestmark = pytest.mark.django_db

BODY_HEADERS = re.compile(r"<body[^>]*\shx-headers='([^']*)'")


@pytest.fixture
def browser(president):
    """A client that checks CSRF as the real middleware does for a browser."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(president.user)
    return client


def htmx_headers(client, url) -> dict:
    """The headers the page tells htmx to send with every request."""
    page = client.get(url)
    match = BODY_HEADERS.search(page.content.decode())
    assert match, "no hx-headers on <body>"
    return json.loads(unescape(match.group(1)))


def autosave(client, grid, headers):
    row = criterion_row(grid, "C1.1")
    return client.post(reverse("grids:save_field", args=[grid.pk]), {
        "row_kind": "criterion", "row_id": row.pk, "field": "satisfied", "value": "oui",
        "revision": row.revision,
    }, headers={"HX-Request": "true", **headers})


def test_htmx_post_without_the_token_is_refused(browser, grid):
    browser.get(reverse("grids:detail", args=[grid.pk]))  # the page sets the csrftoken cookie

    response = autosave(browser, grid, {})

    assert response.status_code == 403
    assert "X-Grid-Revision" not in response


def test_htmx_post_with_a_forged_token_is_refused(browser, grid):
    browser.get(reverse("grids:detail", args=[grid.pk]))

    response = autosave(browser, grid, {"X-CSRFToken": "x" * 64})

    assert response.status_code == 403


def test_htmx_post_with_the_token_of_the_page_is_accepted(browser, grid):
    headers = htmx_headers(browser, reverse("grids:detail", args=[grid.pk]))

    response = autosave(browser, grid, headers)

    assert set(headers) == {"X-CSRFToken"}
    assert response.status_code == 200
    assert response["X-Grid-Revision"]


def test_every_page_gives_htmx_the_token(browser):
    assert set(htmx_headers(browser, reverse("dashboard"))) == {"X-CSRFToken"}


def test_the_submit_form_an_autosave_sends_back_carries_a_token_that_is_accepted(browser, grid,
                                                                                president):
    """When the grid is complete, the « Ce qui manque » panel an autosave sends back holds
    the « Passer à la signature » form; its token is the session's."""
    headers = htmx_headers(browser, reverse("grids:detail", args=[grid.pk]))
    fill_grid(grid, president.user)

    response = autosave(browser, grid, headers)

    assert response.status_code == 200
    [token] = re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"',
                         response.content.decode())
    submitted = browser.post(reverse("grids:submit", args=[grid.pk]),
                             {"csrfmiddlewaretoken": token})
    assert submitted.status_code == 302
    grid.refresh_from_db()
    assert grid.state == GridState.TO_SIGN
