"""Users and groups from an OpenID Connect provider: who a user is there (issuer and subject,
never the e-mail), the refresh token the console re-checks them with, and which groups the
provider's claim made (the only ones a sign-in may add members to or remove them from)."""

from __future__ import annotations

from django.contrib.auth.models import Group
from django.db import models
from django.utils.translation import gettext_lazy as _

from credentials.models.access_keys import decrypt_secret, encrypt_secret
from credentials.models.users import User


class FederatedIdentity(models.Model):
    """A console user's account at an OpenID provider: one per (issuer, subject)."""

    user = models.OneToOneField(
        User, verbose_name=_("user"), on_delete=models.CASCADE, related_name="federated_identity"
    )
    issuer = models.CharField(_("issuer"), max_length=255)
    subject = models.CharField(_("subject"), max_length=255)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    # When the provider last said it still accepts the user (a sign-in or a refresh).
    checked_at = models.DateTimeField(_("checked at"), null=True, blank=True)
    # Secrets of the provider's: encrypted as access keys' are, never shown or logged.
    refresh_token_ciphertext = models.TextField(blank=True, default="", editable=False)
    # The last ID token, sent back as id_token_hint when the user signs out at the provider.
    id_token_ciphertext = models.TextField(blank=True, default="", editable=False)

    class Meta:
        verbose_name = _("federated identity")
        verbose_name_plural = _("federated identities")
        constraints = [
            models.UniqueConstraint(fields=["issuer", "subject"], name="one_user_per_subject")
        ]

    def __str__(self) -> str:
        return f"{self.issuer} {self.subject}"

    @property
    def refresh_token(self) -> str:
        return decrypt_secret(self.refresh_token_ciphertext) or ""

    @refresh_token.setter
    def refresh_token(self, value: str) -> None:
        self.refresh_token_ciphertext = encrypt_secret(value) if value else ""

    @property
    def id_token(self) -> str:
        return decrypt_secret(self.id_token_ciphertext) or ""

    @id_token.setter
    def id_token(self, value: str) -> None:
        self.id_token_ciphertext = encrypt_secret(value) if value else ""


class ProviderGroup(models.Model):
    """A console group that mirrors an OpenID provider's group: created by a sign-in, its
    members kept equal to the users whose claim names it."""

    group = models.OneToOneField(
        Group, verbose_name=_("group"), on_delete=models.CASCADE, related_name="provider"
    )
    issuer = models.CharField(_("issuer"), max_length=255)

    class Meta:
        verbose_name = _("group from the identity provider")
        verbose_name_plural = _("groups from the identity provider")

    def __str__(self) -> str:
        return self.group.name
