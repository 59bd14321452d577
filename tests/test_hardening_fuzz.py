"""Every endpoint under hostile input (issues 14 and 23): lone surrogates, NUL, overlong
UTF-8, 1 MB fields, JSON nested 10,000 deep and every kind of content type, in the query, the
body (form, JSON, multipart) and the headers the console reads (tests/fuzz.py), sent by an
anonymous client, a user and a staff member (who, on Huawei's API, hold an IAM token and sign
with an access key, so the input reaches what lies behind authentication). Never a 500, nothing
stored, and every error of a machine API in that API's JSON shape: Huawei's `error_code` /
`error_msg` under /v2 and /v3, the token service's docker or RFC 6749 errors.

The endpoints are read from the URLconf, so a new one is fuzzed as soon as it exists; a new
URL parameter this test cannot fill, or a new unnamed pattern, fails it with a message saying
what to teach it. Each endpoint gets each payload from at least one client (all of them on the
machine APIs); the admin's many pages share one code path, so each gets one payload of each
kind, chosen by turns: the sample is the same every run.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test import Client, RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from credentials.api import signing
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
from credentials.registry import attempts
from tests.fuzz import API_PATH, KINDS, PAYLOADS, TOKEN_PATH, Payload, shape_problem
from tests.helpers import client_for

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("token_keys")]

# Unnamed patterns, and the paths that stand for them.
UNNAMED = {
    "favicon.ico": "/favicon.ico",
    "^v[23](?:/.*)?$": "/v2/fuzz/unknown",
    "(?P<url>.*)$": "/admin/fuzz/unknown/",  # the admin's catch-all
    "<path:object_id>/": "/admin/credentials/auditevent/1/",  # the admin's old change URLs
}
# Endpoints whose action takes no input: a POST of anything does it (creates or deletes).
# The access-key list answers POST as its Create without JavaScript; neither takes input;
# Huawei's login commands and temp-credential take no body.
ACTIONS_WITHOUT_INPUT = {
    "access_keys",
    "create_access_key",
    "delete_access_key",
    "delete_long_term",
    "delete_organization",
    "api_create_secret",
    "api_create_authorization_token",
    "api_create_temporary",
}
# Answered before any middleware reads the request (the load balancer's health check): a
# hostile query or body is never read, so it is not refused either; it still gets no 500.
ANSWERED_BEFORE_INPUT = {"healthz"}
WHO = ("anonymous", "owner", "staff")


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
        "instance_id": str(registry.public_id),  # a real one: its handlers read the input
        "object_id": str(credential.pk),
        "id": str(owner.pk),
        "app_label": "credentials",
        "content_type_id": "1",
        "url": "fuzz",
    }


STORED = (
    User,
    Region,
    Registry,
    LongTermCredential,
    TemporaryCredential,
    AccessKey,
    Organization,
    Permission,
)
# One query for all of them (about 5,000 are made): SELECT (SELECT COUNT(*) FROM …), …
COUNTS = "SELECT " + ", ".join(
    f"(SELECT COUNT(*) FROM {connection.ops.quote_name(model._meta.db_table)})" for model in STORED
)


def stored() -> tuple[int, ...]:
    """How many rows each table of what the console stores holds."""
    with connection.cursor() as cursor:
        cursor.execute(COUNTS)
        return tuple(cursor.fetchone())


def methods(endpoint: Endpoint, payload: Payload) -> list[str]:
    """GET when the payload has a query or headers; POST always (a body, or none with the rest);
    PUT too on the machine APIs: Huawei's updates take a JSON body, and the token service
    refuses it in its own JSON."""
    chosen = ["GET"] if payload.query or payload.headers else []
    chosen.append("POST")
    if (API_PATH.match(endpoint.path) or endpoint.path == TOKEN_PATH) and payload.body:
        chosen.append("PUT")
    return chosen


def plan(found: list[Endpoint]) -> Iterator[tuple[Endpoint, Payload, str]]:
    """Who sends which payload where. On the machine APIs, every payload from the user (an IAM
    token) and staff (signing with an access key), and by turns from the anonymous client; on
    the console's pages, every payload from one of the three, by turns. An admin page gets one
    payload of each kind from staff and one of all from the anonymous client (its sign-in
    redirect), by turns. A heavy payload only from the user, and not on the admin."""
    for e, endpoint in enumerate(found):
        if endpoint.name.startswith("admin:"):
            light = [payload for payload in PAYLOADS if not payload.heavy]
            for k, kind in enumerate(KINDS):
                of_kind = [payload for payload in light if payload.kind == kind]
                yield endpoint, of_kind[(e + k) % len(of_kind)], "staff"
            yield endpoint, light[e % len(light)], "anonymous"
            continue
        machine = API_PATH.match(endpoint.path) or endpoint.path == TOKEN_PATH
        for p, payload in enumerate(PAYLOADS):
            if payload.heavy:
                yield endpoint, payload, "owner"
            elif machine:
                yield endpoint, payload, "owner"
                yield endpoint, payload, "staff"
                if (e + p) % 3 == 0:
                    yield endpoint, payload, "anonymous"
            else:
                yield endpoint, payload, WHO[(e + p) % len(WHO)]


@dataclass
class Caller:
    """A client of the fuzz, and how it authenticates on Huawei's API."""

    client: Client
    token: str = ""  # an IAM token (X-Auth-Token)
    key: tuple[str, str] | None = None  # an access key: (access key ID, secret key)
    project_id: str = ""  # the project its signed requests name

    def send(self, method: str, endpoint: Endpoint, payload: Payload):
        path = endpoint.path + (
            ("&" if "?" in endpoint.path else "?") + payload.query if payload.query else ""
        )
        body = payload.body if method != "GET" else b""
        headers = dict(payload.headers)
        if API_PATH.match(endpoint.path):
            headers = self._api_credentials(method, path, body, payload) | headers
        if "Cookie" in headers:  # beside the session's, not instead of it
            session = "; ".join(f"{c.key}={c.coded_value}" for c in self.client.cookies.values())
            headers["Cookie"] = f"{session}; {headers['Cookie']}"
        return self.client.generic(
            method, path, data=body, content_type=payload.content_type, headers=headers
        )

    def _api_credentials(
        self, method: str, path: str, body: bytes, payload: Payload
    ) -> dict[str, str]:
        if self.token:
            return {"X-Auth-Token": self.token}
        if self.key is None:
            return {}
        # Signed as the SDK signs: every header sent, over the request Django will see.
        access_key_id, secret_key = self.key
        moment = datetime.now(UTC).replace(microsecond=0)
        headers = {
            "Host": "testserver",
            "X-Sdk-Date": moment.strftime(signing.DATE_FORMAT),
            "X-Project-Id": self.project_id,
        }
        if body:
            headers["Content-Type"] = payload.content_type
        names = tuple(sorted(name.lower() for name in headers))
        twin = RequestFactory().generic(
            method, path, data=body, content_type=payload.content_type, headers=headers
        )
        try:
            canonical = signing.canonical_request(twin, names)
            signature = signing.signature(secret_key, signing.string_to_sign(moment, canonical))
        except Exception:  # the console will meet the same input: a wrong signature will do
            signature = "0" * 64
        headers["Authorization"] = (
            f"SDK-HMAC-SHA256 Access={access_key_id}, SignedHeaders={';'.join(names)}, "
            f"Signature={signature}"
        )
        return headers


@pytest.fixture
def callers(owner: User, staff_user: User, registry: Registry) -> dict[str, Caller]:
    token, _ = User.objects.issue_iam_token(owner, registry.project_name)
    key, secret_key = AccessKey.objects.create_for(user=staff_user, by=Actor(staff_user))
    found = {
        "anonymous": Caller(Client()),
        "owner": Caller(client_for(owner), token=token),
        "staff": Caller(
            client_for(staff_user),
            key=(key.access_key_id, secret_key),
            project_id=registry.project_id,
        ),
    }
    for caller in found.values():
        caller.client.raise_request_exception = False
    return found


def test_every_endpoint_refuses_hostile_input_without_a_500_and_in_its_apis_shape(
    world: dict[str, str], callers: dict[str, Caller], settings, monkeypatch
) -> None:
    # Every password here is wrong, and each wrong one costs a full PBKDF2 (about 0.6 s):
    # a fast hasher keeps the run short; hashing is not what this test is about.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Likewise every refusal of the token service waits as long as most checked ones (at
    # least 10 ms, up to 0.25 s on a loaded machine): not what this test is about either
    # (tests/test_hardening_inputs.py times it), and over its hundreds of 401s the wait alone
    # passed the test's timeout.
    monkeypatch.setattr(attempts, "REFUSAL_MAX_SECONDS", 0.0)
    failures: list[str] = []
    after = stored()
    for endpoint, payload, who in plan(endpoints(world)):
        for method in methods(endpoint, payload):
            before = after
            response = callers[who].send(method, endpoint, payload)
            after = stored()
            status = response.status_code
            label = f"{method} {endpoint.name} [{payload.name}] as {who}: {status}"
            shape = shape_problem(endpoint.path, method, response)
            # Django decodes a query always, a form body on POST only (others' are bytes).
            refused_with = payload.refused_with if payload.query or method == "POST" else None
            if endpoint.name in ANSWERED_BEFORE_INPUT:
                refused_with = None
            if status >= 500:
                failures.append(label)
            elif refused_with and status != refused_with:
                failures.append(f"{label}, expected {refused_with}")
            elif shape:
                failures.append(f"{label}, {shape}")
            elif (
                payload.malformed and after != before and endpoint.name not in ACTIONS_WITHOUT_INPUT
            ):
                failures.append(f"{label}, and it changed what is stored")
    assert not failures, f"{len(failures)} failures:\n" + "\n".join(failures)


def test_the_sample_gives_every_endpoint_every_kind_of_payload(world: dict[str, str]) -> None:
    found = endpoints(world)
    given = {(endpoint.name, payload.kind) for endpoint, payload, _ in plan(found)}
    assert given == {(endpoint.name, kind) for endpoint in found for kind in KINDS}
    outside_admin = {
        (endpoint.name, payload.name)
        for endpoint, payload, _ in plan(found)
        if not endpoint.name.startswith("admin:")
    }
    names = [endpoint.name for endpoint in found if not endpoint.name.startswith("admin:")]
    assert outside_admin == {(name, payload.name) for name in names for payload in PAYLOADS}
