"""The benchmarks' seed command fills every column of what it copies (it failed when audit
events gained their channel column, which it did not name)."""

from __future__ import annotations

import io

from django.core.management import call_command

from credentials.models import AuditEvent, LongTermCredential


def test_it_seeds_credentials_and_events_with_every_column(db: None) -> None:
    call_command(
        "seed_demo_data", users=3, credentials=20, events=30, bench_credentials=5,
        stdout=io.StringIO(),
    )  # fmt: skip
    assert LongTermCredential.objects.count() == 20
    assert AuditEvent.objects.count() == 30
    assert set(AuditEvent.objects.values_list("channel", flat=True)) == {"console"}
