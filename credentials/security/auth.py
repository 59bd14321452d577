"""Authentication backends: passwords with failed-attempt limits, and trusted-proxy SSO."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.backends import BaseBackend, ModelBackend, RemoteUserBackend
from django.core.exceptions import ValidationError
from django.http import HttpRequest

from credentials.models import User
from credentials.security import throttling


class SignedInUserLookup:
    """How a session finds its user, on every console request: one query written out.

    The ORM spends longer compiling `get(pk=...)` than PostgreSQL spends answering it
    (docs/PERFORMANCE.md); the answer is the same model instance.
    """

    def get_user(self, user_id: Any) -> User | None:
        try:
            pk = User._meta.pk.to_python(user_id)
        except ValidationError:
            return None
        user = User.objects.by_pk(pk)
        return user if user is not None and self.user_can_authenticate(user) else None


class ThrottledModelBackend(SignedInUserLookup, ModelBackend):
    """Django's password check, refused outright once an IP or username has failed too often.

    Failures are counted by the user_login_failed receiver (credentials/signals.py), so the
    console form, the admin and the built-in IAM API share one limit.
    """

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> User | None:
        if request is None:
            return super().authenticate(request, username=username, password=password, **kwargs)
        if not settings.LOCAL_LOGIN and not _is_superuser(username):
            return None  # LOCAL_LOGIN=false: passwords for the break-glass superuser only
        verdict = throttling.check(request, "sign-in", username or "")
        if verdict.throttled:
            # The failure signal that follows writes one audit event per window, not one each.
            request.swr_throttled = True  # type: ignore[attr-defined]
            return None
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is not None and not verdict.known:
            throttling.remember_address(request, "sign-in", username or "")
        return user


class FederatedRemoteUserBackend(SignedInUserLookup, RemoteUserBackend):
    """Users named by the SSO proxy header; created on first sight, and always federated."""

    def configure_user(self, request: HttpRequest, user: User, created: bool = True) -> User:
        if not user.is_federated:
            user.is_federated = True
            user.save(update_fields=["is_federated"])
        return user


class OidcBackend(SignedInUserLookup, BaseBackend):
    """Sessions of users signed in by their OpenID provider (credentials/identity/): it finds
    their user, and authenticates nobody by itself (the callback signs them in)."""

    def user_can_authenticate(self, user: User) -> bool:
        return user.is_active


def _is_superuser(username: str | None) -> bool:
    return User.objects.filter(username=username or "", is_superuser=True).exists()
