"""Logs (issue 11 §5): JSON lines with the request id, the user id and the Celery task; no
personal data and no personal-link token, checked on a registration made through the pages."""

import io
import json
import logging
import logging.config
import re
import sys
from urllib.parse import urlsplit

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from candidates.models import LinkPurpose, Registration
from certifications.models import Role
from config.logging_config import logging_config
from evaluations import services
from evaluations.models import GeneratedDocument
from tests.evaluations.conftest import PASSWORD, fill_grid
from tests.factories import (
    CentreFactory,
    CompanyFactory,
    build_version,
    make_commission,
    make_evaluator,
    make_ready,
    member,
)
from tests.factories import real_pdf as pdf_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def json_logs(monkeypatch, settings):
    """Everything logged (root at DEBUG) through the production configuration, as text."""
    stream = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stream)
    logging.config.dictConfig(logging_config(fmt="json", level="DEBUG"))
    # factory_boy's own debug lines print the objects the test builds: not the application's.
    logging.getLogger("factory").setLevel(logging.INFO)
    yield stream
    monkeypatch.undo()
    logging.config.dictConfig(settings.LOGGING)


def records(stream) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def test_request_id_is_echoed_when_safe_and_made_otherwise(client):
    assert client.get("/healthz", HTTP_X_REQUEST_ID="abc-123.x_Y")["X-Request-ID"] == "abc-123.x_Y"
    for unsafe in ("a b", "x" * 65, 'evil"\ninjected', ""):
        made = client.get("/healthz", HTTP_X_REQUEST_ID=unsafe)["X-Request-ID"]
        assert re.fullmatch(r"[0-9a-f]{32}", made)


def test_json_lines_parse_and_redact_link_tokens(json_logs):
    logging.getLogger("gunicorn.access").info('%(h)s "%(r)s" %(s)s', {
        "h": "192.0.2.1", "r": "GET /lien/candidat/SECRET-token_1/ HTTP/1.1", "s": "200"})
    logging.getLogger("django.server").info('"GET /lien/avis/SECRET2/ HTTP/1.1" 200')
    lines = records(json_logs)
    assert [line["logger"] for line in lines] == ["gunicorn.access", "django.server"]
    assert lines[0]["message"] == '192.0.2.1 "GET /lien/candidat/<jeton>/ HTTP/1.1" 200'
    assert {"timestamp", "level", "request_id", "user_id", "task_id", "task_name"} <= set(lines[0])
    assert "SECRET" not in json_logs.getvalue()


@pytest.mark.slow
def test_a_registration_to_a_signed_grid_logs_no_personal_data(
        client, json_logs, mailoutbox, media_root, django_capture_on_commit_callbacks):
    """Staff sign in and register a new candidate, who sends the report through the personal
    link; the commission signs the grid, whose PDF is rendered (eager task)."""
    centre = CentreFactory()
    staff = member(Role.STAFF, centre=centre, username="claire.gestin",
                   email="claire.gestin@centre.example", last_name="Gestin")
    version = build_version()
    company = CompanyFactory(centre=centre)
    president, assessor = (make_evaluator(centre=centre, certifications=[version.certification])
                           for _ in range(2))
    json_logs.seek(0)
    json_logs.truncate()

    assert client.post(reverse("login"), {"username": "claire.gestin",
                                          "password": PASSWORD}).status_code == 302
    response = client.post(reverse("candidates:registration_create"), {
        "centre": centre.pk, "candidate_choice": "new",
        "new-birth_name": "Lemoine", "new-usage_name": "", "new-first_names": "Jeanne",
        "new-birth_date": "1998-04-12", "new-sex": "F", "new-email": "jeanne@mail.example",
        "new-phone": "", "new-employer": company.pk,
        "version": version.pk, "path": "contrat_pro", "company": company.pk,
        "registered_on": "2025-09-01",
    })
    assert response.status_code == 302
    registration = Registration.objects.get(candidate__birth_name="Lemoine")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("candidates:link_issue", args=[registration.pk]),
                    {"purpose": LinkPurpose.CANDIDATE_UPLOAD})
    path = urlsplit(re.search(r"https?://\S+", mailoutbox[0].body).group(0)).path
    token = path.rstrip("/").rsplit("/", 1)[1]
    client.logout()
    report = SimpleUploadedFile("rapport.pdf", pdf_bytes(), content_type="application/pdf")
    assert client.post(path, {"file": report}).status_code == 302
    assert client.get(path.replace("/candidat/", "/avis/")).status_code == 404  # logs its path

    make_ready(registration, actor=staff)
    commission = make_commission(centre=centre, certifications=[version.certification],
                                 actor=staff, members=[president, assessor],
                                 registrations=[registration], confirm=True)
    grid = services.ensure_grid(scheduled=commission.scheduled.get(), actor=staff)
    fill_grid(grid, president.user)
    services.submit_for_signature(grid=grid, actor=president.user)
    for evaluator in (president, assessor):
        client.force_login(evaluator.user)
        with django_capture_on_commit_callbacks(execute=True):
            assert client.post(reverse("grids:sign", args=[grid.pk]),
                               {"consent": "on", "password": PASSWORD}).status_code == 302
    assert GeneratedDocument.objects.get(grid=grid, kind="grille").file

    text = json_logs.getvalue()
    lines = records(json_logs)
    for secret in ("Lemoine", "LEMOINE", "Jeanne", "1998-04-12", "12/04/1998", "12.04.1998",
                   "jeanne@mail.example", token, "claire.gestin", "Gestin",
                   president.user.username, president.user.last_name):
        assert secret not in text, secret
    assert all("request_id" in line and "user_id" in line for line in lines)
    assert any(line["user_id"] == staff.pk and line["request_id"] for line in lines)
    tasks = {line["task_name"] for line in lines if line["task_id"]}
    assert {"candidates.tasks.send_link_email", "evaluations.tasks.render_grid_pdf"} <= tasks
    assert any(line["logger"] == "django.request" and "/lien/avis/<jeton>/" in line["message"]
               for line in lines)
