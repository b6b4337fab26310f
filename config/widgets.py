"""Form widgets shared by the apps (no business code here)."""

from django import forms
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe


class FastSelect(forms.Select):
    """A ``<select>`` rendered in Python. Django renders each option through a template
    (~30 µs each): a list filter offering a few hundred commissions spent 60 ms per page on
    its options (issue 7 bench). Same markup, attributes and escaping as ``forms.Select``."""

    def render(self, name, value, attrs=None, renderer=None):
        widget = self.get_context(name, value, attrs)["widget"]
        parts = []
        for group_name, options, _index in widget["optgroups"]:
            html = format_html_join("", '<option value="{}"{}>{}</option>', (
                (option["value"], mark_safe(" selected") if option["selected"] else "",
                 option["label"]) for option in options))
            parts.append(format_html('<optgroup label="{}">{}</optgroup>', group_name, html)
                         if group_name else html)
        attributes = format_html_join("", "{}{}", (
            (format_html(" {}", key), "" if value is True else format_html('="{}"', value))
            for key, value in widget["attrs"].items() if value is not False))
        return format_html('<select name="{}"{}>{}</select>', widget["name"], attributes,
                           mark_safe("".join(parts)))  # noqa: S308 - parts built by format_html
