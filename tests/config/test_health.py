"""/healthz (DESIGN.md §6): the database and the broker are reachable, or tasks are eager."""

from functools import partial

import pytest

from config.celery import app as celery_app


@pytest.mark.django_db
def test_healthz_reports_eager_tasks_when_no_broker_is_configured(client, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True

    response = client.get("/healthz")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"status": "ok", "database": "ok", "broker": "eager"}


@pytest.mark.django_db
def test_healthz_is_never_cached(client):
    response = client.get("/healthz")

    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_healthz_reports_an_unreachable_broker_as_an_error(client, settings, monkeypatch):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    unreachable = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    monkeypatch.setattr(
        celery_app, "connection_for_write", partial(celery_app.connection_for_write, unreachable)
    )

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json() == {"status": "error", "database": "ok", "broker": "unreachable"}


@pytest.mark.worker
@pytest.mark.django_db
def test_healthz_and_a_real_worker_answer_with_a_broker(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "broker": "ok"}
    replies = celery_app.control.ping(timeout=5, limit=1)  # returns at the first reply
    assert replies, "no Celery worker answered the ping (.ci/run starts one)"
