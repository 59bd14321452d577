"""Every endpoint under hostile input: NUL bytes, invalid UTF-8, 100 kB values, JSON nested
10,000 deep, wrong content types, junk credentials — never a 500, nothing stored (issue 14).

The endpoints are read from the URLconf, so a new one is fuzzed as soon as it exists; a new
URL parameter this test cannot fill, or a new unnamed pattern, fails it with a message saying
what to teach it.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from credentials.models import (
    AccessKey,
    Actor,
    LongTermCredential,
    Organization,
    Permission,
    Region,
    Registry,
    TemporaryCredential,
    User,
)
from tests.helpers import client_for

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("token_keys")]

# Unnamed patterns, and the paths that stand for them.
UNNAMED = {
    "favicon.ico": "/favicon.ico",
    "^v[23](?:/.*)?$": "/v2/fuzz/unknown",
    "(?P<url>.*)$": "/admin/fuzz/unknown/",  # the admin's catch-all
    "<path:object_id>/": "/admin/credentials/auditevent/1/",  # the admin's old change URLs
}
# The admin's many pages share one code path: fewer payloads there keep the test quick.
ADMIN_PAYLOADS = {"nul-in-query", "invalid-utf8-form", "100kB-values", "multipart-junk"}
# Endpoints whose action takes no input: a POST of anything does it (creates or deletes).
# The access-key list answers POST as its Create without JavaScript; neither takes input.
ACTIONS_WITHOUT_INPUT = {
    "access_keys",
    "create_access_key",
    "delete_access_key",
    "delete_long_term",
    "delete_organization",
}

BIG = "x" * 100_000
DEEP = b'{"auth": ' * 10_000 + b"{}" + b"}" * 10_000
JUNK_BASIC = "Basic " + base64.b64encode(b"cn-north-4@A\x00B:\xff\xfe").decode()


@dataclass(frozen=True)
class Payload:
    name: str
    query: str = ""
    body: bytes = b""
    content_type: str = "application/x-www-form-urlencoded"
    headers: tuple[tuple[str, str], ...] = ()
    malformed: bool = True  # must be refused before anything is stored
    refused_with: int | None = None  # the exact status, when every endpoint must give it


PAYLOADS = [
    Payload("nul-in-query", query="q=a%00b&next=%00", refused_with=400),
    Payload("nul-in-form", body=b"name=ci%00bot&username=ali%00ce&password=x%00", refused_with=400),
    Payload("invalid-utf8-query", query="q=%ff%fe", refused_with=400),
    Payload("invalid-utf8-form", body=b"name=%ff%fe&username=%c3%28", refused_with=400),
    Payload(
        "100kB-values",
        query=f"q={BIG[:4000]}",
        body=f"name={BIG}&username={BIG}&password={BIG}&kind={BIG}".encode(),
    ),
    Payload("deep-json", body=DEEP, content_type="application/json"),
    Payload("invalid-utf8-json", body=b'{"a": "\xff\xfe"}', content_type="application/json"),
    Payload("xml", body=b"<auth><user>alice</user></auth>", content_type="application/xml"),
    Payload("multipart-junk", body=b"--x\r\n\r\n\x00\xff", content_type="multipart/form-data"),
    Payload(
        "junk-credentials",
        body=b"{}",
        content_type="application/json",
        headers=(
            ("Authorization", JUNK_BASIC),
            ("X-Auth-Token", "\u00ff" * 300),
            ("X-Sdk-Date", "not-a-date"),
            ("X-Project-Id", BIG[:2000]),
        ),
    ),
]


@dataclass(frozen=True)
class Endpoint:
    name: str
    path: str


def _patterns(
    resolver: URLResolver, namespace: str = "", params: tuple[str, ...] = ()
) -> Iterator[tuple[str, URLPattern, tuple[str, ...]]]:
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from _patterns(pattern, inner, (*params, *pattern.pattern.regex.groupindex))
        else:
            yield namespace, pattern, params


def endpoints(values: dict[str, str]) -> list[Endpoint]:
    """Every URL pattern, as a path with its parameters filled from `values`."""
    found: dict[str, Endpoint] = {}
    for namespace, pattern, outer in _patterns(get_resolver()):
        if pattern.name is None:
            route = str(pattern.pattern)
            assert route in UNNAMED, (
                f"URL pattern {route!r} has no name: name it, or add it to UNNAMED in this test"
            )
            found[route] = Endpoint(route, UNNAMED[route])
            continue
        name = namespace + pattern.name
        params = [*outer, *pattern.pattern.regex.groupindex]
        missing = [param for param in params if param not in values]
        assert not missing, (
            f"the fuzz test cannot fill {missing} of URL {name!r}: add them to its values"
        )
        kwargs = {param: values[param] for param in params}
        try:
            path = reverse(name, kwargs=kwargs)
        except Exception as exc:  # an ambiguous name: the last pattern wins in reverse()
            pytest.fail(f"cannot build URL {name!r} with {kwargs}: {exc}")
        found[path] = Endpoint(name, path)
    return list(found.values())


@pytest.fixture
def world(owner: User, staff_user: User, registry: Registry) -> dict[str, str]:
    credential, _ = LongTermCredential.objects.create_for(
        owner=owner, registry=registry, name="ci", by=Actor(owner)
    )
    key, _ = AccessKey.objects.create_for(user=owner, by=Actor(owner))
    organization = Organization.objects.create_for(
        registry=registry, name="team-a", by=Actor(owner)
    )
    return {
        "registry_id": str(registry.public_id),
        "credential_id": str(credential.public_id),
        "key_id": str(key.public_id),
        "organization_id": str(organization.public_id),
        "namespace": organization.name,
        "repository": "app",
        "project_id": registry.project_id,
        "instance_id": "fuzz-instance",
        "object_id": str(credential.pk),
        "id": str(owner.pk),
        "app_label": "credentials",
        "content_type_id": "1",
        "url": "fuzz",
    }


def stored() -> tuple[int, ...]:
    return tuple(
        model.objects.count()
        for model in (
            User,
            Region,
            Registry,
            LongTermCredential,
            TemporaryCredential,
            AccessKey,
            Organization,
            Permission,
        )
    )


def send(client: Client, method: str, endpoint: Endpoint, payload: Payload):
    path = endpoint.path + (
        ("&" if "?" in endpoint.path else "?") + payload.query if payload.query else ""
    )
    return client.generic(
        method,
        path,
        data=payload.body if method != "GET" else b"",
        content_type=payload.content_type,
        headers=dict(payload.headers),
    )


@pytest.mark.parametrize("who", ["anonymous", "owner", "staff"])
def test_every_endpoint_refuses_hostile_input_without_a_500(
    world: dict[str, str], owner: User, staff_user: User, who: str
) -> None:
    client = {"anonymous": Client(), "owner": client_for(owner), "staff": client_for(staff_user)}[
        who
    ]
    client.raise_request_exception = False
    failures: list[str] = []
    for endpoint in endpoints(world):
        admin = endpoint.name.startswith("admin:")
        if admin and who == "owner":
            continue  # not staff: the admin is its sign-in page, fuzzed as anonymous
        for payload in PAYLOADS:
            if admin and payload.name not in ADMIN_PAYLOADS:
                continue
            for method in ("GET", "POST"):
                if method == "GET" and not (payload.query or payload.headers):
                    continue  # its hostile part is a body
                before = stored()
                response = send(client, method, endpoint, payload)
                status = response.status_code
                label = f"{method} {endpoint.name} [{payload.name}] as {who}: {status}"
                if status >= 500:
                    failures.append(label)
                elif payload.refused_with and status != payload.refused_with:
                    failures.append(f"{label}, expected {payload.refused_with}")
                elif (
                    payload.malformed
                    and stored() != before
                    and endpoint.name not in ACTIONS_WITHOUT_INPUT
                ):
                    failures.append(f"{label}, and it changed what is stored")
    assert not failures, f"{len(failures)} failures:\n" + "\n".join(failures)
