"""The trust suite acts on the evaluation world (a commission, its grid, a jury session):
its fixtures are those of tests/evaluations, shared here once."""

from tests.evaluations.conftest import *  # noqa: F403 — pytest fixtures
