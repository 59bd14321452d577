"""Grant a permission level in bulk: to every active user, some users or some groups, on an
organization (created if asked) or one repository in it. For upgrades (permissions are
enforced from this release on) and for scripts. Each grant goes through the domain
(Organization.grant) and is audited, the command as its actor; running it again changes
nothing. It never lowers a level someone already holds there."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q

from credentials.models import (
    Actor,
    AuditEvent,
    ConsoleError,
    Organization,
    Registry,
    User,
)
from credentials.rules import EDIT, MANAGE, READ, repository_path_problem

ACTOR = Actor(user=None, username="manage.py grant_permissions", channel=AuditEvent.Channel.SYSTEM)
LEVEL_NAMES = {"read": READ, "edit": EDIT, "manage": MANAGE, "1": READ, "3": EDIT, "7": MANAGE}
LABELS = {READ: "Read", EDIT: "Edit", MANAGE: "Manage"}


class Command(BaseCommand):
    help = (
        "Grant Read, Edit or Manage on an organization (or one repository in it) to every "
        "active user, to users or to groups; --create makes the organization first. Audited; "
        "idempotent; never lowers a level already held. Example: manage.py grant_permissions "
        "--registry swr.example.com --organization team-a --create --level edit "
        "--all-active-users"
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--registry", required=True, help="The registry's address.")
        parser.add_argument("--organization", required=True, help="The organization's name.")
        parser.add_argument(
            "--create", action="store_true", help="Create the organization if it does not exist."
        )
        parser.add_argument(
            "--level", required=True, help="read, edit or manage (or Huawei's codes 1, 3, 7)."
        )
        parser.add_argument(
            "--repository",
            default="",
            help="A repository's path inside the organization (app for team-a/app); "
            "left out, the whole organization.",
        )
        parser.add_argument(
            "--all-active-users", action="store_true", help="Every active user, now."
        )
        parser.add_argument(
            "--user", action="append", default=[], help="A username (repeat for more)."
        )
        parser.add_argument(
            "--group", action="append", default=[], help="A group's name (repeat for more)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        level = LEVEL_NAMES.get(str(options["level"]).lower())
        if level is None:
            raise CommandError(
                f"--level {options['level']!r} is not a level: use read, edit or manage "
                "(or 1, 3, 7). Nothing was changed."
            )
        problem = options["repository"] and repository_path_problem(
            options["organization"], options["repository"]
        )
        if problem:
            raise CommandError(f"--repository: {problem} Nothing was changed.")
        users, groups = self._grantees(options)
        organization = self._organization(options)
        granted = kept = 0
        for grantee in [{"user": user} for user in users] + [{"group": g} for g in groups]:
            current = organization.permissions.filter(repository=options["repository"], **grantee)
            if current.filter(level__gte=level).exists():
                kept += 1
                continue
            try:
                organization.grant(
                    level=level, by=ACTOR, repository=options["repository"], **grantee
                )
            except ConsoleError as exc:
                raise CommandError(f"{exc} ({granted} granted before this.)") from exc
            granted += 1
        where = organization.name + (f"/{options['repository']}" if options["repository"] else "")
        self.stdout.write(
            f"{LABELS[level]} on {where}: granted to {granted}; {kept} already had it or more."
        )

    def _grantees(self, options: dict[str, Any]) -> tuple[list[User], list[Group]]:
        if not (options["all_active_users"] or options["user"] or options["group"]):
            raise CommandError(
                "Name who gets the permission: --all-active-users, --user NAME or --group "
                "NAME. Nothing was changed."
            )
        query = Q(is_active=True) if options["all_active_users"] else Q(pk__in=[])
        users = list(User.objects.filter(query | Q(username__in=options["user"], is_active=True)))
        missing = set(options["user"]) - {user.username for user in users}
        if missing:
            raise CommandError(
                f"No active user named {', '.join(sorted(missing))}. Nothing was changed."
            )
        groups = list(Group.objects.filter(name__in=options["group"]))
        missing = set(options["group"]) - {group.name for group in groups}
        if missing:
            raise CommandError(f"No group named {', '.join(sorted(missing))}. Nothing was changed.")
        return users, groups

    def _organization(self, options: dict[str, Any]) -> Organization:
        registry = Registry.objects.filter(address=options["registry"]).first()
        if registry is None:
            known = ", ".join(Registry.objects.values_list("address", flat=True)) or "none"
            raise CommandError(
                f"No registry at {options['registry']!r} (registries: {known}). "
                "Nothing was changed."
            )
        name = options["organization"]
        organization = Organization.objects.filter(registry=registry, name=name).first()
        if organization is not None:
            return organization
        if not options["create"]:
            raise CommandError(
                f"Registry {registry.address} has no organization {name!r}: add --create to "
                "create it. Nothing was changed."
            )
        try:
            organization = Organization.objects.create_for(registry=registry, name=name, by=ACTOR)
        except ConsoleError as exc:
            raise CommandError(f"{exc} Nothing was changed.") from exc
        self.stdout.write(f"Created organization {name} in {registry.address}.")
        return organization
