"""How swrconsole/settings.py reads the environment: django-environ, refusing at start what it
cannot read (ImproperlyConfigured naming the variable), with secrets that may come from files.
"""

from __future__ import annotations

import ipaddress
import ssl
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured

from swrconsole import rates

# Settings that hold secrets (or URLs that may carry a password). Each may instead be given as
# <NAME>_FILE, the path of a file holding the value (Docker and Kubernetes secrets).
SECRETS = (
    "SECRET_KEY",
    "CREDENTIAL_HASH_KEY",
    "ACCESS_KEY_ENCRYPTION_KEYS",
    "DATABASE_URL",
    "DATABASE_OWNER_URL",
    "CACHE_URL",
    "SWR_AUTH_TOKEN",
    "SWR_IAM_PASSWORD",
    "EMAIL_URL",
    "EMAIL_HOST_PASSWORD",
    "METRICS_TOKEN",
    "OIDC_CLIENT_SECRET",
)


class Env(environ.Env):
    """django-environ, refusing what it cannot read instead of guessing: a number names its
    variable (`ROTATION_GRACE_HOURS=abc`; Python's own message would not), and a boolean is
    true/false, yes/no, on/off or 1/0, not any other word read as false
    (`SECURE_SSL_REDIRECT=ture`). The error is the usual one-line configuration error.

    A secret (SECRETS) set as NAME_FILE is read from that file (trailing newlines dropped),
    exactly as written: no `$OTHER` proxying. An empty NAME or NAME_FILE counts as unset (as
    the blank lines of .env.example are); both set is refused."""

    BOOLEAN_FALSE_STRINGS = ("false", "off", "no", "n", "0", "")

    EXPECTED = {int: "a whole number", float: "a number", bool: "true or false"}

    def __init__(self, **scheme: Any) -> None:
        super().__init__(**scheme)
        self.from_files: dict[str, str] = {}

    def read_secret_files(self) -> None:
        """Read every NAME_FILE given; refuse NAME and NAME_FILE together, and a file that
        cannot be read (named, its content never shown)."""
        for name in SECRETS:
            path = self.ENVIRON.get(f"{name}_FILE", "")
            if not path:
                continue
            if self.ENVIRON.get(name, ""):
                raise ImproperlyConfigured(
                    f"{name} and {name}_FILE are both set: keep one (the file, for a secret)."
                )
            try:
                text = Path(path).read_text(encoding="utf-8")
            except OSError as exc:
                reason = exc.strerror or type(exc).__name__
                raise ImproperlyConfigured(f"{name}_FILE: cannot read {path} ({reason}).") from None
            except UnicodeDecodeError:  # its message would quote the file's bytes
                raise ImproperlyConfigured(f"{name}_FILE: {path} is not UTF-8 text.") from None
            self.from_files[name] = text.rstrip("\r\n")

    @classmethod
    def parse_value(cls, value: Any, cast: Any) -> Any:
        if cast is bool and isinstance(value, str):
            word = value.strip().lower()
            if word not in cls.BOOLEAN_TRUE_STRINGS + cls.BOOLEAN_FALSE_STRINGS:
                raise ValueError(word)
        return super().parse_value(value, cast)

    def get_value(
        self, var: str, cast: Any = None, default: Any = environ.Env.NOTSET, **kwargs: Any
    ) -> Any:
        try:
            if var in self.from_files:
                value = self.from_files[var]
                return value if cast is None else self.parse_value(value, cast)
            return super().get_value(var, cast=cast, default=default, **kwargs)
        except ValueError as exc:
            if cast in (int, float, bool):  # a number or a word: safe to show
                expected = self.EXPECTED[cast]
                message = f"{var} must be {expected}, not {self.ENVIRON.get(var, '')!r}."
            else:  # a URL may carry a password: named, not shown
                message = f"{var} cannot be read ({type(exc).__name__})."
            raise ImproperlyConfigured(message) from exc

    def rate(self, var: str, default: str) -> str:
        """A rate string such as 10/15m (swrconsole/rates.py), refused at start if unreadable."""
        value = self.str(var, default=default).strip()
        try:
            rates.parse(value)
        except ValueError:
            raise ImproperlyConfigured(
                f"{var} must be a rate ({rates.FORMS}), not {value!r}."
            ) from None
        return value

    def positive_int(self, var: str, default: int) -> int:
        """A whole number of 1 or more (a limit: 0 or less would refuse everything)."""
        value = self.int(var, default=default)
        if value < 1:
            raise ImproperlyConfigured(f"{var} must be 1 or more, not {value}.")
        return value

    def graceful_stop(self) -> tuple[int, int]:
        """GRACEFUL_TIMEOUT and DRAIN_SECONDS (swrconsole/gunicorn_worker.py), whole seconds:
        the drain is part of the timeout, so it must be shorter."""
        timeout = self.positive_int("GRACEFUL_TIMEOUT", default=30)
        drain = self.int("DRAIN_SECONDS", default=5)
        if not 0 <= drain < timeout:
            raise ImproperlyConfigured(
                f"DRAIN_SECONDS must be 0 or more and less than GRACEFUL_TIMEOUT ({timeout}), "
                f"not {drain}."
            )
        return timeout, drain

    def networks(
        self, var: str, default: list[str]
    ) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
        """A comma-separated list of addresses or CIDR networks (10.0.0.0/8, ::1); an address
        is a network of one. Empty: none."""
        items = [item.strip() for item in self.list(var, default=default) if item.strip()]
        try:
            return [ipaddress.ip_network(item, strict=False) for item in items]
        except ValueError as exc:
            raise ImproperlyConfigured(f"{var}: {exc}") from None

    def choices(self, var: str, allowed: tuple[str, ...], default: list[str]) -> list[str]:
        """A comma-separated list of one or more of `allowed` (spaces around items ignored)."""
        items = [item.strip() for item in self.list(var, default=default)]
        items = [item for item in items if item]
        unknown = [item for item in items if item not in allowed]
        if unknown or not items:
            raise ImproperlyConfigured(
                f"{var} must list one or more of {', '.join(allowed)} (comma-separated), "
                f"not {','.join(items)!r}."
            )
        return items

    def syslog_url(self, var: str) -> str:
        """A syslog receiver, tcp://host:port or tls://host:port (nothing else in it), or ""."""
        value = self.str(var, default="").strip()
        if not value:
            return ""
        shown = repr(value) if "@" not in value else "a URL with a user part"
        try:
            parts = urlsplit(value)
            port = parts.port
        except ValueError:
            parts, port = None, None
        if (
            parts is None
            or parts.scheme not in ("tcp", "tls")
            or not parts.hostname
            or not port
            or parts.username is not None
            or parts.path not in ("", "/")
            or parts.query
            or parts.fragment
        ):
            raise ImproperlyConfigured(
                f"{var} must be tcp://host:port or tls://host:port (port 1-65535), not {shown}."
            )
        return value

    def syslog_ca_file(self, var: str, url: str) -> str:
        """The CA certificates (PEM) a tls:// receiver's certificate is checked against, or ""
        (the system's). Refused unless the file reads as certificates, and with a tcp:// URL."""
        path = self.str(var, default="").strip()
        if not path:
            return ""
        if not url.startswith("tls://"):
            raise ImproperlyConfigured(f"{var} is set but the receiver's URL is not tls://.")
        try:
            ssl.create_default_context(cafile=path)
        except ssl.SSLError:
            raise ImproperlyConfigured(f"{var}: {path} holds no PEM certificate.") from None
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            raise ImproperlyConfigured(f"{var}: cannot read {path} ({reason}).") from None
        return path

    def sign_in(self) -> tuple[OidcSettings, bool]:
        """Sign-in with an OpenID Connect provider (off without OIDC_ISSUER), and LOCAL_LOGIN:
        whether the password form is offered to everyone (false: to the break-glass superuser
        only, at /accounts/login/local/). Refused at start: a value that cannot work."""
        issuer = self.str("OIDC_ISSUER", default="").strip().rstrip("/")
        local_login = self.bool("LOCAL_LOGIN", default=True)
        renew = self.positive_int("OIDC_RENEW_SECONDS", default=900)
        if not issuer:
            if not local_login:
                raise ImproperlyConfigured(
                    "LOCAL_LOGIN=false needs OIDC_ISSUER: without a provider nobody but the "
                    "break-glass superuser could sign in."
                )
            return OidcSettings(renew_seconds=renew), True
        parts = urlsplit(issuer)
        loopback = parts.hostname in ("127.0.0.1", "::1", "localhost")
        if parts.scheme not in ("https", "http" if loopback else "https") or parts.query:
            raise ImproperlyConfigured(
                f"OIDC_ISSUER must be the provider's https:// URL (no query), not {issuer!r}."
            )
        client_id = self.str("OIDC_CLIENT_ID", default="").strip()
        if not client_id:
            raise ImproperlyConfigured("OIDC_CLIENT_ID must be set with OIDC_ISSUER.")
        scopes = tuple(self.str("OIDC_SCOPES", default="openid email profile").split())
        if "openid" not in scopes:
            raise ImproperlyConfigured(
                f"OIDC_SCOPES must include openid, not {' '.join(scopes)!r}."
            )
        groups_claim = self.str("OIDC_GROUPS_CLAIM", default="groups").strip()
        name = self.str("OIDC_PROVIDER_NAME", default="").strip()
        if not groups_claim or len(name) > 60:
            raise ImproperlyConfigured(
                "OIDC_GROUPS_CLAIM must name a claim, and OIDC_PROVIDER_NAME be at most 60 "
                "characters."
            )

        def groups(var: str) -> frozenset[str]:
            return frozenset(item.strip() for item in self.list(var, default=[]) if item.strip())

        return OidcSettings(
            issuer=issuer,
            client_id=client_id,
            client_secret=self.str("OIDC_CLIENT_SECRET", default=""),
            scopes=scopes,
            provider_name=name or "OpenID Connect",
            groups_claim=groups_claim,
            admin_groups=groups("OIDC_ADMIN_GROUPS"),
            auditor_groups=groups("OIDC_AUDITOR_GROUPS"),
            renew_seconds=renew,
        ), local_login


@dataclass(frozen=True)
class OidcSettings:
    """settings.OIDC: the OpenID Connect provider the console signs users in with (README
    "Signing in with an identity provider"); `issuer` empty: none."""

    issuer: str = ""
    client_id: str = ""
    client_secret: str = field(default="", repr=False)
    scopes: tuple[str, ...] = ("openid", "email", "profile")
    provider_name: str = "OpenID Connect"
    groups_claim: str = "groups"
    admin_groups: frozenset[str] = frozenset()
    auditor_groups: frozenset[str] = frozenset()
    renew_seconds: int = 900

    @property
    def enabled(self) -> bool:
        return bool(self.issuer)
