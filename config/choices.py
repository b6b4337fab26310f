"""Labels of model choices, read fast (no business code here)."""


def label_of(choices, value):
    """The label of ``value`` in ``choices`` (a TextChoices), the value itself when unknown:
    what Django's ``get_FOO_display`` returns. Django's rebuilds a dict of every choice on each
    call (≈ 40 µs); the list of candidates and the jury's session page call it per row."""
    try:
        return str(choices(value).label)
    except ValueError:
        return value
