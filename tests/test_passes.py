"""`make test`'s two passes share out what does not depend on the database (tests/passes.py):
together they still run every test and every variant, each exactly once, and each pass runs
every browser flow in both languages."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import defaultdict
from functools import cache

import pytest

from tests.helpers import ROOT

pytestmark = pytest.mark.database_independent(reason="reads the suite's collection")

SHARED = ["tests/browser", "tests/test_make_run.py", "tests/test_architecture.py"]


@cache
def collected(share: str) -> set[str]:
    environment = {**os.environ, "SWR_TEST_SHARE": share}
    if share == "sqlite":
        environment["DATABASE_URL"] = "sqlite:///:memory:"
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--collect-only", "-q", *SHARED],
        cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    return {line for line in result.stdout.splitlines() if "::" in line}


def test_the_two_passes_together_run_every_shared_test_exactly_once() -> None:
    postgresql, sqlite, alone = collected("postgresql"), collected("sqlite"), collected("")

    assert postgresql | sqlite == alone
    in_both = postgresql & sqlite
    assert in_both, "the browser flows without variants run in both passes"
    assert all("/browser/" in test and "[" not in test for test in in_both), in_both
    assert not {test for test in sqlite if "test_make_run" in test or "test_architecture" in test}


def test_each_pass_runs_each_browser_flow_in_both_languages() -> None:
    for share in ("postgresql", "sqlite"):
        languages: dict[str, set[str]] = defaultdict(set)
        for test in collected(share):
            if "[" in test and "/browser/" in test:
                name, variant = test.rstrip("]").split("[")
                languages[name].add(variant.split("-")[0])
        assert languages, f"no browser variant in the {share} pass"
        assert all(found == {"en", "zh"} for found in languages.values()), (share, languages)


def test_an_unknown_share_is_refused() -> None:
    environment = {**os.environ, "SWR_TEST_SHARE": "oracle"}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--collect-only", "-q",
         "tests/test_architecture.py"],
        cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode != 0
    assert "SWR_TEST_SHARE takes postgresql or sqlite" in result.stdout + result.stderr
