"""The cast every test can use: an owner, another user, a staff auditor, a federated user,
and a registry in the default region."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import hashers
from django.core.cache import caches
from django.core.management import call_command
from django.test import Client

from credentials import registry_cache as catalog
from credentials.models import Actor, LongTermCredential, Region, Registry, User
from tests import passes
from tests.helpers import client_for, make_user
from tests.oidc_provider import oidc_provider  # noqa: F401 - fixture: a real OpenID provider
from tests.registry import RunningRegistry, serving_docker_registry
from tests.smtp import mailbox, smtp_server  # noqa: F401 - fixtures: a real SMTP server

LAST = "test_no_secret_reached_the_logs"

# Test users' passwords: Django's PBKDF2 at 1,000 iterations (tests/hashers.py says why).
settings.PASSWORD_HASHERS = ["tests.hashers.QuickPBKDF2PasswordHasher"]
hashers.get_hashers.cache_clear()
hashers.get_hashers_by_algorithm.cache_clear()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    this_pass = passes.share()
    if this_pass is not None:
        left = passes.split(items, this_pass)
        if left:
            config.hook.pytest_deselected(items=left)
            kept = set(map(id, left))
            items[:] = [item for item in items if id(item) not in kept]
    items.sort(key=lambda item: item.name.startswith(LAST))


def pytest_runtest_setup(item: pytest.Item) -> None:
    """A test of PostgreSQL's own features, run on another database, fails with a clear
    message instead of failing somewhere deep or passing for the wrong reason. `make test`
    leaves them out of its SQLite pass (`-m "not postgresql"`); README.md lists them."""
    from django.db import connection

    marker = item.get_closest_marker("postgresql")
    if marker is not None and connection.vendor != "postgresql":
        reason = marker.kwargs.get("reason", "")
        pytest.fail(
            f"{item.nodeid} runs only on PostgreSQL ({reason}); this run is on "
            f"{connection.vendor}. Deselect it with -m 'not postgresql'.",
            pytrace=False,
        )


@pytest.fixture(scope="session", autouse=True)
def _collected_static(django_db_blocker: object) -> None:
    # The suite runs with DEBUG off and hashed static names, as production does.
    call_command("collectstatic", interactive=False, verbosity=0)


@pytest.fixture(autouse=True)
def _english_to_begin_with() -> None:
    """A request in another language leaves it active in the thread (LocaleMiddleware does
    not reset it): each test starts in the default language, as a new request would."""
    from django.utils import translation

    translation.activate("en")


@pytest.fixture(scope="session", autouse=True)
def _compiled_catalogs() -> None:
    # `make test` compiles them too; this keeps a bare `pytest` run in the same languages.
    call_command("compile_catalogs", verbosity=0)


@pytest.fixture(scope="session")
def live_server(request: pytest.FixtureRequest) -> Iterator[object]:
    """pytest-django's live server, with static files left to WhiteNoise as in production
    (Django's test static handler would look for unhashed names only)."""
    from pytest_django.live_server_helper import LiveServer

    addr = request.config.getvalue("liveserver") or os.getenv(
        "DJANGO_LIVE_TEST_SERVER_ADDRESS", "localhost"
    )
    server = LiveServer(addr, start=False)
    server.thread.static_handler = lambda handler: handler
    server.start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _process_caches_start_empty() -> None:
    """The database is rolled back after each test; the in-process snapshot of regions and
    registries and the rendered pages are not. Each test starts as a new process would."""
    catalog.forget()
    caches["pages"].clear()


@pytest.fixture
def owner(db: None) -> User:
    return make_user("alice")


@pytest.fixture
def other_user(db: None) -> User:
    return make_user("bob")


@pytest.fixture
def federated_user(db: None) -> User:
    return make_user("fiona", is_federated=True)


@pytest.fixture
def staff_user(db: None) -> User:
    return make_user("sam", is_staff=True, is_superuser=True)


@pytest.fixture
def region(db: None) -> Region:
    return Region.objects.create(name="cn-north-4", display_name="CN North-Beijing4")


@pytest.fixture
def registry(region: Region) -> Registry:
    return Registry.objects.create(
        region=region, name="default", address="swr.cn-north-4.myhuaweicloud.com"
    )


@pytest.fixture
def other_registry(region: Region) -> Registry:
    return Registry.objects.create(region=region, name="second", address="registry.example.test")


@pytest.fixture
def credential(owner: User, registry: Registry) -> tuple[LongTermCredential, str]:
    """The owner's long-term credential "ci" in the registry, and its password."""
    return LongTermCredential.objects.create_for(
        owner=owner, registry=registry, name="ci", by=Actor(user=owner)
    )


@pytest.fixture
def owner_client(owner: User) -> Client:
    return client_for(owner)


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    # Rate-limit counters live in the cache; each test starts with none.
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def token_keys(settings, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """A fresh registry-token key pair, made by the management command."""
    directory = tmp_path_factory.mktemp("token-keys")
    key, cert = str(directory / "token.key"), str(directory / "token.crt")
    call_command("create_registry_token_keys", key=key, cert=cert, stdout=open(os.devnull, "w"))  # noqa: SIM115
    settings.REGISTRY_TOKEN_KEY_FILE = key
    settings.REGISTRY_TOKEN_CERT_FILE = cert
    return key, cert


@pytest.fixture
def auditor(db: None) -> User:
    """A staff member of the Auditors group (re-created if a flush removed it)."""
    import importlib
    from types import SimpleNamespace

    from django.apps import apps
    from django.contrib.auth.models import Group
    from django.db import connection

    if not Group.objects.filter(name="Auditors").exists():
        migration = "credentials.migrations.0001_squashed_0015_user_language"
        importlib.import_module(migration).create_auditors(apps)
        # And what later migrations give them: organizations and permissions (0006).
        migration = "credentials.migrations.0006_organizations_and_permissions"
        importlib.import_module(migration).create_groups(
            apps, SimpleNamespace(connection=connection)
        )
    user = make_user("audrey", is_staff=True)
    user.groups.add(Group.objects.get(name="Auditors"))
    return user


@pytest.fixture
def docker_registry(live_server, token_keys, tmp_path: Path) -> Iterator[RunningRegistry]:
    """Debian's docker-registry with token auth, the live console as its realm."""
    with serving_docker_registry(
        tmp_path, f"{live_server.url}/service/token", token_keys[1]
    ) as running:
        yield running


@pytest.fixture(scope="module")
def module_docker_registry(
    live_server, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[RunningRegistry, tuple[str, str]]]:
    """One docker-registry for a whole test module, and the token key pair it trusts (a
    module's tests leave their images in it: each names its own repositories)."""
    directory = tmp_path_factory.mktemp("module-registry")
    key, cert = str(directory / "token.key"), str(directory / "token.crt")
    call_command("create_registry_token_keys", key=key, cert=cert, stdout=open(os.devnull, "w"))  # noqa: SIM115
    with serving_docker_registry(directory, f"{live_server.url}/service/token", cert) as running:
        yield running, (key, cert)


@pytest.fixture
def module_registry_in_console(module_docker_registry, settings) -> Registry:
    """The module's running registry as the console knows it, the console signing with the
    key pair it trusts."""
    running, (key, cert) = module_docker_registry
    settings.REGISTRY_TOKEN_KEY_FILE, settings.REGISTRY_TOKEN_CERT_FILE = key, cert
    region = Region.objects.create(name="cn-north-4")
    return Registry.objects.create(region=region, name="local", address=running.address)


@pytest.fixture
def registry_in_console(docker_registry: RunningRegistry) -> Registry:
    """The running registry as the console knows it: its address is the token's service."""
    region = Region.objects.create(name="cn-north-4")
    return Registry.objects.create(region=region, name="local", address=docker_registry.address)
