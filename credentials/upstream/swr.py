"""SWR's CreateSecret: a temporary registry login, valid 24 hours (credentials.rules)."""

from __future__ import annotations

import base64
import binascii
import functools
from dataclasses import dataclass
from datetime import UTC, datetime

import requests

from credentials import login_formats
from credentials.rules import TEMPORARY_VALIDITY
from credentials.upstream.iam import TokenProvider
from credentials.upstream.transport import (
    Timeouts,
    UpstreamError,
    json_object,
    parse_time,
    request,
)


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


def create_secret(
    *, api_url: str, token: str, project_name: str, timeouts: Timeouts, prefer_host: str = ""
) -> TemporaryLogin:
    """Ask SWR for a temporary docker login (CreateSecret), valid 24 hours.

    `prefer_host` picks the registry host when the answer names several.
    # Reference: SWR API reference, "Generating a Temporary Login Command" (swr_02_0052).
    """
    issued_at = datetime.now(UTC)
    response = request(
        "POST",
        f"{api_url.rstrip('/')}/v2/manage/utils/secret",
        service="SWR API",
        timeouts=timeouts,
        params={"projectname": project_name},
        headers={"Content-Type": "application/json;charset=utf-8", "X-Auth-Token": token},
    )
    return _parse_secret(response, issued_at=issued_at, prefer_host=prefer_host)


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


def _parse_secret(
    response: requests.Response, *, issued_at: datetime, prefer_host: str
) -> TemporaryLogin:
    command = response.headers.get("X-Swr-Dockerlogin")
    if not command:
        raise UpstreamError("The SWR API answered without the X-Swr-Dockerlogin header.")
    username, password = _parse_docker_login(command)

    auths = json_object(response, "SWR API").get("auths")
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
        parse_time(expire_header, "X-Swr-Expireat header")
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
