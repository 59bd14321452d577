"""The console's only HTTP client: Huawei SWR's temporary-login API and IAM user tokens.

Knows nothing of Django. Every failure is an UpstreamError whose message a user can read;
no `requests` exception escapes. Tokens and passwords never appear in messages.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import contextvars
import functools
import socket
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from credentials import login_formats
from credentials.rules import TEMPORARY_VALIDITY

# An IAM token is replaced this long before its expires_at, so none is used as it expires.
IAM_TOKEN_MARGIN = timedelta(minutes=10)


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
    the console tells the user (credentials/temporary_logins.user_message): one of REASONS.
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


@dataclass(frozen=True)
class TemporaryLogin:
    """A temporary registry login as SWR hands it out."""

    username: str
    password: str
    host: str
    expires_at: datetime

    @property
    def docker_command(self) -> str:
        return login_formats.docker_command(self.username, self.password, self.host)

    @property
    def helm_command(self) -> str:
        return login_formats.helm_command(self.username, self.password, self.host)

    @functools.cached_property
    def docker_config(self) -> str:
        """The same login as a Docker config.json."""
        return login_formats.docker_config(self.username, self.password, self.host)

    def kubernetes_secret(self, name: str) -> str:
        """The same login as a Kubernetes image-pull Secret manifest."""
        return login_formats.kubernetes_secret(name, self.username, self.password, self.host)


@dataclass(frozen=True)
class IamToken:
    value: str
    expires_at: datetime


def create_secret(
    *, api_url: str, token: str, project_name: str, timeouts: Timeouts, prefer_host: str = ""
) -> TemporaryLogin:
    """Ask SWR for a temporary docker login (CreateSecret), valid 24 hours.

    `prefer_host` picks the registry host when the answer names several.
    # Reference: SWR API reference, "Generating a Temporary Login Command" (swr_02_0052).
    """
    issued_at = datetime.now(UTC)
    response = _request(
        "POST",
        f"{api_url.rstrip('/')}/v2/manage/utils/secret",
        service="SWR API",
        timeouts=timeouts,
        params={"projectname": project_name},
        headers={"Content-Type": "application/json;charset=utf-8", "X-Auth-Token": token},
    )
    return _parse_secret(response, issued_at=issued_at, prefer_host=prefer_host)


def fetch_iam_token(
    *,
    iam_url: str,
    domain: str,
    user: str,
    password: str,
    project: str,
    timeouts: Timeouts,
) -> IamToken:
    """Obtain a project-scoped IAM user token with the password method.

    # Reference: IAM API reference, "Obtaining a User Token" (iam_30_0001).
    """
    body = {
        "auth": {
            "identity": {
                "methods": ["password"],
                "password": {
                    "user": {"domain": {"name": domain}, "name": user, "password": password}
                },
            },
            "scope": {"project": {"name": project}},
        }
    }
    response = _request(
        "POST",
        f"{iam_url.rstrip('/')}/v3/auth/tokens",
        service="IAM API",
        timeouts=timeouts,
        json=body,
        headers={"Content-Type": "application/json;charset=utf-8"},
    )
    value = response.headers.get("X-Subject-Token", "")
    if not value:
        raise UpstreamError("The IAM API answered without the X-Subject-Token header.")
    expires = _json(response, "IAM API").get("token", {})
    if not isinstance(expires, dict) or "expires_at" not in expires:
        raise UpstreamError("The IAM API answered without token.expires_at.")
    return IamToken(value=value, expires_at=_parse_time(expires["expires_at"], "token.expires_at"))


class TokenProvider:
    """X-Auth-Token for the SWR API: a static token, or IAM password-grant tokens.

    IAM tokens are cached per project until IAM_TOKEN_MARGIN before they expire. Concurrent
    callers share one fetch (a lock, not a stampede); a token the SWR API refused is dropped.
    """

    def __init__(
        self,
        *,
        static_token: str = "",
        iam_url: str = "",
        domain: str = "",
        user: str = "",
        password: str = "",
        timeouts: Timeouts,
    ) -> None:
        self._static = static_token
        self._credentials = {
            "iam_url": iam_url,
            "domain": domain,
            "user": user,
            "password": password,
        }
        self._timeouts = timeouts
        self._lock = threading.Lock()
        self._cache: dict[str, IamToken] = {}

    @property
    def refreshable(self) -> bool:
        return not self._static

    def token(self, project: str) -> str:
        if self._static:
            return self._static
        cached = self._fresh(project)
        if cached:
            return cached
        with self._lock:
            cached = self._fresh(project)  # another thread may have fetched it meanwhile
            if cached:
                return cached
            token = fetch_iam_token(project=project, timeouts=self._timeouts, **self._credentials)
            self._cache[project] = token
            return token.value

    def invalidate(self, project: str, value: str) -> None:
        with self._lock:
            cached = self._cache.get(project)
            if cached and cached.value == value:
                del self._cache[project]

    def _fresh(self, project: str) -> str | None:
        cached = self._cache.get(project)
        if cached and cached.expires_at - IAM_TOKEN_MARGIN > datetime.now(UTC):
            return cached.value
        return None


def create_secret_with(
    provider: TokenProvider,
    *,
    api_url: str,
    project_name: str,
    timeouts: Timeouts,
    prefer_host: str = "",
) -> TemporaryLogin:
    """create_secret with a token from `provider`, fetching a new one once on a 401."""
    token = provider.token(project_name)
    try:
        return create_secret(
            api_url=api_url,
            token=token,
            project_name=project_name,
            timeouts=timeouts,
            prefer_host=prefer_host,
        )
    except UpstreamError as exc:
        if exc.status != 401 or not provider.refreshable:
            raise
        provider.invalidate(project_name, token)
    return create_secret(
        api_url=api_url,
        token=provider.token(project_name),
        project_name=project_name,
        timeouts=timeouts,
        prefer_host=prefer_host,
    )


# --- HTTP and parsing -----------------------------------------------------------------

_STATUS_MESSAGES = {
    400: "The {service} refused the request as invalid",
    401: "The {service} did not accept the console's credentials (authentication failed)",
    403: "The console's account is not allowed to do this at the {service}",
    404: "The {service} does not know this address; check the configured URL",
    429: "The {service} is receiving too many requests; try again in a minute",
}


def _request(
    method: str, url: str, *, service: str, timeouts: Timeouts, **kwargs: Any
) -> requests.Response:
    """One call, ended by its deadline, never following a redirect (which would carry the
    X-Auth-Token or the IAM password to wherever the redirect points)."""
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


def _json(response: requests.Response, service: str) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        raise UpstreamError(f"The {service} answered with a body that is not JSON.") from None
    except RecursionError:
        raise UpstreamError(f"The {service} answered with JSON nested too deeply.") from None
    if not isinstance(body, dict):
        raise UpstreamError(f"The {service} answered with JSON that is not an object.")
    return body


def _parse_secret(
    response: requests.Response, *, issued_at: datetime, prefer_host: str
) -> TemporaryLogin:
    command = response.headers.get("X-Swr-Dockerlogin")
    if not command:
        raise UpstreamError("The SWR API answered without the X-Swr-Dockerlogin header.")
    username, password = _parse_docker_login(command)

    auths = _json(response, "SWR API").get("auths")
    if not isinstance(auths, dict) or not auths:
        raise UpstreamError("The SWR API answered without the registry login (no “auths”).")
    host = prefer_host if prefer_host in auths else sorted(auths)[0]
    entry = auths[host]
    if not isinstance(entry, dict) or not isinstance(entry.get("auth"), str):
        raise UpstreamError("The SWR API answered with an “auths” entry that has no “auth”.")
    try:
        decoded = base64.b64decode(entry["auth"], validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise UpstreamError("The SWR API answered with an “auth” that is not base64.") from None
    if decoded != f"{username}:{password}":
        raise UpstreamError(
            "The SWR API answered with a login command and a body that disagree on the "
            "username or password."
        )

    expire_header = response.headers.get("X-Swr-Expireat")
    expires_at = (
        _parse_time(expire_header, "X-Swr-Expireat header")
        if expire_header
        else issued_at + TEMPORARY_VALIDITY
    )
    return TemporaryLogin(username=username, password=password, host=host, expires_at=expires_at)


def _parse_docker_login(command: str) -> tuple[str, str]:
    """Username and password from `docker login -u U -p P [HOST]`."""
    words = command.split()
    options: dict[str, str] = {}
    if words[:2] == ["docker", "login"]:
        rest = words[2:]
        while len(rest) >= 2 and rest[0] in ("-u", "-p", "--username", "--password"):
            options[rest[0].lstrip("-")[0]] = rest[1]
            rest = rest[2:]
        if len(rest) <= 1 and options.keys() == {"u", "p"}:
            return options["u"], options["p"]
    raise UpstreamError("The SWR API answered with a malformed X-Swr-Dockerlogin header.")


def _parse_time(value: Any, what: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise UpstreamError(f"The upstream answered with a malformed {what}.") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
