"""The lifecycle's settings from the environment: mail through EMAIL_URL (none configured:
the console backend, so `make run` needs no mail server) and the policies, refused clearly
when malformed."""

from __future__ import annotations

import subprocess

import pytest

from tests.helpers import settings_import

SHOW = (
    "import django; django.setup(); from django.conf import settings as s; "
    "print(s.EMAIL_BACKEND, s.EMAIL_HOST, s.EMAIL_PORT, s.DEFAULT_FROM_EMAIL, "
    "s.LONG_TERM_MAX_DAYS, s.EXPIRY_REMINDER_DAYS, s.ROTATION_GRACE_HOURS, "
    "s.DISABLE_UNUSED_AFTER_DAYS, sep='|')"
)


def start(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return settings_import({"DEBUG": "true"} | env, code=SHOW)


def test_without_mail_settings_mails_go_to_the_console_and_the_defaults_hold() -> None:
    result = start({})
    assert result.returncode == 0, result.stderr
    backend, _, _, sender, cap, days, grace, stale = result.stdout.strip().split("|")
    assert backend == "django.core.mail.backends.console.EmailBackend"
    assert sender == "SWR Console <noreply@localhost>"
    assert (cap, days, grace, stale) == ("None", "[14, 7, 1]", "24", "None")


def test_email_url_and_the_policies_are_read_from_the_environment() -> None:
    result = start(
        {
            "EMAIL_URL": "smtp+tls://user:secret@mail.example.test:587",
            "DEFAULT_FROM_EMAIL": "Registry <registry@example.test>",
            "LONG_TERM_MAX_DAYS": "90",
            "EXPIRY_REMINDER_DAYS": "3,30,10",
            "ROTATION_GRACE_HOURS": "0",
            "DISABLE_UNUSED_AFTER_DAYS": "180",
        }
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().split("|") == [
        "django.core.mail.backends.smtp.EmailBackend",
        "mail.example.test",
        "587",
        "Registry <registry@example.test>",
        "90",
        "[30, 10, 3]",
        "0",
        "180",
    ]


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"LONG_TERM_MAX_DAYS": "0"}, "LONG_TERM_MAX_DAYS must be a whole number of days"),
        ({"LONG_TERM_MAX_DAYS": "ninety"}, "LONG_TERM_MAX_DAYS must be a whole number of days"),
        ({"DISABLE_UNUSED_AFTER_DAYS": "-5"}, "DISABLE_UNUSED_AFTER_DAYS must be a whole"),
        ({"EXPIRY_REMINDER_DAYS": "14,a week"}, "EXPIRY_REMINDER_DAYS: whole numbers of days"),
        ({"EXPIRY_REMINDER_DAYS": "7,0"}, "EXPIRY_REMINDER_DAYS: each day must be 1 or more"),
        ({"ROTATION_GRACE_HOURS": "-1"}, "ROTATION_GRACE_HOURS must be 0 or more"),
    ],
)
def test_a_malformed_policy_stops_start_up_with_its_name(env: dict[str, str], message: str) -> None:
    result = start(env)
    assert result.returncode != 0
    assert message in result.stderr
