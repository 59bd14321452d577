from __future__ import annotations

import re

from django.core.cache import caches
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from credentials.models import Actor, LongTermCredential, Registry, User
from tests.helpers import client_for, make_credential, tab_url


def test_it_lists_the_users_credentials_with_their_columns(
    owner_client: Client, owner: User, registry: Registry
) -> None:
    credential = make_credential(owner, registry, "ci-bot")
    page = owner_client.get(tab_url(registry)).content.decode()
    headers = re.findall(r'<th scope="col" role="columnheader"[^>]*>(.*?)</th>', page)
    assert [re.sub(r"<[^>]+>", "", header) for header in headers] == [
        "Credential Name",
        "Username",
        "Access",
        "Status",
        "Created",
        "Expires",
        "Last Used",
        "Operation",
    ]
    assert "ci-bot" in page
    assert credential.username in page
    assert "Enabled" in page
    assert ">Disable</button>" in page
    assert ">Delete</a>" in page


def test_it_hides_other_users_credentials_and_other_registries(
    owner_client: Client,
    owner: User,
    other_user: User,
    registry: Registry,
    other_registry: Registry,
) -> None:
    make_credential(other_user, registry, "bobs-secret")
    make_credential(owner, other_registry, "elsewhere")
    page = owner_client.get(tab_url(registry)).content.decode()
    assert "bobs-secret" not in page
    assert "elsewhere" not in page
    assert "You have no long-term credentials for this registry yet." in page


def test_newest_credentials_come_first_twenty_to_a_page(
    owner_client: Client, owner: User, registry: Registry
) -> None:
    for number in range(25):
        make_credential(owner, registry, f"cred{number:02}")
    first = owner_client.get(tab_url(registry)).content.decode()
    assert first.index("cred24") < first.index("cred23")
    assert first.count('data-credential="') == 20
    assert "cred04" not in first
    assert "Page 1 of 2 · 25 credentials" in first
    second = owner_client.get(tab_url(registry) + "?page=2").content.decode()
    assert second.count('data-credential="') == 5
    assert "cred00" in second


def _queries_for_tab(client: Client, registry: Registry, *, cached: bool = False) -> int:
    if not cached:
        caches["pages"].clear()  # render the page, rather than reuse it
    with CaptureQueriesContext(connection) as queries:
        assert client.get(tab_url(registry)).status_code == 200
    return len(queries)


def test_the_tab_runs_a_constant_number_of_queries(
    owner_client: Client, owner: User, registry: Registry
) -> None:
    make_credential(owner, registry, "first")
    _queries_for_tab(owner_client, registry)  # the first visit also loads the catalog
    with_one = _queries_for_tab(owner_client, registry)
    LongTermCredential.objects.bulk_create(
        LongTermCredential(
            owner=owner, registry=registry, name=f"bulk{n}", username=f"u{n}", password_digest="x"
        )
        for n in range(999)
    )
    with_a_thousand = _queries_for_tab(owner_client, registry)
    assert with_a_thousand == with_one
    assert with_one <= 3  # the user, the count, the page's rows
    # Nothing changed: the rendered page is reused, and the only query is the signed-in user.
    assert _queries_for_tab(owner_client, registry, cached=True) == 1


def test_the_cached_table_changes_with_the_rows(
    owner_client: Client, owner: User, registry: Registry
) -> None:
    credential = make_credential(owner, registry, "ci-bot")
    assert "Enabled" in owner_client.get(tab_url(registry)).content.decode()
    credential.disable(by=Actor(user=owner))
    assert "Disabled" in owner_client.get(tab_url(registry)).content.decode()
    with transaction.atomic():  # as the token service records a use
        LongTermCredential.objects.filter(pk=credential.pk).update(last_used_at=timezone.now())
        User.objects.credentials_changed(owner.pk)
    page = owner_client.get(tab_url(registry)).content.decode()
    assert page.count(" UTC</time>") == 2  # Created and Last Used
    credential.delete_by(by=Actor(user=owner))
    assert (
        "You have no long-term credentials" in owner_client.get(tab_url(registry)).content.decode()
    )


def test_another_session_of_the_same_user_gets_its_own_csrf_tokens(
    owner: User, registry: Registry
) -> None:
    make_credential(owner, registry, "ci-bot")
    first, second = client_for(owner), client_for(owner)
    first.get(tab_url(registry))
    page = second.get(tab_url(registry)).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    disable = re.search(r'action="([^"]+/disable/)"', page).group(1)
    strict = Client(enforce_csrf_checks=True)
    strict.cookies = second.cookies
    assert strict.post(disable, {"csrfmiddlewaretoken": token}).status_code == 302


def test_the_tab_partial_is_served_to_htmx(owner_client: Client, registry: Registry) -> None:
    response = owner_client.get(tab_url(registry), headers={"HX-Request": "true"})
    fragment = response.content.decode().strip()
    assert fragment.startswith('<div id="access-tabs">')
    assert "HX-Request" in response["Vary"]
