"""An ID token's claims to a federated console user, in one transaction, audited.

A user is found by issuer + subject (never by e-mail: a local account with the same address
is not taken over), created on first sign-in with `preferred_username` (made unique),
refreshed at each one. Their groups from the provider become exactly the claim's (groups
created as needed and marked as the provider's; a local group of the same name is never
joined); OIDC_ADMIN_GROUPS make a superuser and OIDC_AUDITOR_GROUPS an auditor, and losing
the group loses the role. Whatever is refused is refused before anything is written."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from credentials.identity.client import Refused
from credentials.models import Actor, AuditEvent, FederatedIdentity, ProviderGroup, User

AUDITORS = "Auditors"
MAX_GROUPS = 200  # more in one token is refused (an ID token that big is a mistake)
GROUP_NAME_MAX = 150  # Django's Group.name
USERNAME_MAX = 150
NOT_IN_USERNAME = re.compile(r"[^\w.@+-]")


@dataclass(frozen=True)
class SignedIn:
    user: User
    identity: FederatedIdentity
    created: bool
    wanted_username: str  # preferred_username, when it was taken and the user got another


def claims_problem(claims: dict[str, Any]) -> Refused | None:
    """What makes the claims unusable (nothing written yet), or None."""
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject or len(subject) > 255:
        return Refused("subject")
    groups = claims.get(settings.OIDC.groups_claim, [])
    if not isinstance(groups, list) or not all(isinstance(name, str) for name in groups):
        return Refused("groups", claim=settings.OIDC.groups_claim)
    if len(groups) > MAX_GROUPS:
        return Refused("groups_too_many", count=len(groups), limit=MAX_GROUPS)
    if any(not name.strip() or len(name) > GROUP_NAME_MAX for name in groups):
        return Refused("groups", claim=settings.OIDC.groups_claim)
    return None


def sign_in(claims: dict[str, Any], token: dict[str, Any], actor: Actor) -> SignedIn:
    """The user these claims name, created or refreshed, with their groups and roles; the
    provider's tokens kept for renewal and sign-out. Refused: nothing changed."""
    problem = claims_problem(claims)
    if problem is not None:
        raise problem
    issuer = settings.OIDC.issuer
    with transaction.atomic():
        identity = (
            FederatedIdentity.objects.select_for_update()
            .select_related("user")
            .filter(issuer=issuer, subject=claims["sub"])
            .first()
        )
        created, wanted = identity is None, ""
        if identity is None:
            username, wanted = _unique_username(claims)
            user = User(username=username, is_federated=True)
            user.set_unusable_password()
            _copy_profile(user, claims)
            user.save()
            identity = FederatedIdentity.objects.create(
                user=user, issuer=issuer, subject=claims["sub"]
            )
        user = identity.user
        if not user.is_active:
            raise Refused("inactive", 403)
        actor = replace(actor, user=user)
        if not created:
            _copy_profile(user, claims)
            user.is_federated = True
            user.save(update_fields=["email", "first_name", "last_name", "is_federated"])
        apply_groups(
            user,
            claims.get(settings.OIDC.groups_claim, []),
            actor,
        )
        keep_tokens(identity, token)
    return SignedIn(user, identity, created, wanted)


def keep_tokens(identity: FederatedIdentity, token: dict[str, Any]) -> None:
    """The provider accepted the user now: its refresh and ID tokens kept (encrypted, the
    former) for the next renewal and for sign-out there."""
    if token.get("refresh_token"):
        identity.refresh_token = token["refresh_token"]
    if token.get("id_token"):
        identity.id_token = token["id_token"]
    identity.checked_at = timezone.now()
    identity.save(update_fields=["refresh_token_ciphertext", "id_token_ciphertext", "checked_at"])


def apply_groups(user: User, names: list[str], actor: Actor) -> None:
    """The user's provider groups made equal to `names`, and their roles to what the groups
    give; each change audited."""
    oidc = settings.OIDC
    wanted = {name.strip() for name in names}
    existing = {group.name: group for group in Group.objects.filter(name__in=wanted)}
    marked = set(
        ProviderGroup.objects.filter(group__name__in=wanted, issuer=oidc.issuer).values_list(
            "group__name", flat=True
        )
    )
    ignored = sorted(name for name in existing if name not in marked)
    for name in sorted(wanted - existing.keys()):
        group = Group.objects.create(name=name)
        ProviderGroup.objects.create(group=group, issuer=oidc.issuer)
        existing[name] = group
        marked.add(name)
    current = {group.name: group for group in user.groups.filter(provider__issuer=oidc.issuer)}
    added = sorted(marked - current.keys())
    removed = sorted(current.keys() - marked)
    user.groups.add(*(existing[name] for name in added))
    user.groups.remove(*(current[name] for name in removed))
    if added or removed or ignored:
        AuditEvent.record(
            AuditEvent.Action.OIDC_GROUPS_CHANGED,
            actor,
            username=user.username,
            added=added,
            removed=removed,
            ignored_local_groups=ignored,
        )
    _apply_roles(user, wanted, actor)


def _apply_roles(user: User, groups: set[str], actor: Actor) -> None:
    oidc = settings.OIDC
    admin = bool(groups & oidc.admin_groups)
    auditor = bool(groups & oidc.auditor_groups)
    auditors, _ = Group.objects.get_or_create(name=AUDITORS)
    was_auditor = user.groups.filter(pk=auditors.pk).exists()
    before = {"administrator": user.is_superuser, "auditor": was_auditor}
    after = {"administrator": admin, "auditor": auditor}
    if before == after and user.is_staff == (admin or auditor):
        return
    user.is_superuser = admin
    user.is_staff = admin or auditor
    user.save(update_fields=["is_superuser", "is_staff"])
    if auditor and not was_auditor:
        user.groups.add(auditors)
    elif was_auditor and not auditor:
        user.groups.remove(auditors)
    if before != after:
        AuditEvent.record(
            AuditEvent.Action.OIDC_ROLE_CHANGED,
            actor,
            username=user.username,
            old=before,
            new=after,
        )


def _copy_profile(user: User, claims: dict[str, Any]) -> None:
    def text(name: str, limit: int) -> str:
        value = claims.get(name)
        return value.strip()[:limit] if isinstance(value, str) else ""

    user.email = text("email", 254)
    user.first_name = text("given_name", 150) or text("name", 150)
    user.last_name = text("family_name", 150)


def _unique_username(claims: dict[str, Any]) -> tuple[str, str]:
    """A free username from preferred_username (else the e-mail's local part, else the
    subject), and the wanted one when it was taken (else "")."""
    for name in ("preferred_username", "email", "sub"):
        value = claims.get(name)
        if isinstance(value, str) and value.strip():
            base = value.strip().split("@")[0] if name == "email" else value.strip()
            break
    base = NOT_IN_USERNAME.sub("-", base)[: USERNAME_MAX - 8].strip("-") or "user"
    if not User.objects.filter(username__iexact=base).exists():
        return base, ""
    taken = set(
        User.objects.filter(username__istartswith=f"{base}-").values_list("username", flat=True)
    )
    number = 2
    while f"{base}-{number}".lower() in {name.lower() for name in taken}:
        number += 1
    return f"{base}-{number}", base
