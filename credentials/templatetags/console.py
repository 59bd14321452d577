"""Template helpers shared by the console's pages."""

from __future__ import annotations

from datetime import UTC, datetime

from django import template
from django.utils import formats, timezone
from django.utils.html import format_html, format_html_join

register = template.Library()


@register.filter
def timestamp(value: datetime | None) -> str:
    """A moment as the one format the console shows (swrconsole/formats/), in a <time>
    element whose machine-readable value is ISO-8601 UTC."""
    if not value:
        return ""
    shown = formats.date_format(timezone.localtime(value), "DATETIME_FORMAT")
    iso = value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return format_html('<time datetime="{}">{}</time>', iso, shown)


# Arguments longer than this (a password) may break anywhere; shorter ones never break.
LONG_ARGUMENT = 40


@register.filter
def command_args(command: str) -> str:
    """A shell command whose lines wrap between its arguments (a narrow screen breaks
    `cn-north-4@…` at its hyphens otherwise). The text, and so what Copy copies, is unchanged."""
    return format_html_join(
        " ",
        '<span class="{}">{}</span>',
        (("arg long" if len(arg) > LONG_ARGUMENT else "arg", arg) for arg in command.split(" ")),
    )
