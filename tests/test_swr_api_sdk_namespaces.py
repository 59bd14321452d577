"""Huawei's official SDK (huaweicloudsdkswr) drives every organization and permission operation
on a live console, each request signed with an access key (SDK-HMAC-SHA256): the organizations
(create, list, show, delete), their permissions and a repository's (create, show, update,
delete), with the `user_id` the SDK's own IAM client is given for a user."""

from __future__ import annotations

import pytest
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
from huaweicloudsdkiam.v3 import (
    KeystoneCreateUserTokenByPasswordRequest,
    KeystoneCreateUserTokenByPasswordRequestBody,
    PwdAuth,
    PwdIdentity,
    PwdPassword,
    PwdPasswordUser,
    PwdPasswordUserDomain,
)
from huaweicloudsdkswr.v2 import (
    CreateNamespaceAuthRequest,
    CreateNamespaceRequest,
    CreateNamespaceRequestBody,
    CreateUserRepositoryAuthRequest,
    DeleteNamespaceAuthRequest,
    DeleteNamespacesRequest,
    DeleteUserRepositoryAuthRequest,
    ListNamespacesRequest,
    ShowNamespaceAuthRequest,
    ShowNamespaceRequest,
    ShowUserRepositoryAuthRequest,
    UpdateNamespaceAuthRequest,
    UpdateUserRepositoryAuthRequest,
    UserAuth,
)

from credentials.models import AuditEvent, Organization, Permission, Registry, User
from credentials.rules import EDIT, MANAGE, READ
from tests.helpers import PASSWORD, new_access_key
from tests.huawei_sdk import iam_client, signing_anew, swr_client

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def swr(live_server, owner: User, registry: Registry):
    """Alice's SDK client, signing with her access key, project the registry's."""
    key, secret_key = new_access_key(owner)
    return swr_client(live_server.url, key.access_key_id, secret_key, registry.project_id)


@pytest.fixture
def bobs_swr(live_server, other_user: User, registry: Registry):
    key, secret_key = new_access_key(other_user)
    return swr_client(live_server.url, key.access_key_id, secret_key, registry.project_id)


@pytest.fixture
def bob_id(live_server, owner: User, other_user: User, registry: Registry) -> str:
    """Bob's `user_id` as the SDK's IAM client is told it: `token.user.id` of his token."""
    key, secret_key = new_access_key(owner)
    iam = iam_client(live_server.url, key.access_key_id, secret_key, registry.project_id)
    user = PwdPasswordUser(domain=PwdPasswordUserDomain(name="acme"), name="bob", password=PASSWORD)
    identity = PwdIdentity(methods=["password"], password=PwdPassword(user=user))
    body = KeystoneCreateUserTokenByPasswordRequestBody(auth=PwdAuth(identity=identity))
    created = iam.keystone_create_user_token_by_password(
        KeystoneCreateUserTokenByPasswordRequest(body=body)
    )
    return created.token.user.id


def refusal(call) -> tuple[int, str]:
    with pytest.raises(ClientRequestException) as refused:
        call()
    return refused.value.status_code, refused.value.error_code


def test_the_sdk_creates_lists_shows_and_deletes_organizations(
    swr, registry: Registry, owner: User
) -> None:
    swr.create_namespace(
        CreateNamespaceRequest(body=CreateNamespaceRequestBody(namespace="team-a"))
    )
    swr.create_namespace(CreateNamespaceRequest(body=CreateNamespaceRequestBody(namespace="web")))
    organization = Organization.objects.get(registry=registry, name="team-a")
    assert organization.level_of(owner) == MANAGE

    listed = swr.list_namespaces(ListNamespacesRequest()).namespaces
    assert [(n.name, n.creator_name, n.auth) for n in listed] == [
        ("team-a", "alice", MANAGE),
        ("web", "alice", MANAGE),
    ]
    found = swr.list_namespaces(ListNamespacesRequest(filter="namespace::team|mode::visible"))
    assert [n.name for n in found.namespaces] == ["team-a"]
    assert [
        n.name for n in swr.list_namespaces(ListNamespacesRequest(namespace="we")).namespaces
    ] == ["web"]

    shown = swr.show_namespace(ShowNamespaceRequest(namespace="team-a"))
    assert (shown.id, shown.name, shown.creator_name, shown.auth) == (
        organization.pk,
        "team-a",
        "alice",
        MANAGE,
    )
    swr.delete_namespaces(DeleteNamespacesRequest(namespace="web"))
    assert list(Organization.objects.values_list("name", flat=True)) == ["team-a"]

    events = AuditEvent.objects.filter(channel="api", actor=owner).order_by("id")
    assert [e.action for e in events] == [
        "organization.created",
        "permission.granted",
        "organization.created",
        "permission.granted",
        "permission.revoked",
        "organization.deleted",
    ]


def test_the_sdk_grants_shows_changes_and_revokes_permissions_on_an_organization(
    swr, bob_id: str, owner: User, other_user: User
) -> None:
    swr.create_namespace(
        CreateNamespaceRequest(body=CreateNamespaceRequestBody(namespace="team-a"))
    )
    team_a = Organization.objects.get(name="team-a")

    def bob(auth: int) -> list[UserAuth]:
        return [UserAuth(user_id=bob_id, user_name="bob", auth=auth)]

    swr.create_namespace_auth(CreateNamespaceAuthRequest(namespace="team-a", body=bob(READ)))
    assert team_a.level_of(other_user) == READ
    shown = swr.show_namespace_auth(ShowNamespaceAuthRequest(namespace="team-a"))
    assert (shown.id, shown.name, shown.creator_name) == (team_a.pk, "team-a", "alice")
    assert (shown.self_auth.user_id, shown.self_auth.user_name, shown.self_auth.auth) == (
        str(owner.pk),
        "alice",
        MANAGE,
    )
    assert [(o.user_id, o.user_name, o.auth) for o in shown.others_auths] == [(bob_id, "bob", READ)]
    swr.update_namespace_auth(UpdateNamespaceAuthRequest(namespace="team-a", body=bob(EDIT)))
    assert team_a.level_of(other_user) == EDIT
    swr.delete_namespace_auth(DeleteNamespaceAuthRequest(namespace="team-a", body=[bob_id]))
    assert team_a.level_of(other_user) == 0

    changes = AuditEvent.objects.filter(channel="api", detail__user="bob").order_by("id")
    assert [(e.action, e.detail["old_level"], e.detail["new_level"]) for e in changes] == [
        ("permission.granted", 0, READ),
        ("permission.changed", READ, EDIT),
        ("permission.revoked", EDIT, 0),
    ]


def test_the_sdk_grants_shows_changes_and_revokes_permissions_on_a_repository(
    swr, bob_id: str, owner: User, other_user: User
) -> None:
    swr.create_namespace(
        CreateNamespaceRequest(body=CreateNamespaceRequestBody(namespace="team-a"))
    )
    team_a = Organization.objects.get(name="team-a")
    where = {"namespace": "team-a", "repository": "tools$app"}  # team-a/tools/app

    def bob(auth: int) -> list[UserAuth]:
        return [UserAuth(user_id=bob_id, user_name="bob", auth=auth)]

    swr.create_user_repository_auth(CreateUserRepositoryAuthRequest(**where, body=bob(MANAGE)))
    assert (team_a.level_of(other_user, "tools/app"), team_a.level_of(other_user)) == (MANAGE, 0)
    shown = swr.show_user_repository_auth(ShowUserRepositoryAuthRequest(**where))
    assert (shown.id, shown.name, shown.self_auth.auth) == (team_a.pk, "tools/app", MANAGE)
    assert [(o.user_id, o.auth) for o in shown.others_auths] == [(bob_id, MANAGE)]
    swr.update_user_repository_auth(UpdateUserRepositoryAuthRequest(**where, body=bob(READ)))
    assert team_a.level_of(other_user, "tools/app") == READ
    swr.delete_user_repository_auth(DeleteUserRepositoryAuthRequest(**where, body=[bob_id]))
    assert not Permission.objects.filter(repository="tools/app").exists()

    changes = AuditEvent.objects.filter(channel="api", detail__repository="tools/app")
    assert [e.action for e in changes.order_by("id")] == [
        "permission.granted",
        "permission.changed",
        "permission.revoked",
    ]


def test_the_sdk_reads_huaweis_errors_and_nothing_changes(
    swr, bobs_swr, bob_id: str, owner: User, other_user: User
) -> None:
    def create(name: str):
        return lambda: swr.create_namespace(
            CreateNamespaceRequest(body=CreateNamespaceRequestBody(namespace=name))
        )

    create("team-a")()
    assert refusal(create("Team-A")) == (400, "SVCSTG.SWR.4001028")
    signing_anew(swr)  # else, in the same second, the first create's replay
    assert refusal(create("team-a")) == (409, "SVCSTG.SWR.4090060")
    assert refusal(lambda: swr.show_namespace(ShowNamespaceRequest(namespace="none"))) == (
        404,
        "SVCSTG.SWR.4040058",
    )
    seven = [UserAuth(user_id=bob_id, user_name="bob", auth=2)]
    assert refusal(
        lambda: swr.create_namespace_auth(
            CreateNamespaceAuthRequest(namespace="team-a", body=seven)
        )
    ) == (400, "SVCSTG.SWR.4001066")
    nobody = [UserAuth(user_id="424242", user_name="nobody", auth=READ)]
    assert refusal(
        lambda: swr.create_namespace_auth(
            CreateNamespaceAuthRequest(namespace="team-a", body=nobody)
        )
    ) == (400, "SVCSTG.SWR.4001067")

    # Bob, a Read holder, can neither grant, revoke, nor delete the organization.
    team_a = Organization.objects.get(name="team-a")
    reading = [UserAuth(user_id=bob_id, user_name="bob", auth=READ)]
    swr.create_namespace_auth(CreateNamespaceAuthRequest(namespace="team-a", body=reading))
    alice = [UserAuth(user_id=str(owner.pk), user_name="alice", auth=READ)]
    for attempt in (
        lambda: bobs_swr.update_namespace_auth(
            UpdateNamespaceAuthRequest(namespace="team-a", body=alice)
        ),
        lambda: bobs_swr.delete_namespace_auth(
            DeleteNamespaceAuthRequest(namespace="team-a", body=[str(owner.pk)])
        ),
        lambda: bobs_swr.delete_namespaces(DeleteNamespacesRequest(namespace="team-a")),
    ):
        assert refusal(attempt) == (403, "SVCSTG.SWR.4039002")
    # Alice, its last Manage holder, cannot step down.
    assert refusal(
        lambda: swr.update_namespace_auth(
            UpdateNamespaceAuthRequest(namespace="team-a", body=alice)
        )
    ) == (400, "SVCSTG.SWR.4001065")
    assert (team_a.level_of(owner), team_a.level_of(other_user)) == (MANAGE, READ)
    assert AuditEvent.objects.filter(action__startswith="permission.").count() == 2
