"""What limits a long-term credential beyond its owner's permissions: the narrowing its owner
chose at creation (Access: Same as my permissions or Pull only; Organizations: All or a list)
and an administrator's decision to disable it, which its owner cannot undo. Both are fields
of LongTermCredential, declared here so they keep one home (abstract models it inherits)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import models
from django.utils.translation import gettext, gettext_lazy

from credentials.models.base import ConsoleError
from credentials.rules import ACCESS_INHERIT, ACCESSES, access_choices
from credentials.timestamps import shown

if TYPE_CHECKING:
    from datetime import datetime

    from credentials.models.organizations import Organization
    from credentials.models.registries import Registry
    from credentials.models.users import User


class NarrowingRefused(ConsoleError):
    """An access other than inherit/pull, or an organization of another registry."""


class AdministratorDecisionBinds(ConsoleError):
    """The owner tried to enable a credential an administrator disabled."""


@dataclass(frozen=True)
class Narrowing:
    """A checked narrowing, ready to be stored with a new credential (see checked())."""

    access: str
    organizations: tuple[Organization, ...]

    @property
    def fields(self) -> dict[str, Any]:
        return {"access": self.access, "all_organizations": not self.organizations}

    @property
    def audited(self) -> dict[str, Any]:
        """What the credential's "created" event keeps of it."""
        return {
            "access": self.access,
            "organizations": sorted(org.name for org in self.organizations) or "all",
        }

    def store(self, credential: NarrowedCredential) -> None:
        if self.organizations:
            credential.organizations.set(self.organizations)


def checked(registry: Registry, access: str, organizations: Iterable[Organization]) -> Narrowing:
    """The narrowing a new credential of `registry` asks for, or NarrowingRefused: an access
    other than "inherit" or "pull", or an organization of another registry."""
    if access not in ACCESSES:
        raise NarrowingRefused(
            gettext("“%(access)s” is not an access: use “inherit” or “pull”.") % {"access": access}
        )
    chosen = tuple({org.pk: org for org in organizations}.values())
    foreign = sorted(org.name for org in chosen if org.registry_id != registry.pk)
    if foreign:
        raise NarrowingRefused(
            gettext("Organization “%(name)s” is not an organization of this registry.")
            % {"name": foreign[0]}
        )
    return Narrowing(access, chosen)


class NarrowedCredential(models.Model):
    """A credential's narrowing: what it may do is its owner's permissions ∩ this
    (credentials/models/access.py)."""

    access = models.CharField(
        gettext_lazy("access"),
        max_length=8,
        choices=access_choices,
        default=ACCESS_INHERIT,
        db_default=ACCESS_INHERIT,
        editable=False,
    )
    # False: only the organizations below (none left, when they were all deleted: nothing).
    all_organizations = models.BooleanField(
        gettext_lazy("all organizations"), default=True, db_default=True, editable=False
    )
    organizations = models.ManyToManyField(
        "credentials.Organization",
        blank=True,
        related_name="narrowed_credentials",
        verbose_name=gettext_lazy("organizations"),
    )

    class Meta:
        abstract = True


class AdministratorDecision(models.Model):
    """Whether the credential's last status change (status_changed_at, _by) was an
    administrator's disabling, and why: the owner may not enable it again."""

    disabled_by_administrator = models.BooleanField(
        gettext_lazy("disabled by an administrator"),
        default=False,
        db_default=False,
        editable=False,
    )
    status_reason = models.CharField(
        gettext_lazy("reason"), max_length=500, blank=True, default="", db_default="",
        editable=False,
    )  # fmt: skip

    if TYPE_CHECKING:  # fields of LongTermCredential
        is_enabled: bool
        status_changed_at: datetime | None
        status_changed_by: User | None

    class Meta:
        abstract = True

    def decision_changes(self, enabled: bool, administrator: bool) -> bool:
        """Whether setting `enabled` changes anything: the status, or (an administrator
        disabling a credential its owner had disabled) who decided it."""
        return self.is_enabled != enabled or (
            administrator and not enabled and not self.disabled_by_administrator
        )

    def decide(self, enabled: bool, *, administrator: bool, reason: str) -> list[str]:
        """Record who decides the new status (the fields to save with it); the owner's
        enabling of a credential an administrator disabled is refused with who, when, why."""
        if enabled and self.disabled_by_administrator and not administrator:
            raise AdministratorDecisionBinds(self.decision_message())
        self.disabled_by_administrator = administrator and not enabled
        self.status_reason = reason[:500]
        return ["disabled_by_administrator", "status_reason"]

    def decision_message(self) -> str:
        """The owner's explanation: who disabled it, when, why; only an administrator can
        enable it again."""
        by, when = self.status_changed_by, self.status_changed_at
        values = {
            "user": by.get_username() if by is not None else gettext("deleted user"),
            "when": shown(when) if when is not None else "",
            "reason": self.status_reason,
        }
        if self.status_reason:
            return (
                gettext(
                    "An administrator (%(user)s) disabled this credential on %(when)s, giving the "
                    "reason “%(reason)s”. Only an administrator can enable it again."
                )
                % values
            )
        return (
            gettext(
                "An administrator (%(user)s) disabled this credential on %(when)s. Only an "
                "administrator can enable it again."
            )
            % values
        )
