from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from credentials.models import Actor, AuditEvent, Registry, TemporaryCredential, User
from tests.helpers import mint_temporary


def test_it_deletes_only_long_expired_temporary_credentials_and_keeps_their_events(
    owner: User, registry: Registry
) -> None:
    old, _ = mint_temporary(owner, registry)
    recent, _ = mint_temporary(owner, registry)
    live, _ = mint_temporary(owner, registry)
    AuditEvent.record(AuditEvent.Action.TEMPORARY_MINTED, Actor(owner), credential=old)
    TemporaryCredential.objects.filter(pk=old.pk).update(
        expires_at=timezone.now() - timedelta(days=8)
    )
    TemporaryCredential.objects.filter(pk=recent.pk).update(
        expires_at=timezone.now() - timedelta(days=1)
    )

    out = io.StringIO()
    call_command("purge_expired_credentials", stdout=out)

    assert set(TemporaryCredential.objects.values_list("pk", flat=True)) == {recent.pk, live.pk}
    assert "Deleted 1 temporary credential(s)" in out.getvalue()
    assert AuditEvent.objects.filter(credential_username=old.username).exists()


def test_negative_days_are_refused_and_nothing_is_deleted(owner: User, registry: Registry) -> None:
    live, _ = mint_temporary(owner, registry)

    with pytest.raises(CommandError, match="--days must be 0 or more"):
        call_command("purge_expired_credentials", "--days", "-1", stdout=io.StringIO())

    assert TemporaryCredential.objects.filter(pk=live.pk).exists()
