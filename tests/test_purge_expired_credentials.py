from __future__ import annotations

import io
from datetime import timedelta

from django.core.management import call_command
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
