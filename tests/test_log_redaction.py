"""Log lines are redacted of anything shaped like a credential."""

from __future__ import annotations

import pytest

from swrconsole.logs import redact


@pytest.mark.parametrize(
    ("text", "hidden"),
    [
        ("docker login -u cn-north-4@ABC -p " + "a" * 64 + " host", "a" * 64),
        ("helm registry login h --username u --password hunter2hunter2", "hunter2hunter2"),
        ("Authorization: Basic dXNlcjpwYXNzd29yZA==", "dXNlcjpwYXNzd29yZA=="),
        ('{"X-Auth-Token": "MIIabcdefgh"}', "MIIabcdefgh"),
        ("password=s3cretvalue", "s3cretvalue"),
    ],
)
def test_log_redaction_masks_credential_shaped_text(text: str, hidden: str) -> None:
    assert hidden not in redact(text)
    assert "[redacted]" in redact(text)
