"""Access keys (AK/SK), as Huawei IAM's "My Credentials › Access Keys": what the official SDKs
sign API requests with.

Unlike a registry password, the secret key cannot be kept as a digest: checking an
SDK-HMAC-SHA256 signature means computing the same HMAC with the secret itself. So it is stored
encrypted (Fernet, keys from ACCESS_KEY_ENCRYPTION_KEYS, never SECRET_KEY), decrypted only to
check a signature, and shown once, in the CSV downloaded at creation (docs/DECISIONS.md).
"""

from __future__ import annotations

import functools
import secrets
import string
import uuid
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.db import models, transaction
from django.dispatch import receiver
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from credentials.models.audit import AuditEvent
from credentials.models.base import Actor, ConsoleError
from credentials.models.users import User

_KEY_ID_ALPHABET = string.ascii_uppercase + string.digits
_SECRET_ALPHABET = string.ascii_letters + string.digits
ACCESS_KEY_ID_LENGTH = 20  # Huawei's AKs: 20 uppercase letters and digits
SECRET_KEY_LENGTH = 40  # and SKs: 40 letters and digits

FEDERATED_ACCESS_KEY_MESSAGE = _(
    "Federated users cannot create or use access keys, as on Huawei Cloud, where a federated "
    "user has no long-term credentials. Use a temporary credential instead."
)


@functools.cache
def _box() -> MultiFernet:
    """The first key encrypts; every key decrypts (rotation: put the new key first)."""
    keys = settings.ACCESS_KEY_ENCRYPTION_KEYS
    try:
        return MultiFernet([Fernet(key) for key in keys])
    except (ValueError, TypeError) as exc:
        raise ImproperlyConfigured(
            "ACCESS_KEY_ENCRYPTION_KEYS must be Fernet keys (32 url-safe base64-encoded bytes), "
            "comma-separated, newest first."
        ) from exc


@receiver(setting_changed)
def _forget_box(setting: str, **kwargs: Any) -> None:
    if setting == "ACCESS_KEY_ENCRYPTION_KEYS":
        _box.cache_clear()


def looks_like_access_key_id(text: str) -> bool:
    """Whether `text` has the shape of an access key id (20 uppercase letters and digits)."""
    return len(text) == ACCESS_KEY_ID_LENGTH and all(c in _KEY_ID_ALPHABET for c in text)


def encrypt_secret(secret_key: str) -> str:
    return _box().encrypt(secret_key.encode()).decode()


def decrypt_secret(ciphertext: str) -> str | None:
    """What encrypt_secret encrypted; None if no configured key decrypts it."""
    try:
        return _box().decrypt(ciphertext.encode()).decode()
    except InvalidToken:
        return None


class AccessKeyQuerySet(models.QuerySet["AccessKey"]):
    def for_user(self, user: User) -> AccessKeyQuerySet:
        return self.filter(user=user)

    def for_signature(self, access_key_id: str) -> AccessKey | None:
        """The key named in a signed request, with its user: one indexed lookup."""
        # get(), not first(): no ORDER BY for a unique lookup.
        try:
            return self.select_related("user").get(access_key_id=access_key_id)
        except self.model.DoesNotExist:
            return None

    def refusal_for(self, user: User) -> str | None:
        """Why `user` may not create access keys at all, or None: federated users hold none.
        The console asks before offering Create; create_for enforces it."""
        return str(FEDERATED_ACCESS_KEY_MESSAGE) if user.is_federated else None

    def create_for(self, *, user: User, by: Actor) -> tuple[AccessKey, str]:
        """A new enabled key and its secret key, which leaves the server only in the answer.

        At most ACCESS_KEYS_PER_USER per user (Huawei: 2); federated users have none. The
        user's row is locked so that two concurrent creates cannot both pass the limit.
        """
        refusal = self.refusal_for(user)
        if refusal is not None:
            raise ConsoleError(refusal)
        limit = settings.ACCESS_KEYS_PER_USER
        secret_key = "".join(secrets.choice(_SECRET_ALPHABET) for _ in range(SECRET_KEY_LENGTH))
        with transaction.atomic():
            User.objects.select_for_update().filter(pk=user.pk).first()
            if self.filter(user=user).count() >= limit:
                raise ConsoleError(
                    str(
                        _(
                            "You already have %(limit)d access keys, the most allowed. "
                            "Delete one you no longer use first."
                        )
                        % {"limit": limit}
                    )
                )
            key = self.create(
                user=user,
                access_key_id="".join(
                    secrets.choice(_KEY_ID_ALPHABET) for _ in range(ACCESS_KEY_ID_LENGTH)
                ),
                secret_ciphertext=encrypt_secret(secret_key),
            )
            AuditEvent.record(AuditEvent.Action.ACCESS_KEY_CREATED, by, **key.audit_fields())
        return key, secret_key


class AccessKey(models.Model):
    public_id = models.UUIDField(_("public id"), default=uuid.uuid4, unique=True, editable=False)
    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="access_keys", verbose_name=_("user")
    )
    # Unique, so its index is the one lookup a signed request makes.
    access_key_id = models.CharField(
        _("access key ID"), max_length=ACCESS_KEY_ID_LENGTH, unique=True
    )
    # Fernet token of the secret key; never shown, logged or exported (see the module doc).
    secret_ciphertext = models.TextField(_("secret ciphertext"), editable=False)
    is_enabled = models.BooleanField(_("enabled"), default=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    objects = AccessKeyQuerySet.as_manager()

    class Meta:
        verbose_name = _("access key")
        verbose_name_plural = _("access keys")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.access_key_id

    @property
    def status_label(self) -> str:
        return str(_("Enabled")) if self.is_enabled else str(_("Disabled"))

    def secret_key(self) -> str | None:
        """The secret key, to check a signature with; None if no configured key decrypts it."""
        return decrypt_secret(self.secret_ciphertext)

    def audit_fields(self) -> dict[str, Any]:
        # The access key ID names the key in the trail; it is not a secret (it is sent in
        # every signed request's Authorization header).
        return {"username": self.access_key_id, "access_key": str(self.public_id)}

    def _set_enabled(self, enabled: bool, by: Actor, action: str) -> bool:
        if self.is_enabled == enabled:
            return False
        with transaction.atomic():
            self.is_enabled = enabled
            self.save(update_fields=["is_enabled"])
            AuditEvent.record(action, by, **self.audit_fields())
        return True

    def disable(self, *, by: Actor) -> bool:
        """Signed requests with this key are refused from now on. False if it already was."""
        return self._set_enabled(False, by, AuditEvent.Action.ACCESS_KEY_DISABLED)

    def enable(self, *, by: Actor) -> bool:
        return self._set_enabled(True, by, AuditEvent.Action.ACCESS_KEY_ENABLED)

    def delete_by(self, *, by: Actor) -> None:
        with transaction.atomic():
            AuditEvent.record(AuditEvent.Action.ACCESS_KEY_DELETED, by, **self.audit_fields())
            self.delete()
