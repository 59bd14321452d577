"""The console's Prometheus metrics: every counter and histogram, and the one function each
place where an event already happens calls (the token view, the sign-in signals, the audit
trail's writes, the upstream client, the throttle, the reminder mails). `/metrics` serves them
(credentials/metrics/endpoint.py).

Pure: prometheus-client only, no Django, so the domain and the upstream client may call it.
Every label is a small fixed set named here, never a username, an address, a repository or a
secret. Every child is bound once, at import (a label lookup per event costs more than the
event's count), and every series exists from the start at 0, so rates and ratios need no
special case for a first event.

Under gunicorn every worker writes to its own file in PROMETHEUS_MULTIPROC_DIR
(gunicorn.conf.py) and a scrape sums them all; in one process (runserver, tests, a
management command without that variable) the values live in the process's registry.
"""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import Counter, Histogram

# Flows of /service/token: the GET flow (HTTP Basic), the OAuth2 POST flow's two grants, and
# `other` — a POST whose grant type is missing or unsupported, or another method.
TOKEN_FLOWS = ("basic", "password", "refresh", "other")
# granted: a token issued; refused: credentials checked and refused; throttled: refused
# unchecked while the throttle holds; invalid: a malformed request (400, 405); error: the
# console failed (5xx or an exception).
TOKEN_OUTCOMES = ("granted", "refused", "throttled", "invalid", "error")
LOGIN_OUTCOMES = ("succeeded", "failed", "throttled")
# What was done to a registry credential, by the action its audit event names.
CREDENTIAL_OPERATIONS = {
    "long_term.created": "create",
    "long_term.enabled": "enable",
    "long_term.disabled": "disable",
    "long_term.password_reset": "reset",
    "long_term.deleted": "delete",
    "temporary.issued": "temporary",
    "temporary.minted": "temporary",
}
# The upstream client's services (credentials/upstream: the `service` each call names).
UPSTREAM_SERVICES = {"IAM API": "iam", "SWR API": "swr"}
# The throttle's scopes (credentials/security/throttling.py) and the per-user limit on
# temporary credentials (the console's Generate, the built-in SWR API).
THROTTLED_LIMITS = ("sign-in", "registry-login", "api-auth", "temporary-credentials")
MAIL_OUTCOMES = ("sent", "failed")

# Seconds: a token is a few milliseconds when all is well, a refusal is padded to 10-250 ms
# (credentials/registry/attempts.py), an upstream call may take its deadline (~13 s).
TOKEN_BUCKETS = (0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
UPSTREAM_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 15.0)

TOKEN_REQUESTS = Counter(
    "swr_console_token_requests",
    "Requests to the registry token service (/service/token), by flow and outcome.",
    ["flow", "outcome"],
)
TOKEN_SECONDS = Histogram(
    "swr_console_token_request_seconds",
    "Time the token service took to answer, refusals' padding included, by flow.",
    ["flow"],
    buckets=TOKEN_BUCKETS,
)
LOGINS = Counter(
    "swr_console_logins",
    "Sign-ins to console accounts (pages, admin, the built-in IAM API), by outcome.",
    ["outcome"],
)
CREDENTIAL_OPS = Counter(
    "swr_console_credential_operations",
    "Operations on registry credentials, by kind (temporary: one issued).",
    ["kind"],
)
UPSTREAM_REQUESTS = Counter(
    "swr_console_upstream_requests",
    "Calls to Huawei's APIs (SWR_API_URL, SWR_IAM_URL), by service and outcome.",
    ["service", "outcome"],
)
UPSTREAM_SECONDS = Histogram(
    "swr_console_upstream_request_seconds",
    "Time each call to Huawei's APIs took, failed ones included, by service.",
    ["service"],
    buckets=UPSTREAM_BUCKETS,
)
THROTTLED = Counter(
    "swr_console_throttled_requests",
    "Requests refused by a limit on failed attempts or on temporary credentials, by limit.",
    ["limit"],
)
REMINDER_MAILS = Counter(
    "swr_console_reminder_mails",
    "E-mails of the credential lifecycle (expiry reminders, disabled notices), by outcome.",
    ["outcome"],
)
AUDIT_EVENTS = Counter(
    "swr_console_audit_events",
    "Audit events written, by action.",
    ["action"],
)
# The name of the gauge /metrics computes at each scrape (credentials/metrics/endpoint.py).
AUDIT_STREAM_BACKLOG = "swr_console_audit_stream_backlog"

# Pre-bound children: (counter, histogram) for each flow and outcome, and so on.
_token = {
    (flow, outcome): (TOKEN_REQUESTS.labels(flow, outcome), TOKEN_SECONDS.labels(flow))
    for flow in TOKEN_FLOWS
    for outcome in TOKEN_OUTCOMES
}
_logins = {outcome: LOGINS.labels(outcome) for outcome in LOGIN_OUTCOMES}
_operations = {kind: CREDENTIAL_OPS.labels(kind) for kind in set(CREDENTIAL_OPERATIONS.values())}
# Filled by declare_upstream_outcomes: "ok" and the UpstreamError's reasons (the upstream
# client knows them).
_upstream: dict[tuple[str, str], tuple[object, object]] = {}
_throttled = {limit: THROTTLED.labels(limit) for limit in THROTTLED_LIMITS}
_mails = {outcome: REMINDER_MAILS.labels(outcome) for outcome in MAIL_OUTCOMES}
_audit: dict[str, object] = {}  # filled by declare_audit_actions (the domain knows them)

_enabled = True


def configure(*, enabled: bool) -> None:
    """Count or not (METRICS_ENABLED; credentials/apps.py calls this once at start)."""
    global _enabled
    _enabled = enabled


def declare_audit_actions(actions: Iterable[str]) -> None:
    """The audit trail's actions, each a series from the start (AuditEvent.Action's values)."""
    for action in actions:
        _audit.setdefault(action, AUDIT_EVENTS.labels(action))


def declare_upstream_outcomes(outcomes: Iterable[str]) -> None:
    """Each service's calls by outcome, each a series from the start."""
    for service in UPSTREAM_SERVICES.values():
        for outcome in outcomes:
            _upstream.setdefault(
                (service, outcome),
                (UPSTREAM_REQUESTS.labels(service, outcome), UPSTREAM_SECONDS.labels(service)),
            )


def token_request(flow: str, outcome: str, seconds: float) -> None:
    """One answer of /service/token, and how long it took."""
    if _enabled:
        counter, histogram = _token[(flow, outcome)]
        counter.inc()
        histogram.observe(seconds)


def login(outcome: str) -> None:
    """One sign-in to a console account: succeeded, failed or throttled."""
    if _enabled:
        _logins[outcome].inc()


def audit_events_written(actions: Iterable[str]) -> None:
    """Audit events just written, by their actions; those that change a registry credential
    also count as its operation."""
    if not _enabled:
        return
    for action in actions:
        child = _audit.get(action)
        if child is None:  # an action declared after start: still counted
            child = _audit.setdefault(action, AUDIT_EVENTS.labels(action))
        child.inc()  # type: ignore[attr-defined]
        kind = CREDENTIAL_OPERATIONS.get(action)
        if kind is not None:
            _operations[kind].inc()


def upstream_call(service: str, outcome: str, seconds: float) -> None:
    """One call to Huawei's APIs: `service` as the upstream client names it, `outcome` ok or
    the UpstreamError's reason."""
    if _enabled:
        pair = _upstream.get((UPSTREAM_SERVICES.get(service, ""), outcome))
        if pair is not None:
            pair[0].inc()  # type: ignore[attr-defined]
            pair[1].observe(seconds)  # type: ignore[attr-defined]


def throttled(limit: str) -> None:
    """One request refused by one of THROTTLED_LIMITS."""
    if _enabled:
        _throttled[limit].inc()


def reminder_mail(outcome: str, count: int = 1) -> None:
    """Lifecycle e-mails sent or failed."""
    if _enabled and count:
        _mails[outcome].inc(count)
