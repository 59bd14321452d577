"""Server time of the audit, credential, permission and organization changelists at scale,
against a minimal admin page.

Run with `make bench-admin` (a throwaway PostgreSQL) or with DATABASE_URL pointing at an empty
database. Seeds 1,000,000 events, 100,000 credentials, 1,000 organizations and 100,000 grants
(seed_demo_data's defaults) unless told otherwise, then times
each page in-process (Django's test client: no network, no browser), median of N runs, the
pages taken in turn.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

import djangoenv

os.environ["ALLOWED_HOSTS"] = "testserver"
djangoenv.setup()

from django.contrib.admin import ModelAdmin  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402

from credentials.admin.base import LargeTableAdmin  # noqa: E402
from credentials.models import AuditEvent, LongTermCredential, Permission, User  # noqa: E402

# --pieces: each page again without one piece of the admin's machinery, Django's own in its
# place (credentials/admin/base.py), so each piece is measured alone in the same run.
OURS = {name: LargeTableAdmin.__dict__[name] for name in ("action_checkbox", "get_changelist")}
WITHOUT = {
    "": {},
    "Django's row checkbox": {"action_checkbox": ModelAdmin.action_checkbox},
    "Django's ChangeList": {"get_changelist": ModelAdmin.get_changelist},
}


def serve(without: str) -> None:
    for name, method in (OURS | WITHOUT[without]).items():
        setattr(LargeTableAdmin, name, method)


def timed(client: Client, urls: list[tuple[str, str]], runs: int) -> list[tuple[float, float]]:
    """Median and p90 ms of each URL, the URLs taken in turn run after run: every page (the
    minimal one included) meets the same moments of a noisy machine, so their ratios hold."""
    for url, without in urls:
        serve(without)
        for _ in range(3):
            assert client.get(url).status_code == 200, url
    samples: list[list[float]] = [[] for _ in urls]
    for _ in range(runs):
        for (url, without), times in zip(urls, samples, strict=True):
            serve(without)
            start = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - start) * 1000)
            assert response.status_code == 200, url
    results = []
    for times in samples:
        times.sort()
        results.append((statistics.median(times), times[int(len(times) * 0.9) - 1]))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--credentials", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--no-seed", action="store_true", help="Use the data already there.")
    parser.add_argument("--pieces", action="store_true", help="Each page without each piece.")
    args = parser.parse_args()

    call_command("migrate", verbosity=0)
    if not args.no_seed:
        started = time.perf_counter()
        call_command("seed_demo_data", events=args.events, credentials=args.credentials)
        print(f"seeded in {time.perf_counter() - started:.0f} s")
    call_command("collectstatic", interactive=False, verbosity=0)

    admin, _ = User.objects.get_or_create(username="bench-admin", defaults={"is_staff": True})
    admin.is_staff = admin.is_superuser = True
    admin.save()
    client = Client()
    client.force_login(admin)

    some_event = AuditEvent.objects.filter(action="long_term.disabled").first()
    some_credential = LongTermCredential.objects.order_by("?").first()
    grants = Permission.objects.select_related("organization", "user")
    some_grant = grants.order_by("?").first()
    some_user_grant = grants.filter(user__isnull=False).order_by("?").first()
    pages = [
        ("minimal admin page (regions, 1 row)", "/admin/credentials/region/"),
        ("audit: first page", "/admin/credentials/auditevent/"),
        ("audit: filtered (action + this month)",
         "/admin/credentials/auditevent/?action__exact=long_term.disabled"
         f"&created_at__gte={some_event.created_at.date().replace(day=1)}%2000:00:00%2B00:00"),
        ("audit: search by credential username",
         f"/admin/credentials/auditevent/?q={some_event.credential_username}"),
        ("credentials: first page", "/admin/credentials/longtermcredential/"),
        ("credentials: filtered (disabled, never used)",
         "/admin/credentials/longtermcredential/?is_enabled__exact=0&used=never"),
        ("credentials: search by username",
         f"/admin/credentials/longtermcredential/?q={some_credential.username}"),
        # Prefix search (issue 17): the beginning of a name, served by pattern-ops indexes.
        ("credentials: search by a name's beginning",
         f"/admin/credentials/longtermcredential/?q={some_credential.name[:-1]}"),
        ("audit: search by a username's beginning",
         f"/admin/credentials/auditevent/?q={some_event.credential_username[:16]}"),
        # Issue 24: 1,000 organizations and 100,000 grants (seed_demo_data's defaults).
        ("permissions: first page", "/admin/credentials/permission/"),
        ("permissions: filtered (Manage)", "/admin/credentials/permission/?level=7"),
        ("permissions: filtered (one organization)",
         f"/admin/credentials/permission/?organization={some_grant.organization.name}"
         f"&registry={some_grant.organization.registry_id}"),
        ("permissions: filtered (one user)",
         f"/admin/credentials/permission/?user={some_user_grant.user.username}"),
        ("permissions: search by an organization prefix",
         f"/admin/credentials/permission/?q={some_grant.organization.name[:-1]}"),
        ("organizations: first page", "/admin/credentials/organization/"),
    ]  # fmt: skip
    pages = [(label, url, "") for label, url in pages]
    if args.pieces:
        pages[1:] = [
            (f"{label}, {without}" if without else label, url, without)
            for label, url, _ in pages[1:]
            for without in WITHOUT
        ]
    print(
        f"\n{AuditEvent.objects.count():,} events, {LongTermCredential.objects.count():,} "
        f"credentials, {Permission.objects.count():,} grants; "
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, median of {args.runs} runs, pages in turn\n"
    )
    print(f"| {'page':<46} | median ms | p90 ms | × minimal |")
    print(f"|{'-' * 48}|----------:|-------:|----------:|")
    results = timed(client, [(url, without) for _, url, without in pages], args.runs)
    baseline = results[0][0]
    for (label, _, _), (median, p90) in zip(pages, results, strict=True):
        print(f"| {label:<46} | {median:9.1f} | {p90:6.1f} | {median / baseline:9.2f} |")


if __name__ == "__main__":
    main()
