"""Trusted proxies: the client address they forward, and single sign-on by their header."""

from __future__ import annotations

import ipaddress

from django.test import Client, override_settings
from django.urls import reverse

from credentials.models import AuditEvent, Registry, User


@override_settings(TRUSTED_PROXY_NETWORKS=[ipaddress.ip_network("127.0.0.0/8")])
def test_a_trusted_proxy_forwards_the_client_address(owner: User, registry: Registry) -> None:
    client = Client(HTTP_X_FORWARDED_FOR="203.0.113.9, 127.0.0.1")
    client.force_login(owner)
    client.post(reverse("create_long_term", args=[registry.public_id]), {"name": "via-proxy"})
    assert AuditEvent.objects.get(action="long_term.created").ip_address == "203.0.113.9"


def test_forwarded_for_from_anyone_else_is_ignored(owner: User, registry: Registry) -> None:
    client = Client(HTTP_X_FORWARDED_FOR="203.0.113.9")
    client.force_login(owner)
    client.post(reverse("create_long_term", args=[registry.public_id]), {"name": "direct"})
    assert AuditEvent.objects.get(action="long_term.created").ip_address == "127.0.0.1"


SSO = {
    "SSO_HEADER": "X-Forwarded-User",
    "TRUSTED_PROXY_NETWORKS": [ipaddress.ip_network("127.0.0.1/32")],
}


def _sso_settings(settings) -> None:
    for key, value in SSO.items():
        setattr(settings, key, value)
    settings.MIDDLEWARE = [
        *settings.MIDDLEWARE[
            : settings.MIDDLEWARE.index("django.contrib.auth.middleware.AuthenticationMiddleware")
            + 1
        ],
        "credentials.middleware.TrustedHeaderSSOMiddleware",
        *settings.MIDDLEWARE[
            settings.MIDDLEWARE.index("django.contrib.auth.middleware.AuthenticationMiddleware")
            + 1 :
        ],
    ]
    settings.AUTHENTICATION_BACKENDS = [
        "credentials.security.auth.ThrottledModelBackend",
        "credentials.security.auth.FederatedRemoteUserBackend",
    ]


def test_sso_signs_in_a_federated_user_from_a_trusted_proxy(settings, registry: Registry) -> None:
    _sso_settings(settings)
    response = Client().get("/", HTTP_X_FORWARDED_USER="sara")
    assert response.status_code == 200
    user = User.objects.get(username="sara")
    assert user.is_federated
    page = (
        Client()
        .get(reverse("long_term_tab", args=[registry.public_id]), HTTP_X_FORWARDED_USER="sara")
        .content.decode()
    )
    assert "Federated users cannot create or use long-term credentials" in page


def test_sso_header_from_an_untrusted_address_is_ignored(settings, db: None) -> None:
    _sso_settings(settings)
    response = Client(REMOTE_ADDR="198.51.100.7").get("/", HTTP_X_FORWARDED_USER="mallory")
    assert response.status_code == 302
    assert not User.objects.filter(username="mallory").exists()
