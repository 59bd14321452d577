"""Permission grants: Read, Edit or Manage on an organization, or on one repository inside it,
to a user or to a group; who is a registry administrator; the errors the organization's
domain actions raise (credentials/models/organizations.py makes the changes)."""

from __future__ import annotations

from django.contrib.auth.models import Group
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy

from credentials.models.base import Actor, ConsoleError
from credentials.models.users import User
from credentials.rules import (
    LEVELS,
    MANAGE,
    REGISTRY_ADMINISTRATORS,
    REPOSITORY_NAME_MAX_LENGTH,
    level_choices,
)

# --- What the domain refuses (each message in the active language) -------------------------


class OrganizationRefused(ConsoleError):
    """An organization or permission action was refused; the subclasses say why."""


class NameRefused(OrganizationRefused):
    """An organization or repository name breaks its rule (credentials.rules)."""


class OrganizationExists(OrganizationRefused):
    """The registry already has an organization of that name."""


class NotPermitted(OrganizationRefused):
    """The actor holds no Manage permission where the action needs it."""


class LastManagerRefused(OrganizationRefused):
    """The change would leave the organization without an organization-wide Manage holder."""


class GranteeRefused(OrganizationRefused):
    """The grantee is not an active user or an existing group (or both, or neither, named)."""


class LevelRefused(OrganizationRefused):
    """A level other than Read (1), Edit (3) or Manage (7)."""


def not_permitted_message(organization: str) -> str:
    return gettext(
        "You need the Manage permission on organization “%(organization)s” to do this."
    ) % {"organization": organization}


def level_refused_message(level: object) -> str:
    return gettext(
        "“%(level)s” is not a permission level: use 1 (Read), 3 (Edit) or 7 (Manage)."
    ) % {"level": level}


# --- Who is an administrator ----------------------------------------------------------------


def is_registry_admin(user: User | None) -> bool:
    """Whether `user` has Manage on every organization of every registry (and may use
    repositories outside any organization): an active superuser, or an active member of the
    "Registry Administrators" group."""
    if user is None or not user.is_active:
        return False
    return user.is_superuser or user.groups.filter(name=REGISTRY_ADMINISTRATORS).exists()


def acts_as_administrator(by: Actor) -> bool:
    """A registry administrator, or the system itself (a management command run by the
    operator: no user, the "system" channel)."""
    if by.user is None:
        return by.channel == "system"
    return is_registry_admin(by.user)


def group_ids_of(user: User) -> models.QuerySet:
    """The ids of `user`'s groups, as a subquery."""
    return User.groups.through.objects.filter(user_id=user.pk).values("group_id")


# --- The grants -------------------------------------------------------------------------------


class PermissionQuerySet(models.QuerySet["Permission"]):
    def applying_to(self, user: User) -> PermissionQuerySet:
        """Grants to `user` and to each of `user`'s groups."""
        return self.filter(Q(user_id=user.pk) | Q(group_id__in=group_ids_of(user)))

    def organization_wide(self) -> PermissionQuerySet:
        return self.filter(repository="")

    def level(self) -> int:
        """The highest level among these grants; 0 when there is none."""
        return self.aggregate(level=models.Max("level"))["level"] or 0

    def managers(self) -> PermissionQuerySet:
        """Organization-wide Manage grants (to users or groups): who may administer it."""
        return self.filter(repository="", level=MANAGE)


class Permission(models.Model):
    """One grant: `level` on `organization` (repository "") or on one repository inside it
    (`repository` its path in the organization: `app` for `team-a/app`), to one user or
    one group. One row per organization, repository and grantee."""

    organization = models.ForeignKey(
        "credentials.Organization",
        on_delete=models.CASCADE,
        related_name="permissions",
        db_index=False,  # leads both unique constraints below
        verbose_name=gettext_lazy("organization"),
    )
    repository = models.CharField(
        gettext_lazy("repository"),
        max_length=REPOSITORY_NAME_MAX_LENGTH,
        blank=True,
        default="",
        help_text=gettext_lazy("Empty: the whole organization."),
    )
    user = models.ForeignKey(
        User,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="organization_permissions",
        verbose_name=gettext_lazy("user"),
    )
    group = models.ForeignKey(
        Group,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="organization_permissions",
        verbose_name=gettext_lazy("group"),
    )
    level = models.PositiveSmallIntegerField(gettext_lazy("level"), choices=level_choices)
    granted_by = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
        verbose_name=gettext_lazy("granted by"),
    )
    granted_at = models.DateTimeField(
        gettext_lazy("granted at"), default=timezone.now, editable=False
    )
    changed_at = models.DateTimeField(
        gettext_lazy("changed at"), default=timezone.now, editable=False
    )

    objects = PermissionQuerySet.as_manager()

    class Meta:
        verbose_name = gettext_lazy("permission")
        verbose_name_plural = gettext_lazy("permissions")
        ordering = ["organization", "repository", "-level", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(user__isnull=False, group__isnull=True)
                | Q(user__isnull=True, group__isnull=False),
                name="permission_user_or_group",
            ),
            models.CheckConstraint(condition=Q(level__in=LEVELS), name="permission_level_valid"),
            # Each also the index of "this grantee's grants on these organizations" (the
            # token service's lookup, credentials/models/access.py).
            models.UniqueConstraint(
                fields=["organization", "user", "repository"],
                condition=Q(user__isnull=False),
                name="permission_per_user",
            ),
            models.UniqueConstraint(
                fields=["organization", "group", "repository"],
                condition=Q(group__isnull=False),
                name="permission_per_group",
            ),
        ]
        # The admin's list (credentials/admin/permissions.py): the latest changes first, on
        # its own and within an organization or a level. The organization's also serves every
        # `organization_id = …` lookup, which the partial constraints above cannot.
        indexes = [
            models.Index(fields=["-changed_at", "-id"], name="permission_newest"),
            models.Index(
                fields=["organization", "-changed_at", "-id"], name="permission_by_organization"
            ),
            models.Index(fields=["level", "-changed_at", "-id"], name="permission_by_level"),
        ]

    def __str__(self) -> str:
        return f"{self.grantee_name} {self.get_level_display()} {self.where}"

    @property
    def grantee_name(self) -> str:
        return self.user.get_username() if self.user_id else self.group.name

    @property
    def where(self) -> str:
        """`team-a` or `team-a/app`."""
        name = self.organization.name
        return f"{name}/{self.repository}" if self.repository else name

    def audited(self, old: int, new: int) -> dict[str, object]:
        """What an audit event about this grant keeps: for whom, where, old → new level
        (0: none)."""
        grantee = {"user": self.user.get_username()} if self.user_id else {"group": self.group.name}
        return {
            "organization": self.organization.name,
            "organization_public_id": str(self.organization.public_id),
            "repository": self.repository,
            **grantee,
            "old_level": old,
            "new_level": new,
        }
