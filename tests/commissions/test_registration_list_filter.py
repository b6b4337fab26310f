"""The staff candidate list filters by commission (issue 3: filters … commission)."""

import pytest
from django.urls import reverse

from certifications.models import Role
from tests.factories import build_version, make_commission, make_ready, make_registration, member

pytestmark = pytest.mark.django_db


def test_candidate_list_filters_by_the_commission_a_registration_is_scheduled_in(client):
    version = build_version()
    scheduled = make_ready(make_registration(version=version))
    centre = scheduled.centre
    other = make_ready(make_registration(version=version, centre=centre))
    commission = make_commission(centre=centre, certifications=[version.certification],
                                 registrations=[scheduled])
    staff = member(Role.STAFF, centre=centre)
    client.force_login(staff)

    response = client.get(reverse("candidates:registration_list"),
                          {"commission": commission.pk})

    shown = [r.pk for r in response.context["page_obj"]]
    assert shown == [scheduled.pk]
    assert other.pk not in shown
    assert f"Commission du {commission.date:%d/%m/%Y}" in response.content.decode()
    export = client.get(reverse("candidates:registration_export"),
                        {"commission": commission.pk})
    body = b"".join(export.streaming_content).decode("utf-8-sig")
    assert scheduled.reference in body and other.reference not in body
