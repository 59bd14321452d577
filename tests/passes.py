"""What each of `make test`'s two passes runs when both run (scripts/test.sh sets
SWR_TEST_SHARE to the pass's database then; a pass run alone runs everything it can).

- A test marked `database_independent` starts its own servers and database, or none (`make
  run` on its own SQLite, Redis failures, the settings): the suite's database is not its
  subject, so it runs once, in the PostgreSQL pass.
- A test marked `split_across_passes` has variants that differ in language and width, never in
  database (the browser flows): each pass runs half of them and the two passes together run
  every one. Within each language the widths alternate, the second language starting where the
  first did not, so each pass sees both languages and both a narrow and a wide page.

README.md ("Both databases") lists both kinds."""

from __future__ import annotations

import os
from collections import defaultdict

import pytest

SHARES = ("postgresql", "sqlite")


def share() -> str | None:
    """The pass this run is, when `make test` runs both; None when it runs one alone."""
    value = os.environ.get("SWR_TEST_SHARE", "")
    if value and value not in SHARES:
        raise pytest.UsageError(f"SWR_TEST_SHARE takes {' or '.join(SHARES)}, not {value!r}.")
    return value or None


def split(items: list[pytest.Item], share: str) -> list[pytest.Item]:
    """The items this pass leaves to the other one."""
    left: list[pytest.Item] = []
    variants: dict[tuple[str, str], list[pytest.Item]] = defaultdict(list)
    for item in items:
        if item.get_closest_marker("database_independent") is not None:
            if share != "postgresql":
                left.append(item)
        elif item.get_closest_marker("split_across_passes") is not None:
            variants[(item.path.as_posix(), item.originalname)].append(item)
    for group in variants.values():
        left.extend(item for item in group if _pass_of(item, group) != share)
    return left


def _pass_of(item: pytest.Item, group: list[pytest.Item]) -> str:
    languages = sorted({_language(other) for other in group})
    same_language = sorted(
        _variant(other) for other in group if _language(other) == _language(item)
    )
    turn = same_language.index(_variant(item)) + languages.index(_language(item))
    return SHARES[turn % 2]


def _variant(item: pytest.Item) -> str:
    callspec = getattr(item, "callspec", None)
    if callspec is None:
        raise pytest.UsageError(f"{item.nodeid} is marked split_across_passes but has no variants.")
    return callspec.id


def _language(item: pytest.Item) -> str:
    return _variant(item).split("-")[0]
