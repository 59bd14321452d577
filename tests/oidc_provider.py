"""A real OpenID Provider (npm's oidc-provider, tests/oidc/server.mjs) on loopback ports.

`make test` installs it (scripts/test.sh: npm ci --prefix tests/oidc). Use the `oidc_provider`
fixture, or `running_provider(...)` for one of a test's own. A missing node or package fails
the test with what to do; it never skips.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.servers import ARTIFACTS, stop

DIRECTORY = Path(__file__).resolve().parent / "oidc"
CLIENT_ID = "swr-console"
CLIENT_SECRET = "swr-console-test-secret"


@dataclass
class OidcProvider:
    """The provider's issuer URL and its loopback admin API (tests/oidc/server.mjs)."""

    issuer: str
    admin: str
    process: subprocess.Popen
    log: Path
    client_id: str = CLIENT_ID
    client_secret: str = CLIENT_SECRET

    def put_user(self, login: str, *, groups: list[str], **claims: str) -> None:
        claims.setdefault("preferred_username", login)
        claims.setdefault("email", f"{login}@example.com")
        claims.setdefault("name", login.title())
        self._call("PUT", f"/users/{login}", {**claims, "groups": groups})

    def remove_user(self, login: str) -> None:
        self._call("DELETE", f"/users/{login}")

    def users(self) -> dict[str, dict]:
        return self._call("GET", "/users")

    def tamper(
        self, *, claims: dict | None = None, remove: tuple[str, ...] = (), unknown_key: bool = False
    ) -> None:
        """Every ID token from now on re-signed with `claims` changed (or by an unknown key)."""
        self._call(
            "PUT",
            "/tamper",
            {"claims": claims or {}, "remove": list(remove), "unknown_key": unknown_key},
        )

    def stop_tampering(self) -> None:
        self._call("DELETE", "/tamper")

    def _call(self, method: str, path: str, body: dict | None = None) -> dict:
        answer = requests.request(method, self.admin + path, json=body, timeout=10)
        answer.raise_for_status()
        return answer.json()


def _require_node() -> str:
    node = shutil.which("node")
    if not node:
        pytest.fail(
            "Node.js is needed for the OpenID Connect tests (the test provider is npm's "
            "oidc-provider) and `node` was not found. Install Debian's nodejs and npm; "
            "`make test` installs them as root.",
            pytrace=False,
        )
    if not (DIRECTORY / "node_modules" / "oidc-provider" / "package.json").exists():
        pytest.fail(
            f"The test OpenID provider is not installed in {DIRECTORY / 'node_modules'}. "
            "`make test` installs it (npm ci --prefix tests/oidc); or run that command.",
            pytrace=False,
        )
    return node


@contextmanager
def running_provider(
    console_url: str, name: str = "oidc-provider", *, redirect_uris: tuple[str, ...] = ()
) -> Iterator[OidcProvider]:
    """tests/oidc/server.mjs, its client redirecting to `console_url`/oidc/callback/."""
    node = _require_node()
    ARTIFACTS.mkdir(exist_ok=True)
    log = ARTIFACTS / f"{name}.log"
    console = console_url.rstrip("/")
    env = {
        **os.environ,
        "OIDC_TEST_CLIENT_ID": CLIENT_ID,
        "OIDC_TEST_CLIENT_SECRET": CLIENT_SECRET,
        "OIDC_TEST_REDIRECT_URIS": " ".join((f"{console}/oidc/callback/", *redirect_uris)),
        "OIDC_TEST_POST_LOGOUT_URIS": f"{console}/ {console}/accounts/login/",
        "NODE_ENV": "test",
    }
    with log.open("w") as stderr:
        process = subprocess.Popen(
            [node, str(DIRECTORY / "server.mjs")],
            stdout=subprocess.PIPE,
            stderr=stderr,
            env=env,
            text=True,
        )
    try:
        line = process.stdout.readline()  # the server's one line once it listens (or EOF)
        if not line:
            process.wait(timeout=10)
            pytest.fail(f"the test OpenID provider exited:\n{log.read_text(errors='replace')}")
        addresses = json.loads(line)
        yield OidcProvider(addresses["issuer"], addresses["admin"], process, log)
    finally:
        stop(process, timeout=10)


CONSOLE = "http://testserver"  # Django's test client


def use_provider(settings: Any, provider: OidcProvider) -> None:
    """The console signs in with `provider` (pytest-django's `settings`): "Example SSO", its
    swr-admins and swr-auditors groups giving the roles."""
    from swrconsole.environment import OidcSettings

    settings.OIDC = OidcSettings(
        issuer=provider.issuer,
        client_id=provider.client_id,
        client_secret=provider.client_secret,
        provider_name="Example SSO",
        admin_groups=frozenset({"swr-admins"}),
        auditor_groups=frozenset({"swr-auditors"}),
    )
    settings.AUTHENTICATION_BACKENDS = [
        "credentials.security.auth.ThrottledModelBackend",
        "credentials.security.auth.OidcBackend",
    ]


def at_provider(start: Any, login: str) -> str:
    """Sign in at the provider as `login` from the console's redirect (`start`, a response);
    the console's callback path, with its query."""
    browser = requests.Session()
    page = browser.get(start["Location"], timeout=10)
    assert "/interaction/" in page.url, page.text[:300]
    answer = browser.post(
        page.url,  # the development login form posts to its own address
        data={"prompt": "login", "login": login, "password": "any"},
        allow_redirects=False,
        timeout=10,
    )
    while not answer.headers["location"].startswith(CONSOLE):
        location = answer.headers["location"]
        if location.startswith("/"):
            location = start["Location"].split("/auth")[0] + location
        answer = browser.get(location, allow_redirects=False, timeout=10)
    return answer.headers["location"].removeprefix(CONSOLE)


def sign_in(client: Any, login: str, **headers: str) -> Any:
    """`client` (Django's test client) signed in through the provider as `login`: the
    callback's response."""
    start = client.get("/oidc/login/", headers=headers)
    assert start.status_code == 302, start.content.decode()[:500]
    return client.get(at_provider(start, login), headers=headers)


@pytest.fixture(scope="module")
def oidc_provider(request: pytest.FixtureRequest) -> Iterator[OidcProvider]:
    """One provider per test module, redirecting to the module's `oidc_console_url` (default
    http://testserver, Django's test client)."""
    console_url = getattr(request.module, "OIDC_CONSOLE_URL", "http://testserver")
    with running_provider(
        console_url, f"oidc-provider-{request.module.__name__.rsplit('.', 1)[-1]}"
    ) as provider:
        yield provider
