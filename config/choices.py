"""Labels of model choices, read fast (no business code here)."""


def label_of(choices, value):
    """The label of ``value`` in ``choices`` (a TextChoices, or a dict of value to label), the
    value itself when unknown: what Django's ``get_FOO_display`` returns. Django's rebuilds a
    dict of every choice on each call (≈ 40 µs); the list of candidates, the jury's session
    page and the admin lists call it per row."""
    if isinstance(choices, dict):
        label = choices.get(value)
        return value if label is None else str(label)
    try:
        return str(choices(value).label)
    except ValueError:
        return value
