"""Form widgets shared by the apps (no business code here)."""

from html import escape as _html_escape

from django import forms
from django.utils.safestring import mark_safe


def _escape(value) -> str:
    """Django's ``conditional_escape`` without its lazy-string machinery: safe strings as
    they are, anything else escaped as ``django.utils.html.escape`` does."""
    if hasattr(value, "__html__"):
        return value.__html__()
    return _html_escape(str(value))


class FastSelect(forms.Select):
    """A ``<select>`` rendered in Python. Django renders each option through a template
    (~30 µs each): a list filter offering a few hundred commissions spent 60 ms per page on
    its options (issue 7 bench). Even Django's option dictionaries (``optgroups``) and its
    ``format_html`` per option cost ≈ 8 ms for the candidate list's filters at N=20, so the
    options are written straight from ``choices``, with the same rules: the value's text
    (None as ""), the first matching option only selected, groups as ``<optgroup>``. Same
    markup, attributes and escaping as ``forms.Select``."""

    def render(self, name, value, attrs=None, renderer=None):
        wanted = set(self.format_value(value))
        selected = False

        def option(option_value, label) -> str:
            nonlocal selected
            text = "" if option_value is None else str(option_value)
            chosen = not selected and text in wanted
            selected = selected or chosen
            return (f'<option value="{_escape(text)}"{" selected" if chosen else ""}>'
                    f"{_escape(label)}</option>")

        parts = []
        for option_value, label in self.choices:
            if isinstance(label, (list, tuple)):
                inner = "".join(option(sub_value, sub_label) for sub_value, sub_label in label)
                parts.append(f'<optgroup label="{_escape(option_value)}">{inner}</optgroup>')
            else:
                parts.append(option(option_value, label))
        attributes = "".join(
            f" {_escape(key)}" if item is True else f' {_escape(key)}="{_escape(item)}"'
            for key, item in self.build_attrs(self.attrs, attrs).items() if item is not False)
        # Every piece above is escaped text or fixed markup.
        return mark_safe(f'<select name="{_escape(name)}"{attributes}>'  # noqa: S308
                         f'{"".join(parts)}</select>')
