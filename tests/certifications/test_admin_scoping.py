"""The shared admin mixin: what it writes by hand must be exactly what Django would render."""

import pytest
from django.contrib import admin

from certifications.admin_scoping import CentreScopedAdminMixin
from tests.factories import CandidateFactory

pytestmark = pytest.mark.django_db


def scoped_admins():
    return [model_admin for model_admin in admin.site._registry.values()
            if isinstance(model_admin, CentreScopedAdminMixin)]


def test_every_centre_scoped_admin_uses_the_direct_checkbox():
    assert len(scoped_admins()) >= 10
    for model_admin in scoped_admins():
        assert type(model_admin).action_checkbox is CentreScopedAdminMixin.action_checkbox


@pytest.mark.parametrize("last_name", ["Martin", "O'Brien & <Fils> \"Père\""])
def test_action_checkbox_is_the_widget_markup(last_name):
    candidate = CandidateFactory(birth_name=last_name)
    model_admin = admin.site._registry[type(candidate)]
    written = model_admin.action_checkbox(candidate)
    rendered = admin.ModelAdmin.action_checkbox(model_admin, candidate)
    assert written == rendered
    assert 'name="_selected_action"' in written and f'value="{candidate.pk}"' in written
    assert "<Fils>" not in written  # escaped once, as the widget does

