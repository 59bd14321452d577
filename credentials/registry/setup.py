"""How a registry points at this console: the four values of a CNCF Distribution registry's
`auth: token:` section. The registry overview shows them to administrators and
`manage.py registry_setup` prints them (`make run` does, before serving)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.urls import reverse

from credentials.models import Registry


@dataclass(frozen=True)
class TokenAuth:
    """A registry's token-auth settings: `realm` is where clients get tokens (this console's
    /service/token, absolute), `service` the registry's address as the console knows it,
    `issuer` REGISTRY_TOKEN_ISSUER, `rootcertbundle` REGISTRY_TOKEN_CERT_FILE."""

    realm: str
    service: str
    issuer: str
    rootcertbundle: str

    @classmethod
    def for_registry(cls, registry: Registry, console_url: str) -> TokenAuth:
        """`console_url` is the console's base as clients reach it (`http://127.0.0.1:8000`)."""
        return cls(
            realm=console_url.rstrip("/") + reverse("registry_token"),
            service=registry.address,
            issuer=settings.REGISTRY_TOKEN_ISSUER,
            rootcertbundle=str(Path(settings.REGISTRY_TOKEN_CERT_FILE).resolve()),
        )

    @property
    def certificate_exists(self) -> bool:
        return Path(self.rootcertbundle).is_file()

    def config(self) -> str:
        """The `auth:` section of the registry's config.yml, ready to paste. Each value is
        double-quoted (a JSON string is a YAML scalar), so no address or path needs escaping."""
        values = {
            "realm": self.realm,
            "service": self.service,
            "issuer": self.issuer,
            "rootcertbundle": self.rootcertbundle,
        }
        lines = [f"    {name}: {json.dumps(value)}" for name, value in values.items()]
        return "\n".join(["auth:", "  token:", *lines])
