"""SWR's rules, written once: the credential name rule and its messages, the validities, the
limits. Pure (no Django at import time): the domain and every entry point (console forms,
Huawei's API, the upstream client) import it, and it imports nothing of the project."""

from __future__ import annotations

import re
from datetime import timedelta

# A credential's name: SWR's rule.
NAME_RULE = r"^[a-z0-9]+(?:[._-][a-z0-9]+)*$"
NAME_MAX_LENGTH = 64
_ALLOWED = re.compile(r"[a-z0-9._-]")

# A temporary login (SWR's CreateSecret) and a built-in IAM token are valid this long.
TEMPORARY_VALIDITY = timedelta(hours=24)

# The validities the create dialog offers besides Never and a date (SWR's console has none;
# these are the usual ones of peers' token dialogs).
VALIDITY_DAYS = (30, 90, 180, 365)


def name_problem(value: str) -> str | None:
    """Why `value` breaks SWR's name rule, in the active language; None when it is a good name.
    Checked piece by piece so the message names the rule that failed."""
    from django.utils.translation import gettext  # the active language, read when asked

    if len(value) > NAME_MAX_LENGTH:
        return gettext("The name can be at most %(limit)d characters long (it has %(length)d).") % {
            "limit": NAME_MAX_LENGTH,
            "length": len(value),
        }
    if not value.isascii() or re.search(r"[^a-z0-9._-]", value):
        return (
            _what_is_not_allowed(value)
            + " "
            + gettext(
                "Use only lowercase letters (a–z), digits (0–9), "
                "and the separators “.”, “_” and “-”."
            )
        )
    if value[0] in "._-" or value[-1] in "._-":
        return gettext("The name must start and end with a lowercase letter or digit.")
    if re.search(r"[._-]{2}", value):
        return gettext(
            "Separators (“.”, “_”, “-”) cannot follow one another; put a letter or digit "
            "between them."
        )
    return None


def _what_is_not_allowed(value: str) -> str:
    """Every character the rule refuses, each once: capitals, then spaces, then the others,
    each group in the order they first appear ("Bad Name!": “B”, “N”, a space, “!”)."""
    from django.utils.translation import gettext

    refused = dict.fromkeys(char for char in value if not _ALLOWED.fullmatch(char))
    refused = sorted(refused, key=lambda char: 0 if char.isupper() else 1 if char == " " else 2)
    return gettext("The name contains %(characters)s.") % {
        "characters": gettext(", ").join(_shown(char) for char in refused)
    }


def _shown(char: str) -> str:
    from django.utils.translation import gettext

    if char == " ":
        return gettext("a space")
    if not char.isprintable():  # a tab, a line break, a no-break space…
        return f"U+{ord(char):04X}"
    return f"“{char}”"
