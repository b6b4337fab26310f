"""Choice labels read fast must say exactly what Django's get_FOO_display says."""

import pytest
from django.utils import translation

from candidates.models import Path, Registration, RegistrationState


@pytest.mark.parametrize(("field", "choices"), [("state", RegistrationState), ("path", Path)])
@pytest.mark.parametrize("language", ["fr", "en"])
def test_registration_labels_are_djangos(field, choices, language):
    model_field = Registration._meta.get_field(field)
    with translation.override(language):
        for value in [*choices.values, "inconnu", ""]:
            registration = Registration(**{field: value})
            fast = getattr(registration, f"get_{field}_display")()
            assert fast == registration._get_FIELD_display(model_field)
            assert type(fast) is str


def test_the_models_keep_the_fast_methods():
    # Django adds get_FOO_display only when the class does not define it.
    assert Registration.get_state_display.__qualname__ == "Registration.get_state_display"
    assert Registration.get_path_display.__qualname__ == "Registration.get_path_display"


@pytest.mark.parametrize("language", ["fr", "en"])
def test_decision_labels_are_djangos(language):
    from evaluations.models import Decision

    field = Decision._meta.get_field("outcome")
    with translation.override(language):
        for value in [*dict(field.choices), "inconnu", ""]:
            decision = Decision(outcome=value, proposed_outcome=value)
            assert decision.get_outcome_display() == decision._get_FIELD_display(field)
            assert type(decision.get_outcome_display()) is str
            # The proposal (a field without choices) is named with the same labels.
            assert decision.get_proposed_outcome_display() == decision.get_outcome_display()
    assert Decision.get_outcome_display.__qualname__ == "Decision.get_outcome_display"
