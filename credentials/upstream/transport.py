"""How the console calls Huawei's APIs: one `requests` session whose every call has one
deadline (connect + read), never follows a redirect, and fails only with an UpstreamError a
user can read. Knows nothing of Django; tokens and passwords never appear in messages."""

from __future__ import annotations

import contextlib
import contextvars
import socket
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from credentials import metrics

# --- One deadline per call ------------------------------------------------------------
# `requests` applies its read timeout to each socket read, so an upstream trickling a byte
# every few seconds could hold a call (and a worker thread) for minutes. Each call therefore
# has a watchdog: when connect + read seconds have passed, it shuts the call's sockets down,
# which ends whatever read is waiting. Connections are not reused (Connection: close), so
# every socket a call uses was opened, and watched, by that call.


class _Watchdog:
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.expired = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def __enter__(self) -> _Watchdog:
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()

    def watch(self, sock: socket.socket | None) -> None:
        if sock is None:
            return
        with self._lock:
            self._sockets.append(sock)
            if self.expired:
                _shut(sock)

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            for sock in self._sockets:
                _shut(sock)


def _shut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):  # already closed: the call ended on its own
        sock.shutdown(socket.SHUT_RDWR)


_watchdog: contextvars.ContextVar[_Watchdog | None] = contextvars.ContextVar(
    "upstream_watchdog", default=None
)


class _WatchedMixin:
    sock: socket.socket | None

    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()  # type: ignore[misc]
        watchdog = _watchdog.get()
        if watchdog is not None:
            watchdog.watch(sock)
        return sock

    def connect(self) -> None:
        super().connect()  # type: ignore[misc]
        watchdog = _watchdog.get()
        if watchdog is not None:
            watchdog.watch(self.sock)  # the TLS socket, when the raw one was wrapped


class _WatchedHTTPConnection(_WatchedMixin, HTTPConnection):
    pass


class _WatchedHTTPSConnection(_WatchedMixin, HTTPSConnection):
    pass


class _WatchedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


class _WatchedAdapter(HTTPAdapter):
    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": _WatchedHTTPPool,
            "https": _WatchedHTTPSPool,
        }


_session = requests.Session()
_session.headers["User-Agent"] = "swrconsole"
_session.headers["Connection"] = "close"
_session.mount("http://", _WatchedAdapter())
_session.mount("https://", _WatchedAdapter())


class UpstreamError(Exception):
    """The upstream could not give what was asked.

    `str()` is the full story for the log (it names the upstream's address); `reason` is what
    the console tells the user (temporary_logins.user_message): one of REASONS.
    """

    REASONS = (
        "unreachable",
        "timeout",
        "unavailable",
        "busy",
        "not_allowed",
        "refused",
        "malformed",
    )

    def __init__(
        self,
        message: str,
        *,
        code: str = "",
        status: int | None = None,
        reason: str = "malformed",
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status
        self.reason = reason

    def __str__(self) -> str:
        return f"{self.message} (error code {self.code})" if self.code else self.message


# Every outcome of a call counted from the start, by the one list of reasons.
metrics.declare_upstream_outcomes(("ok", *UpstreamError.REASONS))


@dataclass(frozen=True)
class Timeouts:
    connect: float
    read: float

    def as_tuple(self) -> tuple[float, float]:
        return (self.connect, self.read)

    @property
    def total(self) -> float:
        """The deadline of one whole call: connecting, sending and every read of the answer."""
        return self.connect + self.read


# --- One call, and what its answer means ----------------------------------------------

_STATUS_MESSAGES = {
    400: "The {service} refused the request as invalid",
    401: "The {service} did not accept the console's credentials (authentication failed)",
    403: "The console's account is not allowed to do this at the {service}",
    404: "The {service} does not know this address; check the configured URL",
    429: "The {service} is receiving too many requests; try again in a minute",
}


def request(
    method: str, url: str, *, service: str, timeouts: Timeouts, **kwargs: Any
) -> requests.Response:
    """One call, ended by its deadline, never following a redirect (which would carry the
    X-Auth-Token or the IAM password to wherever the redirect points); counted with its
    outcome and time (credentials/metrics)."""
    started = time.perf_counter()
    try:
        response = _call(method, url, service=service, timeouts=timeouts, **kwargs)
    except UpstreamError as exc:
        metrics.upstream_call(service, exc.reason, time.perf_counter() - started)
        raise
    metrics.upstream_call(service, "ok", time.perf_counter() - started)
    return response


def _call(
    method: str, url: str, *, service: str, timeouts: Timeouts, **kwargs: Any
) -> requests.Response:
    host = urlsplit(url).netloc
    watchdog = _Watchdog(timeouts.total)
    late = UpstreamError(
        f"The {service} at {host} did not finish answering within {timeouts.total:g} seconds.",
        reason="timeout",
    )
    token = _watchdog.set(watchdog)
    try:
        with watchdog:
            response = _session.request(
                method, url, timeout=timeouts.as_tuple(), allow_redirects=False, **kwargs
            )
    except requests.ConnectTimeout as exc:
        raise UpstreamError(
            f"The {service} at {host} did not accept a connection within "
            f"{timeouts.connect:g} seconds.",
            reason="unreachable",
        ) from exc
    except requests.ReadTimeout as exc:
        raise UpstreamError(
            f"The {service} at {host} did not answer within {timeouts.read:g} seconds.",
            reason="timeout",
        ) from exc
    except requests.ConnectionError as exc:
        if watchdog.expired:
            raise late from exc
        reason = "connection refused" if "refused" in str(exc).lower() else "connection failed"
        raise UpstreamError(
            f"Could not connect to the {service} at {host}: {reason}.", reason="unreachable"
        ) from exc
    except requests.RequestException as exc:
        if watchdog.expired:
            raise late from exc
        raise UpstreamError(
            f"Could not reach the {service} at {host}.", reason="unreachable"
        ) from exc
    finally:
        _watchdog.reset(token)
    if watchdog.expired:  # the answer may have been cut short without an error
        raise late
    if response.is_redirect or 300 <= response.status_code < 400:
        raise UpstreamError(
            f"The {service} at {host} answered with a redirect (HTTP {response.status_code}), "
            "which the console does not follow; check the configured URL.",
            reason="refused",
        )
    if response.status_code >= 400:
        raise _status_error(response, service)
    return response


def _status_error(response: requests.Response, service: str) -> UpstreamError:
    status = response.status_code
    template = _STATUS_MESSAGES.get(status)
    if template is None:
        template = (
            "The {service} had an internal error; try again later"
            if status >= 500
            else "The {service} refused the request"
        )
    code, detail = _error_details(response)
    message = template.format(service=service) + f" (HTTP {status})"
    if detail:
        message += f": {detail}"
    if status >= 500:
        reason = "unavailable"
    elif status == 429:
        reason = "busy"
    elif status in (401, 403):
        reason = "not_allowed"
    else:
        reason = "refused"
    return UpstreamError(message + ".", code=code, status=status, reason=reason)


def _error_details(response: requests.Response) -> tuple[str, str]:
    """(code, message) from an SWR/IAM error body, in any of its documented shapes."""
    try:
        body = response.json()
    except (ValueError, RecursionError):  # RecursionError: JSON nested too deep
        return "", ""
    if isinstance(body, list):  # older regions: a bare array of {errorCode, errorMessage}
        body = {"errors": body}
    if not isinstance(body, dict):
        return "", ""
    code = body.get("error_code") or ""
    message = body.get("error_msg") or ""
    errors = body.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        code = code or errors[0].get("errorCode") or ""
        message = message or errors[0].get("errorMessage") or ""
    error = body.get("error")  # IAM/gateway style
    if isinstance(error, dict):
        code = code or str(error.get("code") or "")
        message = message or error.get("message") or ""
    return str(code)[:64], str(message).rstrip(".")[:300]


def json_object(response: requests.Response, service: str) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        raise UpstreamError(f"The {service} answered with a body that is not JSON.") from None
    except RecursionError:
        raise UpstreamError(f"The {service} answered with JSON nested too deeply.") from None
    if not isinstance(body, dict):
        raise UpstreamError(f"The {service} answered with JSON that is not an object.")
    return body


def parse_time(value: Any, what: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise UpstreamError(f"The upstream answered with a malformed {what}.") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
