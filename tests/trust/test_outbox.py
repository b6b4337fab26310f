"""Broker down while a grid is locked or a jury decides (issue 8): the user's action succeeds,
the document work stays recorded in the database (the document row without its file), and the
periodic sweep sends it again once the broker is back — each PDF produced exactly once.
Here the broker is a port where nothing listens; tests/trust/test_faults_services.py does the
same with a real redis-server stopped and restarted and a real worker."""

import pytest
from django.conf import settings
from django.urls import reverse

from evaluations.models import GeneratedDocument, GridEvent
from evaluations.tasks import requeue_pending_work
from tests.evaluations.conftest import PASSWORD, sign
from tests.trust.faults import broker, dead_broker_url

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _media(media_root):
    return media_root


def grace_over(settings):
    """Time has passed beyond the sweep's grace period (the normal path had its chance)."""
    settings.OUTBOX = {**settings.OUTBOX, "GRACE_SECONDS": 0}


def test_a_grid_locks_with_the_broker_down_and_its_pdf_comes_once_it_is_back(
        client, settings, to_sign, president_member, assessor_member):
    sign(to_sign, president_member)
    client.force_login(assessor_member.evaluator.user)
    with broker(dead_broker_url()):
        response = client.post(reverse("grids:sign", args=[to_sign.pk]),
                               {"password": PASSWORD, "consent": "on"})
    # The member's signature is recorded and the grid locked: the action succeeded.
    assert response.status_code in (200, 302), response.content[:500]
    to_sign.refresh_from_db()
    assert to_sign.is_locked
    document = GeneratedDocument.objects.get(grid=to_sign, kind=GeneratedDocument.Kind.GRID)
    assert not document.file  # recorded, waiting for a worker

    # Within the grace period the sweep leaves it alone (the normal path may still run).
    assert requeue_pending_work()["documents"] == 0
    grace_over(settings)
    # The broker is back (eager here): the sweep sends it; sweeping again sends nothing.
    assert requeue_pending_work()["documents"] == 1
    assert requeue_pending_work()["documents"] == 0
    document.refresh_from_db()
    assert document.file
    with document.file.open("rb") as stream:
        assert stream.read(5) == b"%PDF-"
    assert GridEvent.objects.filter(grid=to_sign, action=GridEvent.Action.DOCUMENT).count() == 1


def test_a_jury_decides_with_the_broker_down_and_every_document_comes_once(
        client, settings, jury_open, jury_members, mailoutbox):
    from evaluations import deliberation

    before = len(mailoutbox)  # the convocations of the session
    with broker(dead_broker_url()):
        deliberation.sign_minutes(session=jury_open, actor=jury_members["president"].user,
                                  password=PASSWORD, ip="192.0.2.20")
    documents = GeneratedDocument.objects.filter(session=jury_open)
    assert documents.exists()
    assert not documents.exclude(file="").exists()
    assert len(mailoutbox) == before

    grace_over(settings)
    sent = requeue_pending_work()
    assert sent["documents"] == documents.count()
    assert not documents.filter(file="").exists()
    # Rendered during the sweep (eagerly here), the letters were then e-mailed: once each.
    assert sent["results"] == 2
    assert len(mailoutbox) == before + 2
    assert requeue_pending_work() == {"documents": 0, "results": 0, "exports": 0}
    assert len(mailoutbox) == before + 2


def test_beat_runs_the_sweep_periodically():
    schedule = settings.CELERY_BEAT_SCHEDULE["outbox-sweep"]
    assert schedule["task"] == "evaluations.tasks.requeue_pending_work"
    assert schedule["schedule"] <= 600
