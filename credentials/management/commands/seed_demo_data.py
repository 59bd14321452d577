"""Realistic volume for benchmarks and manual checks: users, credentials, audit events, and
organizations with their permission grants (to users and to groups of them).

On PostgreSQL rows go in with COPY (a million events in well under a minute); elsewhere with
bulk_create. Every password digest is random: no seeded credential can log in.
"""

from __future__ import annotations

import json
import random
import secrets
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import connection, transaction
from django.utils import timezone

from credentials.models import (
    AuditEvent,
    LongTermCredential,
    Organization,
    Permission,
    Registry,
    User,
    generate_username,
)
from credentials.rules import LEVELS

ACTIONS = [
    (AuditEvent.Action.LONG_TERM_DISABLED, 6),
    (AuditEvent.Action.LONG_TERM_ENABLED, 4),
    (AuditEvent.Action.LONG_TERM_DELETED, 2),
    (AuditEvent.Action.TEMPORARY_ISSUED, 30),
    (AuditEvent.Action.SIGN_IN, 40),
    (AuditEvent.Action.SIGN_IN_FAILED, 8),
    (AuditEvent.Action.REGISTRY_LOGIN_FAILED, 10),
]
AGENTS = [
    "Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0",
    "skopeo/1.9.3",
    "docker/27.3.1",
    "curl/8.5",
]

CREDENTIAL_COLUMNS = (
    "public_id", "owner_id", "registry_id", "name", "username", "password_digest",
    "is_enabled", "created_at", "last_used_at", "status_changed_at", "status_changed_by_id",
)  # fmt: skip
ORGANIZATION_COLUMNS = ("public_id", "registry_id", "name", "created_at")
PERMISSION_COLUMNS = (
    "organization_id", "repository", "user_id", "group_id", "level", "granted_at", "changed_at",
)  # fmt: skip
EVENT_COLUMNS = (
    "created_at", "action", "actor_id", "actor_username", "ip_address", "user_agent",
    "registry_id", "registry_address", "credential_public_id", "credential_name",
    "credential_username", "detail", "channel",
)  # fmt: skip


class Command(BaseCommand):
    help = (
        "Fill the database with realistic volume for benchmarks and manual checks: users, "
        "long-term credentials in the default registry (bootstrapped if missing), audit "
        "events spread over the past year, and organizations of that registry with "
        "permission grants to the users and to groups of them. No seeded user can sign in "
        "and no seeded credential can log in (random digests). Run it again to add as many "
        "more."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--users",
            type=int,
            default=1000,
            help="Users to create, the bench user included (default: %(default)s).",
        )
        parser.add_argument(
            "--credentials",
            type=int,
            default=100_000,
            help="Long-term credentials to create, the bench user's included; the others "
            "go to random users (default: %(default)s).",
        )
        parser.add_argument(
            "--events",
            type=int,
            default=1_000_000,
            help="Audit events to create, by random users (default: %(default)s).",
        )
        parser.add_argument(
            "--bench-user",
            default="bench",
            help="The user who owns the first --bench-credentials credentials, for "
            "benchmarking one big list (default: %(default)s).",
        )
        parser.add_argument(
            "--bench-credentials",
            type=int,
            default=1000,
            help="How many of --credentials the bench user owns (default: %(default)s).",
        )
        parser.add_argument(
            "--organizations",
            type=int,
            default=1000,
            help="Organizations to create in the default registry (default: %(default)s).",
        )
        parser.add_argument(
            "--grants",
            type=int,
            default=100_000,
            help="Permission grants to create in them: Read, Edit or Manage, nine in ten to a "
            "user and the rest to a group (each seeded user joins two of users/10 groups), "
            "one in five on a repository rather than the whole organization "
            "(default: %(default)s).",
        )
        parser.add_argument(
            "--seed",
            type=int,
            default=2026,
            help="Seed of the random choices, for repeatable data (default: %(default)s).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        self.random = random.Random(options["seed"])  # noqa: S311 - synthetic data, not secrets
        call_command("bootstrap", stdout=self.stdout)
        registry = Registry.objects.select_related("region").get(
            address=settings.SWR_DEFAULT_REGISTRY_ADDRESS
        )
        tag = secrets.token_hex(3)
        with transaction.atomic():
            users = self._users(options["users"], options["bench_user"], tag)
        bench = users[0]
        self._copy(
            LongTermCredential,
            CREDENTIAL_COLUMNS,
            self._credential_rows(
                registry, users, bench, tag, options["credentials"], options["bench_credentials"]
            ),
        )
        self._copy(AuditEvent, EVENT_COLUMNS, self._event_rows(registry, users, options["events"]))
        grants = self._organizations(
            registry, users, tag, options["organizations"], options["grants"]
        )
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                models = (LongTermCredential, AuditEvent, Organization, Permission,
                          User.groups.through)  # fmt: skip
                cursor.execute("ANALYZE " + ", ".join(m._meta.db_table for m in models))
        self.stdout.write(
            f"Seeded {len(users)} users, {options['credentials']} credentials "
            f"({options['bench_credentials']} for {bench.username}), {options['events']} "
            f"events, {options['organizations']} organizations and {grants} grants in "
            f"{registry.address}."
        )

    def _organizations(
        self, registry: Registry, users: list[User], tag: str, count: int, grants: int
    ) -> int:
        """`count` organizations with `grants` distinct grants among `users` and groups of
        them (fewer when there are not that many distinct ones); how many were made."""
        if not count:
            return 0
        now = timezone.now()
        self._copy(
            Organization,
            ORGANIZATION_COLUMNS,
            ((uuid.uuid4(), registry.pk, f"org-{tag}-{n:05}", now) for n in range(count)),
        )
        organizations = list(
            Organization.objects.filter(registry=registry, name__startswith=f"org-{tag}-")
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        groups = Group.objects.bulk_create(
            Group(name=f"team-{tag}-{n:04}") for n in range(max(len(users) // 10, 1))
        )
        Membership = User.groups.through
        Membership.objects.bulk_create(
            (Membership(user_id=user.pk, group_id=group.pk)
             for user in users for group in self.random.sample(groups, min(2, len(groups)))),
            batch_size=5000,
        )  # fmt: skip
        chosen: set[tuple[int, str, int | None, int | None]] = set()
        for _ in range(20 * grants):  # the distinct ones may run out on a small set
            if len(chosen) == grants:
                break
            to_user = self.random.random() < 0.9
            chosen.add((
                self.random.choice(organizations),
                f"app-{self.random.randrange(10)}" if self.random.random() < 0.2 else "",
                self.random.choice(users).pk if to_user else None,
                None if to_user else self.random.choice(groups).pk,
            ))  # fmt: skip
        self._copy(
            Permission,
            PERMISSION_COLUMNS,
            ((*grant, self.random.choice(LEVELS), now, now) for grant in sorted(chosen, key=str)),
        )
        return len(chosen)

    def _users(self, count: int, bench_name: str, tag: str) -> list[User]:
        bench, _ = User.objects.get_or_create(username=bench_name)
        new = [
            User(username=f"dev-{tag}-{n:05}", is_federated=self.random.random() < 0.05)
            for n in range(max(count - 1, 0))
        ]
        for user in new:
            user.set_unusable_password()
        return [bench, *User.objects.bulk_create(new, batch_size=2000)]

    def _moment(self) -> datetime:
        return timezone.now() - timedelta(seconds=self.random.randint(60, 365 * 86400))

    def _credential_rows(
        self,
        registry: Registry,
        users: list[User],
        bench: User,
        tag: str,
        total: int,
        for_bench: int,
    ) -> Iterator[tuple]:
        region = registry.region.name
        for n in range(total):
            owner = bench if n < for_bench else self.random.choice(users[1:] or users)
            created = self._moment()
            enabled = self.random.random() > 0.1
            used = created + timedelta(days=1) if self.random.random() < 0.7 else None
            yield (
                uuid.uuid4(), owner.pk, registry.pk, f"svc-{tag}-{n}", generate_username(region),
                secrets.token_hex(32), enabled, created, used,
                None if enabled else created + timedelta(hours=2), None if enabled else owner.pk,
            )  # fmt: skip

    def _event_rows(self, registry: Registry, users: list[User], count: int) -> Iterator[tuple]:
        actions, weights = zip(*ACTIONS, strict=True)
        region = registry.region.name
        for n in range(count):
            actor = self.random.choice(users)
            action = (
                AuditEvent.Action.LONG_TERM_CREATED
                if n % 10 == 0
                else self.random.choices(actions, weights)[0]
            )
            detail = {"kind": "image"} if action == AuditEvent.Action.TEMPORARY_ISSUED else {}
            yield (
                self._moment(), action, actor.pk, actor.username,
                self._ip(),
                self.random.choice(AGENTS), registry.pk, registry.address, uuid.uuid4(),
                f"svc-{n % 5000}", generate_username(region), detail,
                AuditEvent.Channel.CONSOLE,
            )  # fmt: skip

    def _ip(self) -> str:
        return ".".join(str(self.random.randint(1, 254)) for _ in range(4))

    def _copy(self, model: type, columns: tuple[str, ...], rows: Iterator[tuple]) -> None:
        table = model._meta.db_table
        if connection.vendor != "postgresql":
            objects = (model(**dict(zip(columns, row, strict=True))) for row in rows)
            model.objects.bulk_create(objects, batch_size=2000)
            return
        with transaction.atomic(), connection.cursor() as cursor:
            statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
            with cursor.cursor.copy(statement) as copy:
                for row in rows:
                    copy.write_row([json.dumps(v) if isinstance(v, dict) else v for v in row])
