"""IAM user tokens (the password method), and the provider that keeps one per project for
the SWR API's X-Auth-Token."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from credentials.upstream.transport import Timeouts, UpstreamError, json_object, parse_time, request

# An IAM token is replaced this long before its expires_at, so none is used as it expires.
IAM_TOKEN_MARGIN = timedelta(minutes=10)


@dataclass(frozen=True)
class IamToken:
    value: str
    expires_at: datetime


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
    response = request(
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
    expires = json_object(response, "IAM API").get("token", {})
    if not isinstance(expires, dict) or "expires_at" not in expires:
        raise UpstreamError("The IAM API answered without token.expires_at.")
    return IamToken(value=value, expires_at=parse_time(expires["expires_at"], "token.expires_at"))


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
