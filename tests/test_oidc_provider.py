"""The test OpenID provider itself (tests/oidc/server.mjs): what the sign-in tests rely on."""

from __future__ import annotations

import base64
import hashlib
import secrets
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
import pytest
import requests

from tests.oidc_provider import OidcProvider

pytestmark = pytest.mark.database_independent(reason="a Node server, no database")
CALLBACK = "http://testserver/oidc/callback/"


def sign_in(provider: OidcProvider, login: str) -> dict:
    """The authorization code flow with PKCE, as a browser and a client would: the tokens."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
    browser = requests.Session()
    query = urlencode(
        {
            "client_id": provider.client_id,
            "response_type": "code",
            "redirect_uri": CALLBACK,
            "scope": "openid email profile",
            "state": "the-state",
            "nonce": "the-nonce",
            "code_challenge": challenge.decode(),
            "code_challenge_method": "S256",
        }
    )
    answer = browser.get(f"{provider.issuer}/auth?{query}", allow_redirects=True, timeout=10)
    interaction = answer.url
    answer = browser.post(
        interaction,  # the development login form posts to its own address
        data={"prompt": "login", "login": login, "password": "any"},
        allow_redirects=False,
        timeout=10,
    )
    while answer.is_redirect and not answer.headers["location"].startswith(CALLBACK):
        location = answer.headers["location"]
        if location.startswith("/"):
            location = provider.issuer + location
        answer = browser.get(location, allow_redirects=False, timeout=10)
    callback = parse_qs(urlsplit(answer.headers["location"]).query)
    assert callback["state"] == ["the-state"]
    tokens = requests.post(
        f"{provider.issuer}/token",
        data={
            "grant_type": "authorization_code",
            "code": callback["code"][0],
            "redirect_uri": CALLBACK,
            "code_verifier": verifier,
        },
        auth=(provider.client_id, provider.client_secret),
        timeout=10,
    )
    assert tokens.status_code == 200, tokens.text
    return tokens.json()


def claims(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


def refresh(provider: OidcProvider, refresh_token: str) -> requests.Response:
    return requests.post(
        f"{provider.issuer}/token",
        data={"grant_type": "refresh_token", "refresh_token": refresh_token},
        auth=(provider.client_id, provider.client_secret),
        timeout=10,
    )


def test_the_provider_publishes_discovery_with_an_end_session_endpoint(
    oidc_provider: OidcProvider,
) -> None:
    discovery = requests.get(
        f"{oidc_provider.issuer}/.well-known/openid-configuration", timeout=10
    ).json()
    assert discovery["issuer"] == oidc_provider.issuer
    assert discovery["end_session_endpoint"].startswith(oidc_provider.issuer)
    assert "S256" in discovery["code_challenge_methods_supported"]


def test_a_code_flow_with_pkce_gives_an_id_token_with_the_users_groups(
    oidc_provider: OidcProvider,
) -> None:
    oidc_provider.put_user("dave", groups=["team-a", "team-b"])
    tokens = sign_in(oidc_provider, "dave")
    id_token = claims(tokens["id_token"])
    assert (id_token["sub"], id_token["nonce"], id_token["aud"]) == (
        "dave",
        "the-nonce",
        oidc_provider.client_id,
    )
    assert id_token["groups"] == ["team-a", "team-b"]
    assert tokens["refresh_token"]


def test_a_refresh_carries_changed_groups_and_fails_once_the_user_is_removed(
    oidc_provider: OidcProvider,
) -> None:
    oidc_provider.put_user("erin", groups=["team-a"])
    tokens = sign_in(oidc_provider, "erin")
    oidc_provider.put_user("erin", groups=["team-b"])
    refreshed = refresh(oidc_provider, tokens["refresh_token"])
    assert claims(refreshed.json()["id_token"])["groups"] == ["team-b"]
    oidc_provider.remove_user("erin")
    refused = refresh(oidc_provider, refreshed.json()["refresh_token"])
    assert (refused.status_code, refused.json()["error"]) == (400, "invalid_grant")


def test_tampering_re_signs_the_next_id_tokens_as_asked(oidc_provider: OidcProvider) -> None:
    oidc_provider.put_user("frank", groups=[])
    oidc_provider.tamper(claims={"aud": "someone-else"}, remove=("nonce",), unknown_key=True)
    try:
        tampered = jwt.get_unverified_header(sign_in(oidc_provider, "frank")["id_token"])
        token = claims(sign_in(oidc_provider, "frank")["id_token"])
    finally:
        oidc_provider.stop_tampering()
    assert tampered["kid"] == "unknown-key"
    assert token["aud"] == "someone-else"
    assert "nonce" not in token
    assert claims(sign_in(oidc_provider, "frank")["id_token"])["aud"] == oidc_provider.client_id
