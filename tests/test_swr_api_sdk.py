"""Huawei's official SDK (huaweicloudsdkswr, huaweicloudsdkiam) drives a live console over HTTP,
signing every request with an access key (SDK-HMAC-SHA256), exactly as it drives Huawei Cloud."""

from __future__ import annotations

import base64
import re

import pytest
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
from huaweicloudsdkiam.v3 import (
    KeystoneCreateUserTokenByPasswordRequest,
    KeystoneCreateUserTokenByPasswordRequestBody,
    KeystoneValidateTokenRequest,
    PwdAuth,
    PwdIdentity,
    PwdPassword,
    PwdPasswordUser,
    PwdPasswordUserDomain,
)
from huaweicloudsdkiam.v3.model.auth_scope import AuthScope
from huaweicloudsdkiam.v3.model.auth_scope_project import AuthScopeProject
from huaweicloudsdkswr.v2 import (
    CreateAuthorizationTokenRequest,
    CreateInstanceLtCredentialRequest,
    CreateInstanceTempCredentialRequest,
    CreateLongTermCredentialRequestBody,
    CreateSecretRequest,
    DeleteInstanceLtCredentialRequest,
    ListInstanceLtCredentialsRequest,
    UpdateInstanceLtCredentialRequest,
    UpdateLongTermCredentialRequestBody,
)

from credentials.models import (
    AuditEvent,
    LongTermCredential,
    Registry,
    TemporaryCredential,
    User,
)
from tests.helpers import PASSWORD, client_for, new_access_key, new_credential
from tests.huawei_sdk import iam_client, signing_anew, swr_client

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def access_key(owner: User) -> tuple[str, str]:
    key, secret_key = new_access_key(owner)
    return key.access_key_id, secret_key


@pytest.fixture
def swr(live_server, access_key: tuple[str, str], registry: Registry):
    return swr_client(live_server.url, *access_key, registry.project_id)


def login_of(auth: str) -> tuple[str, str]:
    username, _, password = base64.b64decode(auth).decode().partition(":")
    return username, password


def test_create_secret_signed_with_an_access_key(swr, registry: Registry, owner: User) -> None:
    response = swr.create_secret(CreateSecretRequest(projectname="cn-north-4"))
    username, password = login_of(response.auths[registry.address].auth)
    assert re.fullmatch(r"cn-north-4@[A-Z0-9]{20}", username)
    assert (
        response.x_swr_dockerlogin == f"docker login -u {username} -p {password} {registry.address}"
    )
    assert response.x_swr_expireat.endswith("Z")
    credential = TemporaryCredential.objects.get(username=username)
    assert credential.user == owner
    event = AuditEvent.objects.get(action="temporary.issued", credential_username=username)
    assert (event.channel, event.actor) == ("api", owner)


def test_create_secret_defaults_to_the_project_of_the_signed_project_id(
    swr, registry: Registry
) -> None:
    response = swr.create_secret(CreateSecretRequest())
    assert list(response.auths) == [registry.address]


def test_create_authorization_token(swr, registry: Registry) -> None:
    response = swr.create_authorization_token(CreateAuthorizationTokenRequest())
    username, _ = login_of(response.auths[registry.address].auth)
    assert TemporaryCredential.objects.filter(username=username).exists()
    assert response.x_swr_expireat.endswith("Z")


def test_long_term_credentials_create_list_update_delete(
    swr, registry: Registry, owner: User, other_user: User
) -> None:
    instance = str(registry.public_id)
    created = [
        swr.create_instance_lt_credential(
            CreateInstanceLtCredentialRequest(
                instance_id=instance, body=CreateLongTermCredentialRequestBody(name=f"ci-{n}")
            )
        )
        for n in range(3)
    ]
    first = created[0]
    assert re.fullmatch(r"[0-9a-f]{64}", first.auth_token)
    assert re.fullmatch(r"cn-north-4@[A-Z0-9]{20}", first.user_id)
    assert first.expire_date == "-1"
    stored = LongTermCredential.objects.get(public_id=first.token_id)
    assert (stored.name, stored.owner, stored.username) == ("ci-0", owner, first.user_id)
    assert first.auth_token not in str(list(LongTermCredential.objects.values()))
    new_credential(other_user, registry, "bobs")

    page = swr.list_instance_lt_credentials(
        ListInstanceLtCredentialsRequest(instance_id=instance, offset=0, limit=2)
    )
    assert page.total == 3
    assert [t.name for t in page.auth_tokens] == ["ci-2", "ci-1"]
    rest = swr.list_instance_lt_credentials(
        ListInstanceLtCredentialsRequest(instance_id=instance, offset=2, limit=2, self_only=True)
    )
    assert [t.name for t in rest.auth_tokens] == ["ci-0"]
    assert rest.auth_tokens[0].enable is True
    assert rest.auth_tokens[0].user_profile == "alice"
    assert rest.auth_tokens[0].instance_id == instance

    swr.update_instance_lt_credential(
        UpdateInstanceLtCredentialRequest(
            instance_id=instance,
            credential_id=first.token_id,
            body=UpdateLongTermCredentialRequestBody(enable=False),
        )
    )
    stored.refresh_from_db()
    assert stored.is_enabled is False
    swr.delete_instance_lt_credential(
        DeleteInstanceLtCredentialRequest(instance_id=instance, credential_id=created[1].token_id)
    )
    assert not LongTermCredential.objects.filter(public_id=created[1].token_id).exists()

    actions = list(
        AuditEvent.objects.filter(actor=owner, channel="api")
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == ["long_term.created"] * 3 + ["long_term.disabled", "long_term.deleted"]

    # One system: the console's tab shows what the API made.
    page = client_for(owner).get(f"/registries/{registry.public_id}/access-credentials/long-term/")
    assert b"ci-0" in page.content
    assert b"ci-2" in page.content
    assert b"ci-1" not in page.content


def test_self_only_false_lists_everyones_for_registry_administrators_only(
    live_server, swr, registry: Registry, owner: User, other_user: User, auditor: User
) -> None:
    instance = str(registry.public_id)
    new_credential(other_user, registry, "bobs")
    everyone = ListInstanceLtCredentialsRequest(instance_id=instance, self_only=False)
    with pytest.raises(ClientRequestException) as refused:
        swr.list_instance_lt_credentials(everyone)
    assert (refused.value.status_code, refused.value.error_code) == (403, "SVCSTG.SWR.4030170")

    key, secret_key = new_access_key(auditor)
    admin = swr_client(live_server.url, key.access_key_id, secret_key, registry.project_id)
    listed = admin.list_instance_lt_credentials(everyone)
    assert [(t.name, t.user_profile) for t in listed.auth_tokens] == [("bobs", "bob")]


def test_the_console_rules_hold_through_the_api(swr, registry: Registry, owner: User) -> None:
    instance = str(registry.public_id)

    def create(name: str):
        return swr.create_instance_lt_credential(
            CreateInstanceLtCredentialRequest(
                instance_id=instance, body=CreateLongTermCredentialRequestBody(name=name)
            )
        )

    for bad in ("Has-Capitals", "a..b", "-start"):
        with pytest.raises(ClientRequestException) as refused:
            create(bad)
        assert (refused.value.status_code, refused.value.error_code) == (400, "SVCSTG.SWR.4001036")
    create("twice")
    signing_anew(swr)  # else, in the same second, the first call's replay
    with pytest.raises(ClientRequestException) as refused:
        create("twice")
    assert "already have" in refused.value.error_msg
    assert LongTermCredential.objects.count() == 1

    owner.is_federated = True
    owner.save()
    with pytest.raises(ClientRequestException) as refused:
        create("federated")
    assert refused.value.status_code == 401  # a federated user's access key is refused


def test_the_generation_limit_is_shared_with_the_console(
    swr, registry: Registry, owner: User, settings
) -> None:
    settings.TEMPORARY_CREDENTIALS_PER_MINUTE = 2
    request = CreateInstanceTempCredentialRequest(instance_id=str(registry.public_id))
    created = swr.create_instance_temp_credential(request)
    assert re.fullmatch(r"[0-9a-f]{64}", created.auth_token)
    assert TemporaryCredential.objects.filter(username=created.user_id).exists()
    client_for(owner).post(
        f"/registries/{registry.public_id}/access-credentials/temporary/generate/",
        {"kind": "image"},
    )
    signing_anew(swr)  # else, in the same second, the first call's replay
    with pytest.raises(ClientRequestException) as refused:
        swr.create_instance_temp_credential(request)
    assert (refused.value.status_code, refused.value.error_code) == (403, "SVCSTG.SWR.4031042")
    assert TemporaryCredential.objects.count() == 2


def test_iam_token_created_and_validated(
    live_server, access_key: tuple[str, str], registry: Registry
) -> None:
    iam = iam_client(live_server.url, *access_key, registry.project_id)
    body = KeystoneCreateUserTokenByPasswordRequestBody(
        auth=PwdAuth(
            identity=PwdIdentity(
                methods=["password"],
                password=PwdPassword(
                    user=PwdPasswordUser(
                        domain=PwdPasswordUserDomain(name="acme"), name="alice", password=PASSWORD
                    )
                ),
            ),
            scope=AuthScope(project=AuthScopeProject(name="cn-north-4")),
        )
    )
    created = iam.keystone_create_user_token_by_password(
        KeystoneCreateUserTokenByPasswordRequest(body=body)
    )
    token = created.x_subject_token
    assert token
    assert created.token.user.name == "alice"
    validated = iam.keystone_validate_token(KeystoneValidateTokenRequest(x_subject_token=token))
    assert validated.token.expires_at == created.token.expires_at
    assert validated.token.project.id == registry.project_id
    with pytest.raises(ClientRequestException) as refused:
        iam.keystone_validate_token(KeystoneValidateTokenRequest(x_subject_token="forged"))
    assert refused.value.status_code == 404
