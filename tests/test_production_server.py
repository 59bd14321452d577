"""gunicorn with the production settings: health, static files, security headers and CSP."""

from __future__ import annotations

import re
import signal
import time
from collections.abc import Iterator

import pytest
import requests

from credentials.models import Registry, User
from tests.servers import Gunicorn, console_headers, gunicorn, session_cookie_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def server(token_keys: tuple[str, str]) -> Iterator[Gunicorn]:
    key, cert = token_keys
    with gunicorn(
        "production", REGISTRY_TOKEN_KEY_FILE=key, REGISTRY_TOKEN_CERT_FILE=cert
    ) as running:
        yield running


HTTPS = {"X-Forwarded-Proto": "https"}


def test_healthz_answers_over_plain_http_while_https_is_enforced(server: Gunicorn) -> None:
    health = requests.get(f"{server.url}/healthz", timeout=10, allow_redirects=False)
    assert health.status_code == 200
    assert health.json()["database"] == "up"
    page = requests.get(f"{server.url}/accounts/login/", timeout=10, allow_redirects=False)
    assert page.status_code == 301
    assert page.headers["Location"].startswith("https://")


def test_console_pages_carry_the_security_headers_and_csp(server: Gunicorn) -> None:
    page = requests.get(f"{server.url}/accounts/login/", headers=HTTPS, timeout=10)
    assert page.status_code == 200
    headers = page.headers
    assert headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    csp = dict(
        part.strip().split(" ", 1)
        for part in headers["Content-Security-Policy"].split(";")
        if part.strip()
    )
    assert csp["script-src"] == "'self'"
    assert csp["style-src"] == "'self'"
    assert csp["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in headers["Content-Security-Policy"]
    cookie = headers["Set-Cookie"]
    assert "csrftoken=" in cookie
    assert "Secure" in cookie
    assert "HttpOnly" in cookie


def test_static_files_have_hashed_names_and_far_future_caching(server: Gunicorn) -> None:
    page = requests.get(f"{server.url}/accounts/login/", headers=HTTPS, timeout=10).text
    css = re.search(r'href="(/static/css/console\.[0-9a-f]{12}\.css)"', page)
    assert css, page[:1000]
    response = requests.get(
        f"{server.url}{css.group(1)}", headers={**HTTPS, "Accept-Encoding": "gzip"}, timeout=10
    )
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "max-age=315360000, public, immutable"
    assert response.headers["Content-Encoding"] == "gzip"
    assert "text/css" in response.headers["Content-Type"]
    script = re.search(r'src="(/static/js/console\.[0-9a-f]{12}\.js)"', page)
    assert script
    assert (
        requests.get(f"{server.url}{script.group(1)}", headers=HTTPS, timeout=10).status_code == 200
    )


def test_the_access_log_is_json_without_query_strings(server: Gunicorn) -> None:
    requests.get(f"{server.url}/healthz?token=sekrit-value", timeout=10)
    lines = [line for line in server.log_text().splitlines() if '"gunicorn.access"' in line]
    assert any('"path": "/healthz"' in line for line in lines), lines
    assert "sekrit-value" not in server.log_text()


def test_a_console_page_works_behind_the_proxy(
    server: Gunicorn, owner: User, registry: Registry
) -> None:
    headers = console_headers(session_cookie_for(owner), https=True)
    url = f"{server.url}/registries/{registry.public_id}/access-credentials/long-term/"
    response = requests.get(url, headers=headers, timeout=10, allow_redirects=False)
    assert response.status_code == 200
    assert "Create Long-Term Credential" in response.text


def test_sigterm_drains_the_replica_then_it_exits_within_the_graceful_timeout(
    token_keys: tuple[str, str],
) -> None:
    key, cert = token_keys
    with gunicorn(
        "drain",
        REGISTRY_TOKEN_KEY_FILE=key,
        REGISTRY_TOKEN_CERT_FILE=cert,
        DRAIN_SECONDS="3",
        GRACEFUL_TIMEOUT="8",
    ) as server:
        signalled = time.monotonic()
        server.process.send_signal(signal.SIGTERM)
        deadline = signalled + 3
        while (health := requests.get(f"{server.url}/healthz", timeout=3)).status_code == 200:
            assert time.monotonic() < deadline, "/healthz did not turn 503 after SIGTERM"
        # The load balancer's checks see it draining while requests are still served.
        assert health.status_code == 503
        assert health.json() == {"status": "draining"}
        assert requests.get(f"{server.url}/ping", headers=HTTPS, timeout=3).status_code == 200
        assert server.process.wait(timeout=15) == 0
        stopped_after = time.monotonic() - signalled
    assert 3 <= stopped_after < 8, stopped_after
    assert "draining for 3 s" in server.log_text()
    assert "Service Unavailable: /healthz" not in server.log_text()  # planned, not an error
