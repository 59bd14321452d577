"""Secrets never reach the logs, nor the audit trail as a username: log records are redacted
whole (message, extra fields such as Django's request, traceback; gunicorn's error log too) of
every credential-shaped value and of the values of query parameters not known to be harmless;
a failed sign-in or login keeps the username it was attempted with only when that is one."""

from __future__ import annotations

import json
import logging
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote, quote_plus, urlencode

import pytest
from django.conf import settings
from django.test import Client
from gunicorn.config import Config

from credentials.api import signing
from credentials.models import HIDDEN_USERNAME, AuditEvent, Registry, User
from swrconsole.logs import LOGGED_TEXT_MAX, GunicornLogger, redact
from tests.helpers import (
    PASSWORD,
    ask,
    basic,
    every_row_of_every_table,
    iam_body,
    login_failures,
    new_access_key,
    new_credential,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("token_keys")]

SK = "Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4zAb7cDe0f"  # 40 letters and digits
REFRESH = "Zx9_Yw8-Vu7tSr6qPo5nMl4kJi3hGf2eDc1bA0zYx9w"  # 43 URL-safe base64 characters
HEX64 = "3f" * 32
JWT = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJjbi1ub3J0aC00QEFCQyJ9.c2lnbmF0dXJlLWJ5dGVz"
IAM = "eyJ1IjoxLCJwIjoiY24tbm9ydGgtNCJ9:1tXyZa:" + REFRESH  # Django-signed: payload:time:sig


@pytest.mark.parametrize(
    ("text", "hidden"),
    [
        ("docker login -u cn-north-4@ABC -p " + "a" * 64 + " host", "a" * 64),
        ("helm registry login h --username u --password hunter2hunter2", "hunter2hunter2"),
        ("Authorization: Basic dXNlcjpwYXNzd29yZA==", "dXNlcjpwYXNzd29yZA=="),
        ('{"X-Auth-Token": "MIIabcdefgh"}', "MIIabcdefgh"),
        ("password=s3cretvalue", "s3cretvalue"),
        (f"secret key {SK} in a message", SK),
        (f"refresh token {REFRESH} in a message", REFRESH),
        (f"registry password {HEX64}", HEX64),
        (f"Bearer {JWT}", JWT),
        (f"a token {JWT} alone", JWT),
        (f"X-Subject-Token: {IAM}", IAM),
        (f"an IAM token {IAM} alone", IAM.split(":")[0]),
        ("Cookie: sessionid=abc.def:1tXyZa:ghi; csrftoken=jklmnopq", "jklmnopq"),
        ("GET /service/token?service=s&password=hunter2 HTTP/1.1", "hunter2"),
        ("<WSGIRequest: GET '/x/?account=a&api_key=k3y&next=%2Fy'>", "k3y"),
        (f"GET /search?q={SK}&page=2", SK),
        ('{"signature": "0a1b2c3d"}', "0a1b2c3d"),
    ],
)
def test_log_redaction_masks_credential_shaped_text(text: str, hidden: str) -> None:
    assert hidden not in redact(text)
    assert "[redacted]" in redact(text)


@pytest.mark.parametrize(
    "text",
    [
        "long-term credential created: 0b9f5a4e-7d1c-4c51-9a43-7c2b8f3e6d10",
        "GET /registries/0b9f5a4e-7d1c-4c51-9a43-7c2b8f3e6d10/access-credentials/long-term/",
        "registry login failed for cn-north-4@ABCDEFGHIJ0123456789",
        "access key ABCDEFGHIJ0123456789 disabled",
        "GET /service/token?service=swr.cn-north-4.myhuaweicloud.com&scope=repository:a/b:pull",
        "GET /admin/credentials/auditevent/?action__exact=console.sign_in&o=-1&p=2",
    ],
)
def test_log_redaction_keeps_what_is_no_secret(text: str) -> None:
    assert redact(text) == text


def log_text() -> str:
    return Path(settings.LOG_FILE).read_text(errors="replace")


@pytest.fixture
def every_secret(owner: User, registry: Registry) -> dict[str, str]:
    """One secret of each kind the console hands out, each obtained the way a client gets it."""
    cred, password = new_credential(owner, registry, "ci")
    client = Client()
    offline = {"service": registry.address, "offline_token": "true", "client_id": "docker"}
    token = client.get(
        "/service/token", offline, headers={"Authorization": basic(cred.username, password)}
    ).json()
    iam = client.post("/v3/auth/tokens", iam_body(), content_type="application/json")
    return {
        "registry password": password,
        "registry token (JWT)": token["token"],
        "refresh token": token["refresh_token"],
        "secret key": new_access_key(owner)[1],
        "IAM token": iam["X-Subject-Token"],
    }


def assert_nowhere_in_the_log(secrets: dict[str, str]) -> None:
    logs = log_text()
    for kind, secret in secrets.items():
        for form in (secret, quote_plus(secret), quote(secret)):
            assert form not in logs, f"the {kind} reached the log file"


# Values built to make a pattern try every start or backtrack into every run: each took
# minutes per megabyte before (the fuzz test's 1 MB query timed out in the log filter).
HOSTILE_MEGABYTE = {
    "one run": "x" * 1_000_000,
    "runs split by dashes": "a-" * 500_000,
    "dashes and eyJ": "-eyJ" * 250_000,
    "colons": "x:" * 500_000,
    "a secret name repeated": "password-" * 110_000,
    "question marks": "?" * 1_000_000,
}


@pytest.mark.parametrize("text", HOSTILE_MEGABYTE.values(), ids=HOSTILE_MEGABYTE.keys())
def test_redacting_a_hostile_megabyte_costs_a_fraction_of_a_second(text: str) -> None:
    started = time.process_time()
    redact(text)
    redact(f"GET /service/token?service={text}")
    assert time.process_time() - started < 1.0


def test_a_value_past_the_longest_logged_is_cut_without_half_a_secret() -> None:
    secret = "f" * 64
    text = "x" * (LOGGED_TEXT_MAX - 10) + " " + secret + " tail"
    shown = redact(text)
    assert len(shown) < LOGGED_TEXT_MAX + 40
    assert "fffff" not in shown
    assert "tail" not in shown
    assert shown.endswith(f"…[{len(text) - LOGGED_TEXT_MAX} more characters]")


def test_secrets_in_a_query_string_never_reach_the_log_file(
    every_secret: dict[str, str], registry: Registry
) -> None:
    client = Client()
    # Under names that carry secrets: masked by name (the console's password has no shape).
    query = {"service": registry.address, "password": PASSWORD, "refresh_token": "x"}
    query |= {f"x{i}": secret for i, secret in enumerate(every_secret.values())}
    assert client.get(f"/service/token?{urlencode(query)}").status_code == 401
    # Under names whose values a log line keeps: masked by their shape.
    marker = uuid.uuid4().hex
    names = ["q", "scope", "page", "sort", "status"]
    shaped = dict(zip(names, every_secret.values(), strict=True))
    assert client.get(f"/no-such-page-{marker}/?{urlencode(shaped)}").status_code == 404

    assert_nowhere_in_the_log({**every_secret, "console password": PASSWORD})
    lines = [json.loads(line) for line in log_text().splitlines() if line.startswith("{")]
    refused = [line for line in lines if line.get("message") == "Unauthorized: /service/token"]
    assert refused[-1]["request"].startswith(
        f"GET /service/token?service={registry.address}&password=[redacted]&refresh_token="
    )
    missing = [line for line in lines if marker in line.get("message", "")]
    assert missing[-1]["request"] == (
        f"GET /no-such-page-{marker}/?" + "&".join(f"{name}=[redacted]" for name in names)
    )


def test_a_traceback_in_the_log_file_is_redacted(every_secret: dict[str, str]) -> None:
    marker = uuid.uuid4().hex
    try:
        raise ValueError(f"the upstream answered {every_secret}")
    except ValueError:
        logging.getLogger("credentials.upstream").exception("upstream call failed %s", marker)
    assert marker in log_text()
    assert "the upstream answered" in log_text()
    assert_nowhere_in_the_log(every_secret)


def test_gunicorns_error_log_is_redacted(tmp_path: Path) -> None:
    config = Config()
    config.set("errorlog", str(tmp_path / "error.log"))
    logger = GunicornLogger(config)
    try:
        logger.error("Error handling request %s", f"/service/token?refresh_token={REFRESH}")
    finally:
        for handler in logger.error_log.handlers:
            handler.close()
    written = (tmp_path / "error.log").read_text()
    assert "Error handling request /service/token?refresh_token=[redacted]" in written
    assert REFRESH not in written


# --- A password typed as a username is not kept in the audit trail -------------------------


def test_a_registry_login_keeps_only_a_username_in_the_shape_of_one(
    owner: User, registry: Registry
) -> None:
    cred, password = new_credential(owner, registry, "ci")
    client = Client()
    stranger = "cn-north-4@NOSUCHUSERNAME000000"
    for username in (password, stranger, cred.username):
        assert ask(client, basic(username, "wrong"), registry.address).status_code == 401
    kept = list(login_failures().order_by("id").values_list("credential_username", flat=True))
    assert kept == [HIDDEN_USERNAME, stranger, cred.username]
    assert password not in every_row_of_every_table()


def test_a_console_sign_in_keeps_only_an_accounts_username(owner: User) -> None:
    client = Client()
    for username in (PASSWORD, "nobody", owner.username):
        assert (
            client.post("/accounts/login/", {"username": username, "password": "x"}).status_code
            == 200
        )
    failed = AuditEvent.objects.filter(action=AuditEvent.Action.SIGN_IN_FAILED).order_by("id")
    assert list(failed.values_list("actor_username", flat=True)) == [
        HIDDEN_USERNAME,
        HIDDEN_USERNAME,
        owner.username,
    ]
    assert PASSWORD not in repr(list(AuditEvent.objects.values()))


def test_an_iam_sign_in_keeps_only_an_accounts_username(owner: User) -> None:
    refused = Client().post(
        "/v3/auth/tokens",
        iam_body(username=PASSWORD, password="x"),
        content_type="application/json",
    )
    assert refused.status_code == 401
    event = AuditEvent.objects.get(action=AuditEvent.Action.SIGN_IN_FAILED)
    assert event.actor_username == HIDDEN_USERNAME
    assert PASSWORD not in every_row_of_every_table()


@pytest.mark.parametrize("sent_as_access_key", ["secret key", "unknown access key id"])
def test_a_signed_request_keeps_only_an_access_key_id_in_its_shape(
    owner: User, registry: Registry, sent_as_access_key: str
) -> None:
    _, secret_key = new_access_key(owner)
    access = secret_key if sent_as_access_key == "secret key" else "NOSUCHACCESSKEY00000"
    moment = datetime.now(UTC).strftime(signing.DATE_FORMAT)
    authorization = (
        f"SDK-HMAC-SHA256 Access={access}, SignedHeaders=host;x-sdk-date, Signature={'0' * 64}"
    )
    response = Client().post(
        "/v2/manage/utils/secret",
        content_type="application/json",
        headers={"Authorization": authorization, "X-Sdk-Date": moment},
    )
    assert response.status_code == 401, response.content
    event = AuditEvent.objects.get(action=AuditEvent.Action.API_REQUEST_REFUSED)
    shown = HIDDEN_USERNAME if sent_as_access_key == "secret key" else access
    assert (event.actor_username, event.credential_username) == (shown, shown)
    assert secret_key not in repr(list(AuditEvent.objects.values()))
