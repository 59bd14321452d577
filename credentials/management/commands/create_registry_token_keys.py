from __future__ import annotations

import datetime
import os
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = (
        "Create the ES256 key and self-signed certificate that sign registry tokens "
        "(REGISTRY_TOKEN_KEY_FILE, REGISTRY_TOKEN_CERT_FILE). Keeps existing files."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--key", default=settings.REGISTRY_TOKEN_KEY_FILE)
        parser.add_argument("--cert", default=settings.REGISTRY_TOKEN_CERT_FILE)
        parser.add_argument("--days", type=int, default=3650)
        parser.add_argument("--force", action="store_true", help="Replace existing files.")

    def handle(
        self, *args: Any, key: str, cert: str, days: int, force: bool, **options: Any
    ) -> None:
        key_path, cert_path = Path(key), Path(cert)
        if key_path.exists() and cert_path.exists() and not force:
            self.stdout.write(f"Keeping the existing key pair {key_path} and {cert_path}.")
            return
        if key_path.exists() != cert_path.exists() and not force:
            raise CommandError(f"Only one of {key_path} and {cert_path} exists; use --force.")

        private_key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, settings.REGISTRY_TOKEN_ISSUER)])
        now = datetime.datetime.now(datetime.UTC)
        certificate = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(private_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(private_key, hashes.SHA256())
        )
        key_path.parent.mkdir(parents=True, exist_ok=True)
        cert_path.parent.mkdir(parents=True, exist_ok=True)
        pem = private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        descriptor = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(pem)
        cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
        self.stdout.write(
            f"Wrote {key_path} (private, mode 600) and {cert_path}.\n"
            "Give the certificate to the registry as auth.token.rootcertbundle "
            f"with issuer {settings.REGISTRY_TOKEN_ISSUER!r} (see docs/REGISTRY.md)."
        )
