"""A stand-in for Huawei Cloud's IAM and SWR APIs, following docs/HUAWEI-API.md, for remote-mode tests.

It runs on pytest-httpserver (a real HTTP server on 127.0.0.1) and checks requests as
strictly as the documentation describes them.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from credentials import upstream

HOST = "swr.cn-north-4.myhuaweicloud.com"


def fetch_iam_token(iam_url: str, timeouts: upstream.Timeouts, **fields: str) -> upstream.IamToken:
    """upstream.fetch_iam_token from `iam_url` with placeholder account fields (or `fields`), for
    tests of how the call treats the answer."""
    account = {"domain": "d", "user": "u", "password": "p", "project": "p"} | fields
    return upstream.fetch_iam_token(iam_url=iam_url, timeouts=timeouts, **account)


def swr_error_body(status: int, code: str, message: str) -> str:
    full = f"SVCSTG.SWR.{status}{code}"
    return json.dumps(
        {
            "error_code": full,
            "error_msg": message,
            "errors": [{"errorCode": full, "errorMessage": message}],
        }
    )


def secret_response(
    username: str,
    password: str,
    host: str = HOST,
    expire_at: str | None = "2026-11-23T12:18:44.382000Z",
) -> Response:
    headers = {"X-Swr-Dockerlogin": f"docker login -u {username} -p {password}"}
    if expire_at:
        headers["X-Swr-Expireat"] = expire_at
    auth = base64.b64encode(f"{username}:{password}".encode()).decode()
    return Response(
        json.dumps({"auths": {host: {"auth": auth}}}),
        status=200,
        headers=headers,
        content_type="application/json;charset=utf-8",
    )


@dataclass
class FakeHuawei:
    """IAM password grant + SWR CreateSecret, with call counts for assertions."""

    server: HTTPServer
    domain: str = "acme"
    user: str = "swr-robot"
    password: str = "robot-password"
    host: str = HOST
    iam_calls: int = 0
    secret_calls: int = 0
    issued_tokens: list[str] = field(default_factory=list)
    refused_tokens: set[str] = field(default_factory=set)
    projects: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def install(self) -> FakeHuawei:
        self.server.expect_request("/v3/auth/tokens", method="POST").respond_with_handler(
            self.iam_tokens
        )
        self.server.expect_request("/v2/manage/utils/secret", method="POST").respond_with_handler(
            self.create_secret
        )
        return self

    @property
    def url(self) -> str:
        return self.server.url_for("/").rstrip("/")

    def iam_tokens(self, request: Request) -> Response:
        with self._lock:
            self.iam_calls += 1
        body = request.get_json(silent=True) or {}
        try:
            auth = body["auth"]
            user = auth["identity"]["password"]["user"]
            ok = (
                auth["identity"]["methods"] == ["password"]
                and user["domain"]["name"] == self.domain
                and user["name"] == self.user
                and user["password"] == self.password
                and auth["scope"]["project"]["name"]
            )
        except (KeyError, TypeError):
            ok = False
        if not ok:
            return Response(swr_error_body(401, "0000", "Authentication failed"), status=401)
        token = "MII" + secrets.token_urlsafe(48)
        self.issued_tokens.append(token)
        expires = (datetime.now(UTC) + timedelta(hours=24)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        return Response(
            json.dumps({"token": {"expires_at": expires, "methods": ["password"]}}),
            status=201,
            headers={"X-Subject-Token": token},
            content_type="application/json",
        )

    def create_secret(self, request: Request) -> Response:
        with self._lock:
            self.secret_calls += 1
        if not (request.content_type or "").startswith("application/json"):
            return Response(swr_error_body(400, "1036", "Invalid Content-Type"), status=400)
        token = request.headers.get("X-Auth-Token", "")
        if token not in self.issued_tokens or token in self.refused_tokens:
            return Response(swr_error_body(401, "0000", "Authentication failed"), status=401)
        self.projects.append(request.args.get("projectname", ""))
        return secret_response(
            "cn-north-4@" + secrets.token_hex(10).upper(), secrets.token_hex(32), self.host
        )
