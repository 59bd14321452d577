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


# --- Organizations and permissions ----------------------------------------------------------

# An organization's name: SWR's rule. A run of separators is one of “.”, “_”, “-”, or “__”.
ORGANIZATION_NAME_RULE = r"^[a-z][a-z0-9]*(?:(?:[._-]|__)[a-z0-9]+)*$"
ORGANIZATION_NAME_MAX_LENGTH = 64
# One path component of a repository name, as the Docker distribution reference grammar has
# it; a name is components joined by “/”, at most 255 characters with its organization.
REPOSITORY_COMPONENT_RULE = r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$"
REPOSITORY_NAME_MAX_LENGTH = 255

# Permission levels: Huawei's codes (`auth`), and what each lets a credential do in a registry.
READ, EDIT, MANAGE = 1, 3, 7
LEVELS = (READ, EDIT, MANAGE)
LEVEL_ACTIONS: dict[int, frozenset[str]] = {
    0: frozenset(),
    READ: frozenset({"pull"}),
    EDIT: frozenset({"pull", "push"}),
    MANAGE: frozenset({"pull", "push", "delete"}),
}
# Members of this group (and superusers) have Manage on every organization of every registry.
REGISTRY_ADMINISTRATORS = "Registry Administrators"

# A long-term credential's access: its owner's permissions, or at most Read (pull) with them.
ACCESS_INHERIT = "inherit"
ACCESS_PULL = "pull"
ACCESSES = (ACCESS_INHERIT, ACCESS_PULL)


def level_label(level: int) -> str:
    """Read, Edit or Manage in the active language; "None" for 0."""
    from django.utils.translation import gettext, pgettext

    return {
        0: pgettext("permission level", "None"),
        READ: gettext("Read"),
        EDIT: gettext("Edit"),
        MANAGE: gettext("Manage"),
    }[level]


def level_choices() -> list[tuple[int, str]]:
    """The levels with their labels in the active language (a model field's choices)."""
    return [(level, level_label(level)) for level in LEVELS]


def access_label(access: str) -> str:
    from django.utils.translation import gettext

    return {
        ACCESS_INHERIT: gettext("Same as my permissions"),
        ACCESS_PULL: gettext("Pull only"),
    }[access]


def access_choices() -> list[tuple[str, str]]:
    return [(access, access_label(access)) for access in ACCESSES]


def narrowed_level(level: int, access: str | None, *, organization_included: bool) -> int:
    """A long-term credential's level where its owner has `level`: 0 in an organization
    outside those it is narrowed to (`organization_included` False), at most Read when its
    access is Pull only. The token service and the console's My Permissions both apply it."""
    if not organization_included:
        return 0
    return min(level, READ) if access == ACCESS_PULL else level


def organization_name_problem(value: str) -> str | None:
    """Why `value` breaks SWR's organization name rule, in the active language; None when it
    is a good name. Checked piece by piece so the message names the rule that failed."""
    from django.utils.translation import gettext

    if not value:
        return gettext("Enter an organization name.")
    if len(value) > ORGANIZATION_NAME_MAX_LENGTH:
        return gettext(
            "The organization name can be at most %(limit)d characters long (it has %(length)d)."
        ) % {"limit": ORGANIZATION_NAME_MAX_LENGTH, "length": len(value)}
    if not value.isascii() or re.search(r"[^a-z0-9._-]", value):
        return (
            _what_is_not_allowed(value)
            + " "
            + gettext(
                "Use only lowercase letters (a–z), digits (0–9), "
                "and the separators “.”, “_” and “-”."
            )
        )
    if not value[0].isalpha():
        return gettext("The organization name must start with a lowercase letter.")
    if value[-1] in "._-":
        return gettext("The organization name must end with a lowercase letter or digit.")
    if "___" in value:
        return gettext("“_” can appear at most twice in a row.")
    if re.search(r"[._-]{2}", value.replace("__", "_")):
        return gettext(
            "Separators (“.”, “_”, “-”) cannot follow one another (only “__” is allowed); "
            "put a letter or digit between them."
        )
    return None


def repository_path_problem(organization: str, path: str) -> str | None:
    """Why `path` (a repository's name inside `organization`: `app`, `team/app`) is not a
    repository name Docker accepts, in the active language; None when it is one."""
    from django.utils.translation import gettext

    if not path:
        return gettext("Enter a repository name.")
    length = len(organization) + 1 + len(path)
    if length > REPOSITORY_NAME_MAX_LENGTH:
        return gettext(
            "A repository name can be at most %(limit)d characters long with its "
            "organization (it has %(length)d)."
        ) % {"limit": REPOSITORY_NAME_MAX_LENGTH, "length": length}
    if not all(re.fullmatch(REPOSITORY_COMPONENT_RULE, part) for part in path.split("/")):
        return gettext(
            "A repository name is made of parts separated by “/”; each part uses lowercase "
            "letters (a–z) and digits (0–9), separated by “.”, “_”, “__” or hyphens, and "
            "starts and ends with a letter or digit."
        )
    return None


def split_repository(name: str) -> tuple[str, str] | None:
    """(`organization`, `path`) of a repository name (`team-a/team/app` → `team-a`,
    `team/app`); None for a name of one segment, which lies outside any organization."""
    organization, _, path = name.partition("/")
    return (organization, path) if organization and path else None
