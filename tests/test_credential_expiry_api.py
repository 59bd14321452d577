"""The expiry policy through Huawei's API, driven by the official SDK: the channel issue 15
added creates through LongTermCredential.objects.create_for, so LONG_TERM_MAX_DAYS holds."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
from huaweicloudsdkswr.v2 import (
    CreateInstanceLtCredentialRequest,
    CreateLongTermCredentialRequestBody,
    UpdateInstanceLtCredentialRequest,
    UpdateLongTermCredentialRequestBody,
)

from credentials.models import LongTermCredential, Registry, User
from tests.helpers import new_access_key
from tests.huawei_sdk import swr_client

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def swr(live_server, owner: User, registry: Registry):
    key, secret_key = new_access_key(owner)
    return swr_client(live_server.url, key.access_key_id, secret_key, registry.project_id)


def test_the_api_gets_the_longest_allowed_expiry_and_cannot_enable_an_expired_one(
    swr, registry: Registry, settings
) -> None:
    settings.LONG_TERM_MAX_DAYS = 30
    created = swr.create_instance_lt_credential(
        CreateInstanceLtCredentialRequest(
            instance_id=str(registry.public_id),
            body=CreateLongTermCredentialRequestBody(name="api-bot"),
        )
    )
    stored = LongTermCredential.objects.get(public_id=created.token_id)
    assert stored.expires_at - stored.created_at == timedelta(days=30)
    assert created.expire_date == stored.expires_at.strftime("%Y-%m-%dT%H:%M:%SZ")

    # Expired (its clock moved past the expiry): disabling works, enabling again does not.
    LongTermCredential.objects.filter(pk=stored.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    update = UpdateInstanceLtCredentialRequest(
        instance_id=str(registry.public_id),
        credential_id=created.token_id,
        body=UpdateLongTermCredentialRequestBody(enable=False),
    )
    swr.update_instance_lt_credential(update)
    update.body = UpdateLongTermCredentialRequestBody(enable=True)
    with pytest.raises(ClientRequestException) as refused:
        swr.update_instance_lt_credential(update)
    assert refused.value.status_code == 400
    assert "has expired" in refused.value.error_msg
    assert not LongTermCredential.objects.get(pk=stored.pk).is_enabled
