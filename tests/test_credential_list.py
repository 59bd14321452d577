"""The long-term list you can search: by name, by status, sorted, page by page, "N of M used",
and the Temporary tab's log of the last 24 hours."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from credentials.console.credential_list import ListQuery
from credentials.console.issuance_log import issued_recently
from credentials.models import Actor, LongTermCredential, Registry, User
from credentials.timestamps import utc_iso
from tests.helpers import client_for

pytestmark = pytest.mark.django_db


def tab(registry: Registry, query: str = "") -> str:
    return reverse("long_term_tab", args=[registry.public_id]) + query


def names(page: str) -> list[str]:
    return re.findall(r'data-credential="([^"]+)"', page)


@pytest.fixture
def six(owner: User, registry: Registry) -> list[LongTermCredential]:
    made = []
    for name in ["alpha", "bravo", "ci-bot", "ci-deploy", "delta", "echo"]:
        credential, _ = LongTermCredential.objects.create_for(
            owner=owner, registry=registry, name=name, by=Actor(user=owner)
        )
        made.append(credential)
    made[1].disable(by=Actor(user=owner))
    made[3].disable(by=Actor(user=owner))
    now = timezone.now()
    LongTermCredential.objects.filter(name="delta").update(last_used_at=now - timedelta(hours=1))
    LongTermCredential.objects.filter(name="alpha").update(last_used_at=now - timedelta(days=3))
    return made


def test_search_by_name_and_filter_by_status(owner_client: Client, registry, six) -> None:
    assert names(owner_client.get(tab(registry, "?q=ci")).content.decode()) == [
        "ci-deploy",
        "ci-bot",
    ]
    page = owner_client.get(tab(registry, "?q=CI&status=disabled")).content.decode()
    assert names(page) == ["ci-deploy"]
    assert "6 of 100 long-term credentials used for this registry." in page
    assert "1 match." in page
    assert 'value="CI"' in page  # the search box keeps what was typed
    page = owner_client.get(tab(registry, "?q=zulu")).content.decode()
    assert names(page) == []
    assert "No credential matches your search." in page


def test_the_status_filter_matches_the_status_column(
    owner_client: Client, registry, six, time_machine
) -> None:
    now = timezone.now()
    time_machine.move_to(now, tick=False)
    # echo (enabled) and bravo (disabled) expire in an hour; they then read "Expired" only.
    LongTermCredential.objects.filter(name__in=["echo", "bravo"]).update(
        expires_at=now + timedelta(hours=1)
    )

    def listed(status: str) -> list[str]:
        return sorted(names(owner_client.get(tab(registry, f"?status={status}")).content.decode()))

    assert listed("enabled") == ["alpha", "ci-bot", "delta", "echo"]
    assert listed("disabled") == ["bravo", "ci-deploy"]
    assert listed("expired") == []
    time_machine.move_to(now + timedelta(hours=1), tick=False)  # the second of expiry
    assert listed("enabled") == ["alpha", "ci-bot", "delta"]
    assert listed("disabled") == ["ci-deploy"]
    assert listed("expired") == ["bravo", "echo"]
    page = owner_client.get(tab(registry, "?status=expired")).content.decode()
    assert '<option value="expired" selected>' in page
    assert page.count('<span class="status') == 2


def test_sorting_by_name_created_and_last_used(owner_client: Client, registry, six) -> None:
    def order(sort: str) -> list[str]:
        return names(owner_client.get(tab(registry, f"?sort={sort}")).content.decode())

    assert order("name") == ["alpha", "bravo", "ci-bot", "ci-deploy", "delta", "echo"]
    assert order("-name") == ["echo", "delta", "ci-deploy", "ci-bot", "bravo", "alpha"]
    assert order("created") == ["alpha", "bravo", "ci-bot", "ci-deploy", "delta", "echo"]
    assert order("-created") == order("nonsense")  # the default, newest first
    assert order("-last_used")[:2] == ["delta", "alpha"]  # Never used come last
    assert order("last_used")[:2] == ["alpha", "delta"]
    page = owner_client.get(tab(registry, "?sort=name")).content.decode()
    assert 'aria-sort="ascending"' in page
    assert 'href="/registries/' in page
    assert "?sort=-name" in page  # clicking the sorted column reverses it


def test_never_used_says_never(owner_client: Client, registry, six) -> None:
    page = owner_client.get(tab(registry, "?q=echo")).content.decode()
    assert '<span class="muted">Never</span>' in page


def test_page_numbers_keep_the_search_and_sort(
    owner_client: Client, owner: User, registry: Registry, settings
) -> None:
    settings.LONG_TERM_PAGE_SIZE = 2
    for number in range(9):
        LongTermCredential.objects.create_for(
            owner=owner, registry=registry, name=f"ci-{number}", by=Actor(user=owner)
        )
    page = owner_client.get(tab(registry, "?q=ci&sort=name&page=2")).content.decode()
    assert names(page) == ["ci-2", "ci-3"]
    assert "Page 2 of 5 · 9 credentials" in page
    assert 'aria-current="page" aria-label="Page 2">2</a>' in page
    assert "?q=ci&amp;sort=name&amp;page=5" in page  # the last page, numbered
    assert "?q=ci&amp;sort=name&amp;page=3" in page  # Next
    assert "9 of 100 long-term credentials used" in page


@pytest.mark.parametrize(
    "query",
    [
        "?page=-1",
        "?page=99999999999",
        "?status=gone",
        "?sort=1;drop",
        "?q=" + "x" * 500,
        "?page=abc",
    ],
)
def test_bad_parameters_fall_back_and_never_error(
    owner_client: Client, registry, six, query
) -> None:
    response = owner_client.get(tab(registry, query))
    assert response.status_code == 200


def test_the_cached_page_keys_on_the_query(owner_client: Client, registry, six) -> None:
    for _ in range(2):  # the second round comes from the page cache
        assert names(owner_client.get(tab(registry, "?q=ci")).content.decode()) == [
            "ci-deploy",
            "ci-bot",
        ]
        assert names(owner_client.get(tab(registry, "?q=echo")).content.decode()) == ["echo"]
        assert len(names(owner_client.get(tab(registry, "?sort=name")).content.decode())) == 6
    # Parameters that change nothing share the default list's page.
    assert ListQuery.from_params({"sort": "-created", "page": "1"}).key == ListQuery().key


def test_a_row_form_returns_to_the_same_list_without_javascript(
    owner_client: Client, registry, six
) -> None:
    credential = six[2]  # ci-bot
    page = owner_client.get(tab(registry, "?q=ci&sort=name")).content.decode()
    assert '<input type="hidden" name="q" value="ci">' in page
    url = reverse("disable_long_term", args=[registry.public_id, credential.public_id])
    response = owner_client.post(url, {"q": "ci", "sort": "name"})
    assert response.status_code == 302
    assert response["Location"] == tab(registry, "?q=ci&sort=name")


def test_the_list_is_searched_with_one_query_more_at_most(
    owner_client: Client, registry, six, django_assert_max_num_queries
) -> None:
    owner_client.get(tab(registry))  # loads the catalog
    with django_assert_max_num_queries(4):  # user, total used, matching count, rows
        owner_client.get(tab(registry, "?q=ci&status=enabled&sort=-last_used"))


def test_the_temporary_tab_logs_the_users_own_issues_of_the_last_day(
    owner: User, other_user: User, registry: Registry
) -> None:
    generate = reverse("generate_temporary", args=[registry.public_id])
    client_for(owner).post(generate, {"kind": "chart"})
    client_for(owner).post(generate, {"kind": "image"})
    client_for(other_user).post(generate, {"kind": "image"})

    page = client_for(owner).get(reverse("temporary_tab", args=[registry.public_id]))
    html = page.content.decode()
    assert "Issued to you in the last 24 hours" in html
    log = html.split('id="issuance-log"')[1]
    assert log.count('<tr role="row">') == 3  # the header and two issues, not bob's
    assert log.index(">Image<") < log.index(">Chart<")  # newest first
    mine = issued_recently(owner, registry)
    assert [entry.kind for entry in mine] == ["image", "chart"]
    assert all(entry.username.startswith("cn-north-4@") for entry in mine)
    assert all(entry.username in log for entry in mine)
    assert mine[0].expires_at - mine[0].issued_at == pytest.approx(
        timedelta(hours=24), abs=timedelta(seconds=5)
    )
    # A day later they have left the log.
    assert (
        issued_recently(owner, registry, now=timezone.now() + timedelta(hours=24, minutes=1)) == []
    )


def test_generate_sends_only_the_new_row_of_the_log_for_htmx(
    owner_client: Client, registry: Registry, django_assert_max_num_queries
) -> None:
    generate = reverse("generate_temporary", args=[registry.public_id])
    for _ in range(3):
        owner_client.post(generate, {"kind": "chart"}, headers={"hx-request": "true"})
    # user, rate-limit counter, the credential and its event stored: no read of the log (on
    # SQLite the credential and its event are two INSERTs, insert_together's fallback)
    with django_assert_max_num_queries(4 if connection.vendor == "postgresql" else 5):
        response = owner_client.post(generate, {"kind": "image"}, headers={"hx-request": "true"})
    html = response.content.decode()
    assert 'id="temporary-result"' in html
    assert 'id="issuance-log"' not in html  # not the whole log again
    oob = html.split('<template><tbody hx-swap-oob="afterbegin:#issuance-log-rows">')[1]
    row = oob.split("</tbody></template>")[0]
    assert row.count('<tr role="row">') == 1
    newest = issued_recently(User.objects.get(username="alice"), registry)[0]
    assert newest.kind == "image"
    assert f"<code>{newest.username}</code>" in row
    assert f'<time datetime="{utc_iso(newest.expires_at)}">' in row
    assert ">Image<" in row


def test_the_empty_log_has_a_row_that_a_new_row_hides(
    owner_client: Client, registry: Registry
) -> None:
    page = owner_client.get(reverse("temporary_tab", args=[registry.public_id])).content.decode()
    rows = page.split('<tbody id="issuance-log-rows" role="rowgroup">')[1].split("</tbody>")[0]
    assert 'class="empty-row"' in rows
    assert "You have not generated a temporary credential for this registry" in rows
    css = (settings.BASE_DIR / "static/css/console.css").read_text()
    assert ".issuance-log .empty-row:not(:only-child) { display: none; }" in css
