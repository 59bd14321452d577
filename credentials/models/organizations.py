"""Organizations (SWR's namespaces) of a registry and every change to who may do what in
them: created (the creator gets Manage), deleted with their grants, grants made, changed and
revoked. Each action checks the actor itself (a Manage holder or a registry administrator)
and writes its audit events in the same transaction, whoever calls: the console, Huawei's
API, the admin, manage.py grant_permissions."""

from __future__ import annotations

import contextlib
import uuid

from django.contrib.auth.models import Group
from django.db import IntegrityError, models, transaction
from django.db.models import Case, Exists, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy

from credentials.models.audit import AuditEvent
from credentials.models.base import Actor, ConsoleError
from credentials.models.permissions import (
    GranteeRefused,
    LastManagerRefused,
    LevelRefused,
    NameRefused,
    NotPermitted,
    OrganizationExists,
    Permission,
    acts_as_administrator,
    is_registry_admin,
    level_refused_message,
    not_permitted_message,
)
from credentials.models.registries import Registry
from credentials.models.users import User
from credentials.rules import (
    LEVELS,
    MANAGE,
    ORGANIZATION_NAME_MAX_LENGTH,
    organization_name_problem,
    repository_path_problem,
)


def exists_message(name: str) -> str:
    return gettext("This registry already has an organization named “%(name)s”.") % {"name": name}


def gone_message() -> str:
    return gettext("This organization no longer exists.")


def deleted_name_message(name: str) -> str:
    return gettext(
        "An organization named “%(name)s” was deleted from this registry and its images may "
        "still be there: only a registry administrator can create it again."
    ) % {"name": name}


def _was_deleted(registry: Registry, name: str) -> bool:
    """Whether `registry` had an organization `name` that was deleted. Its images stay in the
    registry, outside any organization (administrators only); whoever created it again would
    hold Manage on them, so only an administrator may."""
    deleted = AuditEvent.objects.filter(
        action=AuditEvent.Action.ORGANIZATION_DELETED, registry=registry
    )
    return deleted.filter(detail__organization=name).exists()


class OrganizationQuerySet(models.QuerySet["Organization"]):
    def in_registry(self, registry: Registry) -> OrganizationQuerySet:
        return self.filter(registry=registry)

    def with_level(self, user: User) -> OrganizationQuerySet:
        """Each organization with `level`: `user`'s organization-wide level there (0: none;
        Manage everywhere for a registry administrator)."""
        if is_registry_admin(user):
            return self.annotate(level=Value(MANAGE))
        best = (
            Permission.objects.applying_to(user)
            .organization_wide()
            .filter(organization=OuterRef("pk"))
            .order_by("-level")
            .values("level")[:1]
        )
        return self.annotate(level=Coalesce(Subquery(best), Value(0)))

    def for_user(self, user: User, registry: Registry) -> OrganizationQuerySet:
        """The organizations of `registry` that `user` sees: every one for a registry
        administrator, else those where they (or a group of theirs) hold any grant, on the
        organization or on a repository in it. Each with `level` (see with_level)."""
        found = self.in_registry(registry).with_level(user)
        if is_registry_admin(user):
            return found
        held = Permission.objects.applying_to(user).filter(organization=OuterRef("pk"))
        return found.filter(Exists(held))

    def lookup(self, user: User, registry: Registry, key: str | uuid.UUID) -> Organization | None:
        """The organization of `registry` named `key` (or whose public id it is) that `user`
        sees, with `level`; None for another registry's, one they do not see, or none.
        Every entry point that acts on one organization finds it here and answers 404 on None.
        A name may look like a UUID ("deadbeef-…"), even another organization's public id: a
        UUID key (the console's addresses) is a public id, a string (Huawei's paths) a name
        first."""
        found = self.for_user(user, registry)
        if isinstance(key, uuid.UUID):
            return found.filter(public_id=key).first()
        match = Q(name=key)
        with contextlib.suppress(ValueError):
            match |= Q(public_id=uuid.UUID(key))
        by_name_first = Case(When(name=key, then=Value(0)), default=Value(1))
        return found.filter(match).order_by(by_name_first).first()

    def create_for(self, *, registry: Registry, name: str, by: Actor) -> Organization:
        """Create organization `name` in `registry`; its creator gets Manage on it (a grant,
        audited as such). Anyone signed in may create one, as in SWR, but the name of a deleted
        one only an administrator (NotPermitted). NameRefused for a name that breaks SWR's
        rule, OrganizationExists for a taken one."""
        problem = organization_name_problem(name)
        if problem is not None:
            raise NameRefused(problem)
        try:
            with transaction.atomic():
                if self.filter(registry=registry, name=name).exists():
                    raise OrganizationExists(exists_message(name))
                if not acts_as_administrator(by) and _was_deleted(registry, name):
                    raise NotPermitted(deleted_name_message(name))
                organization = self.create(registry=registry, name=name, created_by=by.user)
                AuditEvent.record(
                    AuditEvent.Action.ORGANIZATION_CREATED,
                    by,
                    registry=registry,
                    organization=name,
                    organization_public_id=str(organization.public_id),
                )
                if by.user is not None:
                    organization._write(MANAGE, by, user=by.user, repository="")
        except IntegrityError as exc:
            if not Registry.objects.filter(pk=registry.pk).exists():
                raise ConsoleError(gettext("This registry no longer exists.")) from exc
            raise OrganizationExists(exists_message(name)) from exc  # a racing create won
        return organization


class Organization(models.Model):
    """An organization (SWR's namespace) of one registry: the first segment of the names of
    the repositories it holds (`team-a` for `team-a/app`)."""

    public_id = models.UUIDField(
        gettext_lazy("public id"), default=uuid.uuid4, unique=True, editable=False
    )
    registry = models.ForeignKey(
        Registry,
        on_delete=models.PROTECT,
        related_name="organizations",
        db_index=False,  # leads organization_name_per_registry
        verbose_name=gettext_lazy("registry"),
    )
    name = models.CharField(gettext_lazy("name"), max_length=ORGANIZATION_NAME_MAX_LENGTH)
    created_by = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
        verbose_name=gettext_lazy("created by"),
    )
    created_at = models.DateTimeField(
        gettext_lazy("created at"), default=timezone.now, editable=False
    )

    objects = OrganizationQuerySet.as_manager()

    class Meta:
        verbose_name = gettext_lazy("organization")
        verbose_name_plural = gettext_lazy("organizations")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["registry", "name"], name="organization_name_per_registry"
            )
        ]

    def __str__(self) -> str:
        return self.name

    # --- Who may do what here -----------------------------------------------------------------

    def level_of(self, user: User, repository: str = "") -> int:
        """`user`'s effective level on this organization (repository "") or on one repository
        in it: the highest of their own grants and their groups', organization-wide and on
        that repository; Manage for a registry administrator; 0 when none applies."""
        if is_registry_admin(user):
            return MANAGE
        grants = self.permissions.applying_to(user).filter(repository__in={"", repository})
        return grants.level()

    def _require_manage(self, by: Actor, repository: str) -> bool:
        """Refuse (NotPermitted) an actor who may not change permissions here: Manage on the
        organization, or on `repository` for a grant there. True for an administrator."""
        if acts_as_administrator(by):
            return True
        if by.user is None or self.level_of(by.user, repository) < MANAGE:
            raise NotPermitted(not_permitted_message(self.name))
        return False

    def require_manage(self, by: Actor, repository: str = "") -> None:
        """Refuse (NotPermitted) an actor who may not change permissions here, before an entry
        point looks at what it was asked to change (so an unknown grantee in the request tells
        a Read holder nothing); the actions check it again under their lock."""
        self._require_manage(by, repository)

    # --- Domain actions -----------------------------------------------------------------------

    def grant(
        self,
        *,
        level: int,
        by: Actor,
        user: User | None = None,
        group: Group | None = None,
        repository: str = "",
    ) -> tuple[Permission, int]:
        """Give `user` or `group` (exactly one) `level` here: on the organization (repository
        "") or on the repository at that path inside it. Creates the grant or changes its
        level; returns it with the level it had before (0: none). Setting the level it has
        records nothing.

        Refuses with LevelRefused (not 1, 3 or 7), NameRefused (a bad repository path),
        GranteeRefused (an unknown or inactive user, an unknown group), NotPermitted (the
        actor lacks Manage), LastManagerRefused (downgrading the last organization-wide
        Manage holder, unless the actor is an administrator).
        """
        if level not in LEVELS:
            raise LevelRefused(level_refused_message(level))
        self._check_repository(repository)
        with transaction.atomic():
            self._lock()
            administrator = self._require_manage(by, repository)
            grantee = _active_grantee(user, group)
            return self._write(
                level, by, repository=repository, administrator=administrator, **grantee
            )

    def revoke(
        self,
        *,
        by: Actor,
        user: User | None = None,
        group: Group | None = None,
        repository: str = "",
    ) -> int:
        """Remove the grant of `user` or `group` here (repository "": the organization-wide
        one). Returns the level it had; 0 when there was none (nothing recorded). Refuses as
        grant() does (NotPermitted, LastManagerRefused, NameRefused, GranteeRefused when
        neither or both are named)."""
        self._check_repository(repository)
        grantee = _named_grantee(user, group)
        with transaction.atomic():
            self._lock()
            administrator = self._require_manage(by, repository)
            row = self.permissions.filter(repository=repository, **grantee).first()
            if row is None:
                return 0
            self._keep_a_manager(row, 0, administrator)
            AuditEvent.record(
                AuditEvent.Action.PERMISSION_REVOKED,
                by,
                registry=self.registry,
                **row.audited(row.level, 0),
            )
            row.delete()
        return row.level

    def delete_by(self, *, by: Actor) -> None:
        """Delete the organization and its grants, each grant's removal audited before the
        organization's. Needs Manage on it (or an administrator: NotPermitted otherwise).
        The images in the registry stay; an organization of the same name created later
        starts with no grants."""
        with transaction.atomic():
            self._lock()
            self._require_manage(by, "")
            grants = list(self.permissions.select_related("user", "group"))
            AuditEvent.objects.bulk_create(
                AuditEvent.build(
                    AuditEvent.Action.PERMISSION_REVOKED,
                    by,
                    registry=self.registry,
                    reason="organization deleted",
                    **grant.audited(grant.level, 0),
                )
                for grant in grants
            )
            self.permissions.all().delete()
            # The long-term tab shows each credential's organizations: their owners' cached
            # pages must not name this one any more (console/page_cache.py).
            narrowed = self.narrowed_credentials.values_list("owner_id", flat=True)
            User.objects.credentials_changed(*set(narrowed))
            AuditEvent.record(
                AuditEvent.Action.ORGANIZATION_DELETED,
                by,
                registry=self.registry,
                organization=self.name,
                organization_public_id=str(self.public_id),
                grants_removed=len(grants),
            )
            self.delete()

    # --- Their parts ------------------------------------------------------------------------

    def _check_repository(self, repository: str) -> None:
        if repository:
            problem = repository_path_problem(self.name, repository)
            if problem is not None:
                raise NameRefused(problem)

    def _lock(self) -> None:
        """Lock this organization's row for the transaction: its permission changes happen
        one after the other (the last-Manage rule and each audited old → new level hold under
        races). On SQLite every write transaction is already exclusive (IMMEDIATE)."""
        if not type(self).objects.select_for_update().filter(pk=self.pk).exists():
            raise ConsoleError(gone_message())

    def _write(
        self,
        level: int,
        by: Actor,
        *,
        repository: str,
        administrator: bool = True,
        user: User | None = None,
        group: Group | None = None,
    ) -> tuple[Permission, int]:
        grantee = {"user": user} if user is not None else {"group": group}
        row = self.permissions.filter(repository=repository, **grantee).first()
        now = timezone.now()
        if row is None:
            row = Permission(
                organization=self,
                repository=repository,
                level=level,
                granted_by=by.user,
                granted_at=now,
                changed_at=now,
                **grantee,
            )
            row.save(force_insert=True)
            old, action = 0, AuditEvent.Action.PERMISSION_GRANTED
        elif row.level == level:
            return row, level
        else:
            self._keep_a_manager(row, level, administrator)
            old, action = row.level, AuditEvent.Action.PERMISSION_CHANGED
            row.level, row.granted_by, row.changed_at = level, by.user, now
            row.save(update_fields=["level", "granted_by", "changed_at"])
        AuditEvent.record(action, by, registry=self.registry, **row.audited(old, level))
        return row, old

    def _keep_a_manager(self, row: Permission, new_level: int, administrator: bool) -> None:
        """Refuse to take away the last organization-wide Manage grant (to a user or a group)
        unless an administrator does it: the organization would be left with no one to run it
        but the administrators."""
        if administrator or row.repository or row.level != MANAGE or new_level == MANAGE:
            return
        if not self.permissions.managers().exclude(pk=row.pk).exists():
            raise LastManagerRefused(
                gettext(
                    "%(grantee)s is the last holder of the Manage permission on organization "
                    "“%(organization)s”. Give Manage to another user or group first."
                )
                % {"grantee": row.grantee_name, "organization": self.name}
            )


def _named_grantee(user: User | None, group: Group | None) -> dict[str, object]:
    if (user is None) == (group is None):
        raise GranteeRefused(gettext("Name either a user or a group."))
    return {"user": user} if user is not None else {"group": group}


def _active_grantee(user: User | None, group: Group | None) -> dict[str, object]:
    """The grantee as it is now in the database: an active user, or a group that exists."""
    _named_grantee(user, group)
    if user is not None:
        current = User.objects.filter(pk=user.pk, is_active=True).first()
        if current is None:
            raise GranteeRefused(
                gettext("There is no active user “%(name)s”.") % {"name": user.get_username()}
            )
        return {"user": current}
    current_group = Group.objects.filter(pk=group.pk).first()
    if current_group is None:
        raise GranteeRefused(gettext("There is no group “%(name)s”.") % {"name": group.name})
    return {"group": current_group}


def grantee_user(*, user_id: str | int | None = None, username: str = "") -> User:
    """The active user an entry point names: by id (Huawei's `user_id`, the id the console's
    IAM API gives) when it has one, else by username. GranteeRefused when there is none."""
    if user_id not in (None, ""):
        key = str(user_id)
        known = key.isascii() and key.isdigit()  # isdigit() alone lets "²" by, which int() refuses
        found = User.objects.filter(pk=int(key), is_active=True).first() if known else None
    else:
        key = username
        found = User.objects.filter(username=username, is_active=True).first()
    if found is None:
        raise GranteeRefused(gettext("There is no active user “%(name)s”.") % {"name": key})
    return found


def grantee_group(name: str) -> Group:
    """The group named `name`; GranteeRefused when there is none."""
    found = Group.objects.filter(name=name).first()
    if found is None:
        raise GranteeRefused(gettext("There is no group “%(name)s”.") % {"name": name})
    return found
