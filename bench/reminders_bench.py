"""Time of `manage.py send_credential_reminders` over 100,000 long-term credentials.

Run with `make bench-reminders` (a throwaway PostgreSQL) or with DATABASE_URL pointing at an
empty database. Seeds --credentials credentials (PostgreSQL COPY through seed rows below), a
--due share of them expiring within 7 days, then times, in-process:

- the first run, which e-mails every due owner (to an aiosmtpd server on 127.0.0.1, as the
  tests do, or Django's in-memory backend with --memory);
- the steady state: the same run again, with every reminder already sent — what cron pays
  every few minutes;
- the stale policy disabling every credential unused for 90 days (--stale of them).

Queries per batch are counted too (Django's CaptureQueriesContext).
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import time
import uuid
from datetime import timedelta

import djangoenv

djangoenv.setup(LOG_LEVEL="WARNING")

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from credentials.lifecycle import schedule  # noqa: E402
from credentials.models import LongTermCredential, Region, Registry, User  # noqa: E402


def seed(total: int, due: int, stale: int) -> None:
    """`total` credentials over 1,000 owners with e-mail addresses: `due` expire in 5 days
    (the 7-day reminder), `stale` were last used 200 days ago (the rest yesterday), the rest
    never expire."""
    now = timezone.now()
    region, _ = Region.objects.get_or_create(name="cn-north-4")
    registry, _ = Registry.objects.get_or_create(
        region=region, name="bench", defaults={"address": "bench.registry.test"}
    )
    User.objects.bulk_create(
        User(username=f"owner{n}", email=f"owner{n}@example.test") for n in range(1000)
    )
    owners = list(User.objects.filter(username__startswith="owner").values_list("pk", flat=True))
    buffer = io.StringIO()
    for n in range(total):
        expires = (now + timedelta(days=5)).isoformat() if n < due else r"\N"
        # The stale ones were last used 200 days ago, every other one yesterday.
        used = (now - timedelta(days=200 if n >= total - stale else 1)).isoformat()
        created = (now - timedelta(days=300)).isoformat()
        buffer.write(
            f"{uuid.uuid4()}\t{owners[n % len(owners)]}\t{registry.pk}\t"
            f"bench-{n}\tcn-north-4@BENCH{n:015d}\t{'0' * 64}\tt\t{created}\t{used}\t{expires}"
            "\t\n"
        )
    buffer.seek(0)
    table = LongTermCredential._meta.db_table
    columns = (
        "public_id, owner_id, registry_id, name, username, password_digest, is_enabled, "
        "created_at, last_used_at, expires_at, previous_password_digest"
    )
    with (
        connection.cursor() as cursor,
        cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
    ):
        copy.write(buffer.getvalue())
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {table}")


def timed_run(label: str, batch_size: int) -> None:
    started = time.perf_counter()
    with CaptureQueriesContext(connection) as queries:
        report = schedule.run(batch_size=batch_size)
    elapsed = time.perf_counter() - started
    print(
        f"{label:<44} {elapsed:8.2f} s  {len(queries):6d} queries  "
        f"sent {report.reminders_sent}, disabled {report.disabled}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--credentials", type=int, default=100_000)
    parser.add_argument("--due", type=int, default=10_000)
    parser.add_argument("--stale", type=int, default=10_000)
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--memory", action="store_true", help="Mail to memory, not SMTP.")
    args = parser.parse_args()

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    seed(args.credentials, args.due, args.stale)
    print(f"seeded {args.credentials} credentials in {time.perf_counter() - started:.0f} s")
    print(f"{platform.node()}, {os.cpu_count()} cores, shared with other work")

    controller = None
    if args.memory:
        settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    else:
        from tests.smtp import Mailbox, _EphemeralPortController

        box = Mailbox()
        controller = _EphemeralPortController(box, hostname="127.0.0.1", port=0)
        controller.start()
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", controller.port
    settings.DEBUG = True  # CaptureQueriesContext counts with or without; keep it explicit
    try:
        timed_run(f"first run: {args.due} reminders due", args.batch_size)
        timed_run("steady state: nothing due", args.batch_size)
        settings.DISABLE_UNUSED_AFTER_DAYS = 90
        timed_run(f"stale policy: {args.stale} unused for 90 days", args.batch_size)
        timed_run("stale policy again: nothing to disable", args.batch_size)
    finally:
        if controller:
            controller.stop()


if __name__ == "__main__":
    main()
