"""In-process cost of each piece of performance machinery against stock Django, alternated.

Run: scripts/with-postgres.sh .venv/bin/python bench/pieces.py  (a throwaway PostgreSQL)
"""

from __future__ import annotations

import statistics
import time

import djangoenv

djangoenv.setup(CONN_MAX_AGE="60")

import django.utils.timezone  # noqa: E402
from django.contrib.auth.backends import ModelBackend  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from credentials import registry_cache  # noqa: E402
from credentials.models import (  # noqa: E402
    Actor,
    AuditEvent,
    Region,
    Registry,
    TemporaryCredential,
    User,
    insert_together,
)
from credentials.security.auth import ThrottledModelBackend  # noqa: E402

ROUNDS, EACH = 7, 300


def per_call_us(function, count: int = EACH) -> float:
    start = time.perf_counter()
    for _ in range(count):
        function()
    return 1e6 * (time.perf_counter() - start) / count


def alternate(label: str, ours, stock, count: int = EACH) -> None:
    """Median µs per call of each, measured in alternation (ours, stock, ours, ...)."""
    mine, theirs = [], []
    for _ in range(ROUNDS):
        mine.append(per_call_us(ours, count))
        theirs.append(per_call_us(stock, count))
    a, b = statistics.median(mine), statistics.median(theirs)
    print(f"| {label} | {a:.0f} | {b:.0f} | {b - a:+.0f} | {b / a:.2f}× |", flush=True)


def main() -> None:
    call_command("migrate", verbosity=0)
    region = Region.objects.get_or_create(name="cn-north-4")[0]
    registry = Registry.objects.get_or_create(
        region=region, name="default", address="swr.cn-north-4.myhuaweicloud.com"
    )[0]
    user = User.objects.get_or_create(username="pieces")[0]
    print("| piece | ours µs | stock Django µs | stock − ours | × |\n|---|---:|---:|---:|---:|")

    # 1. The signed-in user: by_pk's written-out query vs the ORM's get(pk=...).
    ours_backend, stock_backend = ThrottledModelBackend(), ModelBackend()
    alternate(
        "signed-in user lookup (SignedInUserLookup / by_pk)",
        lambda: ours_backend.get_user(user.pk),
        lambda: stock_backend.get_user(user.pk),
    )

    # 2. Regions and registries: the per-process snapshot vs loading them for each request.
    registry_cache.current()

    def loaded():
        registry_cache.forget()
        registry_cache.current()

    alternate(
        "catalog for a request (per-process snapshot)",
        lambda: (registry_cache.registry(registry.public_id), registry_cache.current().version),
        lambda: (
            loaded(),
            registry_cache.registry(registry.public_id),
            registry_cache.current().version,
        ),
    )

    # 3. A credential and its audit event: insert_together vs two saves in a transaction.
    def rows():
        credential = TemporaryCredential(
            user=user,
            project_name="cn-north-4",
            username=f"cn-north-4@P{time.perf_counter_ns()}",
            password_digest="0" * 64,
            expires_at=django.utils.timezone.now(),
        )
        event = AuditEvent.build(
            AuditEvent.Action.TEMPORARY_MINTED, Actor(user=user), credential=credential
        )
        return credential, event

    def together():
        insert_together(*rows())

    def atomic():
        credential, event = rows()
        with transaction.atomic():
            credential.save(force_insert=True)
            event.save(force_insert=True)

    alternate("credential + audit event stored (insert_together)", together, atomic, count=100)
    with CaptureQueriesContext(connection) as one:
        together()
    with CaptureQueriesContext(connection) as two:
        atomic()
    print(
        f"\nround trips: insert_together {len(one)}, atomic saves {len(two)}"
        " (BEGIN and COMMIT not listed)"
    )
    print("atomic saves:", "; ".join(query["sql"][:40] for query in two.captured_queries))


if __name__ == "__main__":
    main()
