"""The token signing key pair (REGISTRY_TOKEN_KEY_FILE, REGISTRY_TOKEN_CERT_FILE), read once
per process, and the key id Distribution derives from it."""

from __future__ import annotations

import base64
import functools
import hashlib
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


@dataclass(frozen=True)
class SigningKey:
    private_key: Any
    certificate_der: bytes
    kid: str


@functools.cache
def load_signing_key(key_file: str, cert_file: str) -> SigningKey:
    """The token signing key and its certificate, read once per path pair."""
    try:
        with open(key_file, "rb") as handle:
            private_key = serialization.load_pem_private_key(handle.read(), password=None)
        with open(cert_file, "rb") as handle:
            certificate = x509.load_pem_x509_certificate(handle.read())
    except (OSError, ValueError) as exc:
        raise ImproperlyConfigured(
            f"Cannot read the registry token key pair ({key_file}, {cert_file}): {exc}. "
            "Create one with `manage.py create_registry_token_keys`."
        ) from exc
    public_der = certificate.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return SigningKey(
        private_key=private_key,
        certificate_der=certificate.public_bytes(serialization.Encoding.DER),
        kid=libtrust_key_id(public_der),
    )


def libtrust_key_id(public_key_der: bytes) -> str:
    """The key id Distribution derives from a public key (libtrust's fingerprint format)."""
    digest = hashlib.sha256(public_key_der).digest()[:30]
    encoded = base64.b32encode(digest).decode().rstrip("=")
    return ":".join(encoded[i : i + 4] for i in range(0, 48, 4))


def current_signing_key() -> SigningKey:
    return load_signing_key(settings.REGISTRY_TOKEN_KEY_FILE, settings.REGISTRY_TOKEN_CERT_FILE)
