"""Hostile input to the token service and the built-in API; accounts whose state changes
(issue 14, findings 7, 10, 11, 12 and 13)."""

from __future__ import annotations

import contextlib
import json
import os
import statistics
import time
from collections import deque
from collections.abc import Iterator

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from credentials.models import (
    AuditEvent,
    LongTermCredential,
    Registry,
    TemporaryCredential,
    User,
)
from credentials.registry import attempts
from credentials.registry import principals as registry_auth
from tests.helpers import (
    PASSWORD,
    ask,
    basic,
    client_for,
    iam_body,
    mint_temporary,
    new_credential,
    oauth_post,
    password_grant,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("token_keys")]


def get_token(client: Client):
    return client.post("/v3/auth/tokens", iam_body(), content_type="application/json")


def swr_error(response, status: int, code: str) -> None:
    assert response.status_code == status
    assert response.json()["error_code"] == f"SVCSTG.SWR.{code}"


def secret(client: Client, token: str, project: str | None = None):
    query = f"?projectname={project}" if project is not None else ""
    return client.post(
        f"/v2/manage/utils/secret{query}",
        content_type="application/json",
        headers={"X-Auth-Token": token},
    )


# --- Finding 11: NUL bytes and deep JSON are refused, never a 500 ---------------------


@pytest.mark.parametrize(
    ("username", "service", "status"),
    [
        # In the credentials: a failed login like any other, the token service's one 401.
        ("cn-north-4@AB\x00CD", "swr.cn-north-4.myhuaweicloud.com", 401),
        ("\x00", "swr.cn-north-4.myhuaweicloud.com", 401),
        # In the query: refused before any view (RefuseNulBytesMiddleware).
        ("cn-north-4@ABCD", "swr.cn-north-4\x00.example", 400),
    ],
)
def test_a_nul_byte_in_a_registry_login_is_refused_not_a_500(
    registry: Registry, username: str, service: str, status: int
) -> None:
    client = Client(raise_request_exception=False)
    response = ask(client, basic(username, "pass\x00word"), service)
    assert response.status_code == status
    if status == 401:
        assert response.json() == {
            "errors": [{"code": "UNAUTHORIZED", "message": "authentication required"}]
        }


@pytest.mark.parametrize(
    "user",
    [
        {"domain": {"name": "acme"}, "name": "ali\x00ce", "password": PASSWORD},
        {"domain": {"name": "ac\x00me"}, "name": "alice", "password": PASSWORD},
        {"domain": {"name": "acme"}, "name": "alice", "password": "x\x00"},
    ],
)
def test_a_nul_byte_in_an_iam_body_is_a_400(owner: User, user: dict) -> None:
    body = iam_body()
    body["auth"]["identity"]["password"]["user"] = user
    client = Client(raise_request_exception=False)
    response = client.post("/v3/auth/tokens", body, content_type="application/json")
    swr_error(response, 400, "4001036")


def test_json_nested_ten_thousand_deep_is_a_400(db: None) -> None:
    client = Client(raise_request_exception=False)
    body = '{"auth": ' * 10_000 + "{}" + "}" * 10_000
    response = client.post("/v3/auth/tokens", body, content_type="application/json")
    swr_error(response, 400, "4001036")


def test_a_nul_byte_in_projectname_or_a_form_is_a_400(owner: User, registry: Registry) -> None:
    token = get_token(Client())["X-Subject-Token"]
    client = Client(raise_request_exception=False)
    assert secret(client, token, project="cn-north-4\x00").status_code == 400
    signed_in = client_for(owner)
    signed_in.raise_request_exception = False
    url = reverse("create_long_term", args=[registry.public_id])
    assert signed_in.post(url, {"name": "ci\x00bot"}).status_code == 400
    assert (
        client.post("/accounts/login/", {"username": "ali\x00ce", "password": "x"}).status_code
        == 400
    )
    assert LongTermCredential.objects.count() == 0
    assert TemporaryCredential.objects.count() == 0


def test_a_nul_byte_in_a_user_agent_is_stored_replaced(db: None) -> None:
    client = Client(HTTP_USER_AGENT="curl\x00/8", raise_request_exception=False)
    assert (
        client.post("/accounts/login/", {"username": "nobody", "password": "x"}).status_code == 200
    )
    event = AuditEvent.objects.get(action="console.sign_in_failed")
    assert event.user_agent == "curl\ufffd/8"


# --- Finding 10: the built-in SWR API keeps the limit and the token's project -----------


def test_the_built_in_api_refuses_a_project_other_than_the_tokens(
    owner: User, registry: Registry
) -> None:
    client = Client()
    token = get_token(client)["X-Subject-Token"]
    swr_error(secret(client, token, project="someone-elses-project"), 403, "4030170")
    assert secret(client, token, project="cn-north-4").status_code == 200
    assert TemporaryCredential.objects.count() == 1


def test_the_built_in_api_honours_the_per_user_generation_limit(
    owner: User, registry: Registry, settings
) -> None:
    settings.TEMPORARY_CREDENTIALS_PER_MINUTE = 2
    client = Client()
    token = get_token(client)["X-Subject-Token"]
    assert [secret(client, token).status_code for _ in range(2)] == [200, 200]
    swr_error(secret(client, token), 403, "4031042")
    assert TemporaryCredential.objects.count() == 2
    # One counter with the console's Generate.
    generate = client_for(owner).post(
        reverse("generate_temporary", args=[registry.public_id]), {"kind": "image"}
    )
    assert generate.status_code == 429


# --- Finding 12: a known and an unknown username cost the same ------------------------


def test_known_and_unknown_usernames_cost_the_same_queries_and_one_digest_compare(
    owner: User, registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    long_term, _ = new_credential(owner, registry, "ci")
    temporary, _ = mint_temporary(owner, registry)
    compares: list[str] = []
    real = registry_auth.password_matches
    monkeypatch.setattr(
        registry_auth,
        "password_matches",
        lambda password, digest: compares.append(digest) or real(password, digest),
    )
    costs = {}
    for label, username in [
        ("long-term", long_term.username),
        ("temporary", temporary.username),
        ("unknown", "cn-north-4@NOSUCHUSERNAME00000"),
    ]:
        compares.clear()
        with CaptureQueriesContext(connection) as queries:
            assert registry_auth.verify(username, "wrong", registry.address) is None
        costs[label] = (len(queries), len(compares))
    assert costs == {"long-term": (1, 1), "temporary": (1, 1), "unknown": (1, 1)}


def refusal_medians(client: Client, known: str, service: str, round_: int) -> dict[str, float]:
    """Median milliseconds of 300 refusals of `known` (wrong passwords) and of 300 of new
    unknown usernames, interleaved, each first in turn so that load on the machine hits both
    alike; 20 of each first to warm up."""
    durations: dict[str, list[float]] = {"known": [], "unknown": []}
    for i in range(-20, 300):
        for kind in ("known", "unknown") if i % 2 else ("unknown", "known"):
            username = known if kind == "known" else f"cn-north-4@UNKNOWN{round_:03d}{i + 20:010d}"
            started = time.perf_counter()
            response = ask(client, basic(username, f"wrong-{i}"), service)
            elapsed = time.perf_counter() - started
            assert response.status_code == 401
            if i >= 0:
                durations[kind].append(elapsed * 1000)
    return {kind: statistics.median(values) for kind, values in durations.items()}


@contextlib.contextmanager
def priority_raised() -> Iterator[None]:
    """This process ahead of the machine's other work while it measures, where the system
    allows it (root, CAP_SYS_NICE): on a busy machine the scheduler otherwise adds whole
    ticks to requests at random, and delays a request that used more CPU more."""
    try:
        os.nice(-10)
    except OSError:
        yield
        return
    try:
        yield
    finally:
        os.nice(10)


def test_known_and_unknown_usernames_cost_the_same_time_median_of_300_each(
    owner: User, registry: Registry, settings
) -> None:
    """As the issue measured it: one known username with wrong passwords, and a new unknown
    username each time, all from one address (its own limit raised so that every request is
    answered). Past its own limit the known username is refused unchecked, while each new
    unknown one is still checked and audited: no refusal may answer sooner for that (nor for
    a username that exists). A busy machine blurs any median of 300 by about as much as the
    bound: up to five rounds are taken, and one must hold."""
    settings.REGISTRY_LOGIN_FAILURES_PER_IP = "10000/5m"
    known, _ = new_credential(owner, registry, "ci")
    client = Client()
    measured = []
    with priority_raised():
        for round_ in range(5):
            medians = refusal_medians(client, known.username, registry.address, round_)
            measured.append(medians)
            print(f"medians of 300 (ms): {medians}")  # shown with -s
            if abs(medians["known"] - medians["unknown"]) <= 0.5:
                break
    assert abs(medians["known"] - medians["unknown"]) <= 0.5, measured


def test_every_refusal_of_the_token_service_waits_and_a_grant_does_not(
    owner: User, registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    cred, password = new_credential(owner, registry, "ci")
    took: list[float] = []
    monkeypatch.setattr(
        attempts, "refusal_wait", lambda seconds, checked: took.append(seconds) or 0.0
    )
    client = Client()
    assert ask(client, basic(cred.username, "wrong"), registry.address).status_code == 401
    assert ask(client, None, registry.address).status_code == 401  # no credentials at all
    refused = oauth_post(client, password_grant(cred, "wrong", registry.address))
    assert refused.status_code == 401
    assert len(took) == 3
    assert ask(client, basic(cred.username, password), registry.address).status_code == 200
    assert oauth_post(client, {"grant_type": "password"}).status_code == 400  # malformed
    assert len(took) == 3


def test_a_refusal_waits_as_long_as_most_checked_ones_within_bounds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(attempts, "_recent_checked", deque(maxlen=attempts.RECENT_CHECKED))
    wait = attempts.refusal_wait
    assert wait(0.002, checked=True) == pytest.approx(0.008)  # up to the 10 ms floor
    for _ in range(60):
        wait(0.030, checked=True)  # checked refusals now take 30 ms
    assert wait(0.001, checked=False) == pytest.approx(0.029)  # an unchecked one as long
    assert wait(0.200, checked=True) == 0  # one stall…
    assert wait(0.001, checked=False) == pytest.approx(0.029)  # …is not what the others wait
    for _ in range(attempts.RECENT_CHECKED):
        wait(1.0, checked=True)
    assert wait(0.001, checked=False) == pytest.approx(0.249)  # a stalled database: 0.25 s


def test_the_one_lookup_still_finds_both_kinds(owner: User, registry: Registry) -> None:
    long_term, long_password = new_credential(owner, registry, "ci")
    temporary, temporary_password = mint_temporary(owner, registry)
    client = Client()
    assert (
        ask(client, basic(long_term.username, long_password), registry.address).status_code == 200
    )
    assert (
        ask(client, basic(temporary.username, temporary_password), registry.address).status_code
        == 200
    )


# --- Finding 13: deactivation ends IAM tokens for good --------------------------------


def test_deactivating_and_reactivating_a_user_does_not_revive_their_iam_tokens(
    owner: User, registry: Registry
) -> None:
    client = Client()
    token = get_token(client)["X-Subject-Token"]
    assert secret(client, token).status_code == 200
    owner.is_active = False
    owner.save()
    swr_error(secret(client, token), 401, "4010000")
    owner.is_active = True
    owner.save()
    swr_error(secret(client, token), 401, "4010000")
    fresh = get_token(client)["X-Subject-Token"]  # a new sign-in works again
    assert secret(client, fresh).status_code == 200


def test_deactivating_through_update_fields_ends_tokens_too(
    owner: User, registry: Registry
) -> None:
    client = Client()
    token = get_token(client)["X-Subject-Token"]
    owner.is_active = False
    owner.save(update_fields=["is_active"])
    owner.is_active = True
    owner.save(update_fields=["is_active"])
    swr_error(secret(client, token), 401, "4010000")


# --- Finding 7: deleting a user audits the deletion of their credentials ----------------


def test_deleting_a_user_in_the_admin_audits_each_credential_deleted(
    staff_user: User, owner: User, registry: Registry
) -> None:
    names = ["ci", "deploy"]
    for name in names:
        new_credential(owner, registry, name)
    temporary, _ = mint_temporary(owner, registry)
    admin = client_for(staff_user)
    response = admin.post(
        reverse("admin:credentials_user_delete", args=[owner.pk]), {"post": "yes"}
    )
    assert response.status_code == 302
    assert not User.objects.filter(pk=owner.pk).exists()
    deleted = AuditEvent.objects.filter(action="long_term.deleted")
    assert sorted(deleted.values_list("credential_name", flat=True)) == names
    assert {event.actor_username for event in deleted} == {"sam"}
    assert all("alice was deleted" in event.detail["reason"] for event in deleted)
    gone = AuditEvent.objects.get(action="temporary.deleted")
    assert gone.credential_username == temporary.username


def test_deleting_a_user_anywhere_else_is_audited_too(owner: User, registry: Registry) -> None:
    new_credential(owner, registry, "ci")
    User.objects.filter(pk=owner.pk).delete()  # the bulk path, e.g. from a shell
    event = AuditEvent.objects.get(action="long_term.deleted")
    assert event.credential_name == "ci"
    assert event.detail == {"reason": "its owner alice was deleted"}  # and nothing secret
    assert "password" not in json.dumps(event.detail)
