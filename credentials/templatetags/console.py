"""Template helpers shared by the console's pages."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from django import template
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext

from credentials.rules import ACCESS_PULL, level_label
from credentials.timestamps import shown, utc_iso

if TYPE_CHECKING:
    from credentials.models import LongTermCredential

register = template.Library()


@register.filter
def timestamp(value: datetime | None) -> str:
    """A moment as the one format the console shows (timestamps.shown), in a <time>
    element whose machine-readable value is ISO-8601 UTC."""
    if not value:
        return ""
    return format_html('<time datetime="{}">{}</time>', utc_iso(value), shown(value))


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


@register.filter
def level_name(level: int) -> str:
    """Read, Edit or Manage (credentials.rules.level_label), in the active language."""
    return level_label(level)


@register.filter
def narrowing(credential: LongTermCredential) -> str:
    """What a long-term credential may reach, in short: "Same as mine · All organizations",
    "Pull only · team-a, team-b" (its organizations prefetched, or one query)."""
    access = gettext("Pull only") if credential.access == ACCESS_PULL else gettext("Same as mine")
    if credential.all_organizations:
        where = gettext("All organizations")
    else:
        names = sorted(org.name for org in credential.organizations.all())
        where = gettext(", ").join(names) if names else gettext("No organization")
    return f"{access} · {where}"
