"""Runs last (see tests/conftest.py): after the browser suite, the logs hold no secret."""

from __future__ import annotations

import pytest

from tests.helpers import SEEN_SECRETS
from tests.servers import ARTIFACTS


def test_no_secret_reached_the_logs() -> None:
    if not SEEN_SECRETS:
        pytest.skip("run it with the browser tests, which record the passwords they were shown")
    files = [ARTIFACTS / "console.log", *sorted(ARTIFACTS.glob("gunicorn-*.log"))]
    logs = "\n".join(path.read_text(errors="replace") for path in files if path.exists())
    assert "long-term credential created" in logs, "the console's own log lines should be there"
    assert '"gunicorn.access"' in logs, "gunicorn's access log should be there"
    for secret in SEEN_SECRETS:
        assert secret not in logs
    for marker in (
        "Authorization:",
        "X-Auth-Token:",
        "X-Subject-Token:",
        "csrftoken=",
        "sessionid=",
    ):
        assert marker not in logs
