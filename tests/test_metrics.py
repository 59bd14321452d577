"""Prometheus metrics in one process (runserver, tests): each counter counts where its event
happens, and `/metrics` shows them only to METRICS_ALLOWED_NETWORKS or a bearer of
METRICS_TOKEN. Across gunicorn workers and replicas, scraped by a real Prometheus:
tests/test_metrics_prometheus.py."""

from __future__ import annotations

import socket

import pytest
from django.core import mail
from django.test import Client
from prometheus_client import REGISTRY
from pytest_httpserver import HTTPServer

from credentials import upstream
from credentials.lifecycle import notifications
from credentials.metrics import endpoint
from credentials.models import (
    Actor,
    AuditEvent,
    AuditOutbox,
    LongTermCredential,
    Registry,
    User,
)
from tests.fake_swr import secret_response
from tests.helpers import (
    NOW,
    PASSWORD,
    ask,
    basic,
    make_user,
    mint_temporary,
    oauth_post,
    password_grant,
    refresh_grant,
    settings_import,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("token_keys")]

TOKEN = "metrics-token-0123456789abcdefghijklmnopqrstuvwxyz"
OUTSIDE = "203.0.113.9"  # an address in no allowed network (TEST-NET-3)


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def tokens(flow: str, outcome: str) -> float:
    return value("swr_console_token_requests_total", flow=flow, outcome=outcome)


def timed(flow: str) -> float:
    return value("swr_console_token_request_seconds_count", flow=flow)


class Delta:
    """What `read` says now, and how much it has grown since."""

    def __init__(self, read) -> None:
        self.read = read
        self.start = read()

    @property
    def grown(self) -> float:
        return self.read() - self.start


# --- The token service ------------------------------------------------------------------


def test_a_granted_token_get_is_counted_with_its_time_under_flow_basic(
    client: Client, credential, registry: Registry
) -> None:
    cred, password = credential
    granted, seconds = Delta(lambda: tokens("basic", "granted")), Delta(lambda: timed("basic"))
    assert ask(client, basic(cred.username, password), registry.address).status_code == 200
    assert (granted.grown, seconds.grown) == (1, 1)


def test_refused_and_throttled_token_requests_are_counted_apart(
    client: Client, credential, registry: Registry, settings
) -> None:
    settings.REGISTRY_LOGIN_FAILURES_PER_IP = "2/d"
    cred, password = credential
    refused, throttled = (
        Delta(lambda: tokens("basic", "refused")),
        Delta(lambda: tokens("basic", "throttled")),
    )
    limited = Delta(lambda: value("swr_console_throttled_requests_total", limit="registry-login"))
    statuses = [ask(client, basic(cred.username, "wrong"), registry.address).status_code]
    statuses.append(ask(client, basic(cred.username, "wrong"), registry.address).status_code)
    statuses.append(ask(client, basic(cred.username, password), registry.address).status_code)
    assert statuses == [401, 401, 401]
    assert (refused.grown, throttled.grown, limited.grown) == (2, 1, 1)


def test_the_post_flows_are_counted_by_grant_and_a_malformed_request_as_invalid(
    client: Client, credential, registry: Registry
) -> None:
    cred, password = credential
    counted = {
        key: Delta(lambda key=key: tokens(*key))
        for key in [("password", "granted"), ("refresh", "granted"), ("other", "invalid")]
    }
    seconds = {flow: Delta(lambda flow=flow: timed(flow)) for flow in ("password", "refresh")}
    granted = oauth_post(
        client, password_grant(cred, password, registry.address, access_type="offline")
    )
    assert granted.status_code == 200
    refreshed = oauth_post(client, refresh_grant(granted.json()["refresh_token"], registry.address))
    assert refreshed.status_code == 200
    assert oauth_post(client, {"grant_type": "magic"}).status_code == 400
    assert client.put("/service/token").status_code == 405
    assert {key: delta.grown for key, delta in counted.items()} == {
        ("password", "granted"): 1,
        ("refresh", "granted"): 1,
        ("other", "invalid"): 2,
    }
    assert {flow: delta.grown for flow, delta in seconds.items()} == {"password": 1, "refresh": 1}


def test_a_token_request_that_fails_is_counted_as_an_error(
    credential, registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(request):
        raise RuntimeError("a bug")

    monkeypatch.setattr("credentials.registry.basic.token_get", broken)
    errors = Delta(lambda: tokens("basic", "error"))
    client = Client(raise_request_exception=False)
    assert ask(client, basic("someone", "anything"), registry.address).status_code == 500
    assert errors.grown == 1


# --- Sign-ins, credential operations, the audit trail -----------------------------------


def test_console_sign_ins_are_counted_by_outcome(client: Client, settings) -> None:
    settings.SIGN_IN_FAILURES_PER_IP = "2/d"
    make_user("alice")
    counted = {o: Delta(lambda o=o: value("swr_console_logins_total", outcome=o)) for o in
               ("succeeded", "failed", "throttled")}  # fmt: skip
    assert (
        client.post("/accounts/login/", {"username": "alice", "password": PASSWORD}).status_code
        == 302
    )
    other = Client()
    statuses = [
        other.post("/accounts/login/", {"username": "alice", "password": "nope"}).status_code
        for _ in range(3)
    ]
    assert statuses == [200, 200, 429]
    assert {o: delta.grown for o, delta in counted.items()} == {
        "succeeded": 1,
        "failed": 2,
        "throttled": 1,
    }
    assert value("swr_console_throttled_requests_total", limit="sign-in") >= 1


def test_each_credential_operation_is_counted_by_kind_with_its_audit_event(
    owner: User, registry: Registry
) -> None:
    kinds = ("create", "disable", "enable", "reset", "delete", "temporary")
    operations = {
        kind: Delta(lambda kind=kind: value("swr_console_credential_operations_total", kind=kind))
        for kind in kinds
    }
    events = Delta(lambda: sum(value("swr_console_audit_events_total", action=a)
                               for a in AuditEvent.Action.values))  # fmt: skip
    written = Delta(AuditEvent.objects.count)
    by = Actor(user=owner)
    credential, _ = LongTermCredential.objects.create_for(
        owner=owner, registry=registry, name="ci", by=by
    )
    credential.disable(by=by)
    credential.enable(by=by)
    credential.reset_password(by=by)
    credential.delete_by(by=by)
    mint_temporary(owner, registry)  # one statement on PostgreSQL (insert_together)
    assert {kind: delta.grown for kind, delta in operations.items()} == dict.fromkeys(kinds, 1)
    assert events.grown == written.grown == 6
    assert value("swr_console_audit_events_total", action="long_term.password_reset") >= 1


def test_audit_events_written_together_are_each_counted(owner: User) -> None:
    counted = Delta(lambda: value("swr_console_audit_events_total", action="console.sign_in"))
    AuditEvent.objects.bulk_create(
        [AuditEvent.build(AuditEvent.Action.SIGN_IN, Actor(user=owner)) for _ in range(3)]
    )
    assert counted.grown == 3


def test_every_audit_action_is_a_series_from_the_start() -> None:
    shown = endpoint.scrape().decode()
    for action in AuditEvent.Action.values:
        assert f'swr_console_audit_events_total{{action="{action}"}}' in shown


# --- Upstream, limits, mail --------------------------------------------------------------


def test_upstream_calls_are_counted_by_outcome_with_their_time(httpserver: HTTPServer) -> None:
    ok = Delta(lambda: value("swr_console_upstream_requests_total", service="swr", outcome="ok"))
    unreachable = Delta(
        lambda: value("swr_console_upstream_requests_total", service="swr", outcome="unreachable")
    )
    seconds = Delta(lambda: value("swr_console_upstream_request_seconds_count", service="swr"))
    httpserver.expect_request("/v2/manage/utils/secret", method="POST").respond_with_response(
        secret_response("cn-north-4@AK", "p" * 64)
    )
    timeouts = upstream.Timeouts(connect=2, read=2)
    upstream.create_secret(
        api_url=httpserver.url_for("/"), token="t", project_name="p", timeouts=timeouts
    )
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    with pytest.raises(upstream.UpstreamError):
        upstream.create_secret(
            api_url=f"http://127.0.0.1:{closed}", token="t", project_name="p", timeouts=timeouts
        )
    assert (ok.grown, unreachable.grown, seconds.grown) == (1, 1, 2)


def test_the_temporary_credentials_limit_counts_what_it_refuses(
    owner: User, registry: Registry, settings, time_machine
) -> None:
    time_machine.move_to(NOW, tick=False)  # both requests in one window of the limit
    settings.TEMPORARY_CREDENTIALS_PER_MINUTE = 1
    limited = Delta(
        lambda: value("swr_console_throttled_requests_total", limit="temporary-credentials")
    )
    client = Client()
    client.force_login(owner)
    url = f"/registries/{registry.public_id}/access-credentials/temporary/generate/"
    assert client.post(url, {"kind": "image"}).status_code == 200
    assert client.post(url, {"kind": "image"}).status_code == 429
    assert limited.grown == 1


def test_lifecycle_mails_are_counted_sent_and_failed(settings) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    sent = Delta(lambda: value("swr_console_reminder_mails_total", outcome="sent"))
    failed = Delta(lambda: value("swr_console_reminder_mails_total", outcome="failed"))
    good = mail.EmailMessage("Expires soon", "body", to=["alice@example.test"])
    bad = mail.EmailMessage("Two\nlines", "body", to=["bob@example.test"])  # BadHeaderError
    assert notifications.send_each([("good", good), ("bad", bad), ("again", good)]) == ["bad"]
    assert (sent.grown, failed.grown) == (2, 1)


# --- /metrics ------------------------------------------------------------------------------


def test_metrics_are_served_to_loopback_in_the_text_format(client: Client) -> None:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    body = response.content.decode()
    assert "# TYPE swr_console_token_requests_total counter" in body
    assert "# TYPE swr_console_token_request_seconds histogram" in body


def test_an_address_outside_the_allowed_networks_is_refused_without_a_number(
    client: Client,
) -> None:
    response = client.get("/metrics", REMOTE_ADDR=OUTSIDE)
    assert response.status_code == 403
    assert "swr_console" not in response.content.decode()
    assert "METRICS_ALLOWED_NETWORKS" in response.content.decode()


def test_the_token_opens_metrics_from_anywhere_and_a_wrong_one_does_not(
    client: Client, settings
) -> None:
    settings.METRICS_TOKEN = TOKEN
    bearer = client.get("/metrics", REMOTE_ADDR=OUTSIDE, HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert bearer.status_code == 200
    assert "swr_console_token_requests_total" in bearer.content.decode()
    for wrong in (f"Bearer {TOKEN[:-1]}x", f"Basic {TOKEN}", f"Bearer {TOKEN}{TOKEN}", "Bearer"):
        assert (
            client.get("/metrics", REMOTE_ADDR=OUTSIDE, HTTP_AUTHORIZATION=wrong).status_code == 403
        )


def test_without_a_token_set_no_bearer_is_let_in(client: Client, settings) -> None:
    settings.METRICS_TOKEN = ""
    assert (
        client.get("/metrics", REMOTE_ADDR=OUTSIDE, HTTP_AUTHORIZATION="Bearer ").status_code == 403
    )


def test_a_forwarded_for_header_from_an_untrusted_peer_opens_nothing(client: Client) -> None:
    # Spoofed by an outside client, or added by a proxy on this host that is not trusted
    # (whose own address, loopback, would otherwise pass).
    assert (
        client.get("/metrics", REMOTE_ADDR=OUTSIDE, HTTP_X_FORWARDED_FOR="127.0.0.1").status_code
        == 403
    )
    assert client.get("/metrics", HTTP_X_FORWARDED_FOR=OUTSIDE).status_code == 403


def test_behind_a_trusted_proxy_the_client_address_decides(client: Client, settings) -> None:
    import ipaddress

    settings.TRUSTED_PROXY_NETWORKS = [ipaddress.ip_network("10.0.0.1/32")]
    settings.METRICS_ALLOWED_NETWORKS = [ipaddress.ip_network("192.168.5.0/24")]
    through = {"REMOTE_ADDR": "10.0.0.1"}
    assert client.get("/metrics", HTTP_X_FORWARDED_FOR="192.168.5.7", **through).status_code == 200
    assert client.get("/metrics", HTTP_X_FORWARDED_FOR=OUTSIDE, **through).status_code == 403
    assert client.get("/metrics").status_code == 403  # loopback is no longer listed


def test_metrics_is_get_only_and_off_when_disabled(settings) -> None:
    post = Client().post("/metrics")
    assert (post.status_code, post["Allow"]) == (405, "GET, HEAD")
    settings.METRICS_ENABLED = False
    assert Client().get("/metrics").status_code == 404  # a new client loads the middleware anew


def test_the_audit_stream_backlog_is_read_at_each_scrape(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    waiting = iter([7, 3])
    monkeypatch.setattr(endpoint, "audit_stream_backlog", lambda: next(waiting))
    assert "swr_console_audit_stream_backlog 7.0" in client.get("/metrics").content.decode()
    assert "swr_console_audit_stream_backlog 3.0" in client.get("/metrics").content.decode()


def test_the_backlog_is_the_audit_streams_outbox_and_zero_with_no_stream(
    client: Client, owner: User, settings
) -> None:
    assert "swr_console_audit_stream_backlog 0.0" in client.get("/metrics").content.decode()
    settings.AUDIT_SYSLOG_URL = "tcp://127.0.0.1:6514"
    for seq in (1, 2):
        event = AuditEvent.record(AuditEvent.Action.SIGN_IN, Actor(user=owner))
        AuditOutbox.objects.create(seq=seq, event=event)
    assert "swr_console_audit_stream_backlog 2.0" in client.get("/metrics").content.decode()


def test_no_label_carries_a_username_a_password_or_an_address(
    client: Client, credential, registry: Registry
) -> None:
    cred, password = credential
    secrets = [cred.username, password, "alice", PASSWORD, OUTSIDE, registry.address]
    ask(client, basic(cred.username, password), registry.address, "repository:team/app:pull")
    ask(Client(REMOTE_ADDR=OUTSIDE), basic(cred.username, "wrong"), registry.address)
    Client(REMOTE_ADDR=OUTSIDE).post(
        "/accounts/login/", {"username": "alice", "password": PASSWORD}
    )
    body = client.get("/metrics").content.decode()
    assert [secret for secret in secrets if secret in body] == []


# --- Settings ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"METRICS_ALLOWED_NETWORKS": "10.0.0.0/8,not-a-network"}, "METRICS_ALLOWED_NETWORKS"),
        ({"METRICS_TOKEN": "short"}, "METRICS_TOKEN must be at least 32 characters"),
        ({"METRICS_TOKEN_FILE": "/nonexistent/token"}, "METRICS_TOKEN_FILE: cannot read"),
    ],
)
def test_bad_metrics_settings_are_refused_at_start(env: dict[str, str], message: str) -> None:
    result = settings_import({"DEBUG": "true", **env})
    assert result.returncode != 0
    assert message in result.stderr
