"""Query budgets (STYLE.md §9, issue 7): a key page runs the same number of queries whatever
the size of what it lists, and never more than ``PAGE_BUDGET``.

A test measures the page on a small data set, adds several times more of what the page lists,
and measures again::

    small = page_queries(client, url)
    grow()
    assert_flat(small, page_queries(client, url))
"""

from django.db import connection
from django.test.utils import CaptureQueriesContext

PAGE_BUDGET = 25


def page_queries(client, url: str, *, data=None, method: str = "get", status: int = 200,
                 warm: bool = False, **extra) -> list[str]:
    """The SQL the request runs. ``warm``: request once before measuring, so that process-wide
    caches filled by a first request (content types, the current charter…) are not counted."""
    if warm:
        getattr(client, method)(url, data or {}, **extra)
    with CaptureQueriesContext(connection) as context:
        response = getattr(client, method)(url, data or {}, **extra)
    assert response.status_code == status, (
        f"{method.upper()} {url}: {response.status_code}, expected {status}")
    return [query["sql"] for query in context.captured_queries]


def _listing(queries: list[str]) -> str:
    return "\n".join(f"{n:3d}. {sql[:300]}" for n, sql in enumerate(queries, 1))


def assert_flat(small: list[str], large: list[str], *, budget: int = PAGE_BUDGET,
                extra: int = 0) -> None:
    """The larger data set runs exactly ``extra`` more queries than the small one (a constant
    the caller justifies, never a number that grows with rows), both within ``budget``."""
    assert len(large) == len(small) + extra, (
        f"{len(small)} queries on the small data set, {len(large)} on the large one.\n"
        f"--- small:\n{_listing(small)}\n--- large:\n{_listing(large)}")
    assert len(large) <= budget, f"{len(large)} queries > {budget}:\n{_listing(large)}"
