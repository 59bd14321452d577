"""The per-process snapshot of regions and registries (credentials/registry_cache.py): no query
while nothing changed, a change in this process at once, in another within its life."""

from __future__ import annotations

import time

import pytest
from django.test import Client

from credentials import registry_cache as catalog
from credentials.models import Region, Registry
from tests.helpers import create, tab_page

pytestmark = pytest.mark.django_db


def test_the_snapshot_answers_without_a_query_until_a_region_or_registry_changes(
    registry: Registry, region: Region, django_assert_num_queries
) -> None:
    catalog.current()
    with django_assert_num_queries(0):
        assert catalog.registry(registry.public_id) == registry
        version = catalog.current().version
    registry.name = "renamed"
    registry.save()  # the save signal drops the snapshot
    with django_assert_num_queries(2):  # regions, registries
        assert catalog.current().version != version


def test_a_registry_changed_in_this_process_shows_at_once(
    owner_client: Client, registry: Registry, region: Region
) -> None:
    assert "default" in tab_page(owner_client, registry)
    registry.name = "renamed"
    registry.save()  # as the admin does
    Region.objects.create(name="ap-southeast-1", display_name="AP-Singapore")
    shown = tab_page(owner_client, registry)
    assert '<a class="sidebar-title"' in shown
    assert ">renamed</a>" in shown
    assert "AP-Singapore" in shown


def test_a_change_made_by_another_process_shows_within_the_snapshots_life(
    owner_client: Client, registry: Registry, settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    tab_page(owner_client, registry)
    # Another worker renamed it: no signal reaches this process.
    Registry.objects.filter(pk=registry.pk).update(name="elsewhere")
    assert ">elsewhere</a>" not in tab_page(owner_client, registry)
    later = time.monotonic() + settings.CATALOG_CACHE_SECONDS
    monkeypatch.setattr(catalog.time, "monotonic", lambda: later)
    assert ">elsewhere</a>" in tab_page(owner_client, registry)


def test_a_registry_created_by_another_process_is_found_at_once(
    owner_client: Client, registry: Registry, region: Region
) -> None:
    tab_page(owner_client, registry)  # the snapshot is taken
    [created] = Registry.objects.bulk_create(  # no signal, as from another worker
        [Registry(region=region, name="new", address="new.example.com", project_name="p")]
    )
    assert ">new</a>" in tab_page(owner_client, created)


@pytest.mark.django_db(transaction=True)  # the foreign key is checked when the create commits
def test_creating_in_a_registry_deleted_by_another_process_says_so(
    owner_client: Client, registry: Registry
) -> None:
    from django.db import connection

    from credentials.models import AuditEvent, LongTermCredential

    tab_page(owner_client, registry)  # the snapshot holds the registry
    with connection.cursor() as cursor:  # deleted elsewhere: no signal reaches this process
        cursor.execute("DELETE FROM credentials_registry WHERE id = %s", [registry.pk])
    response = create(owner_client, registry, "ci-bot", HX_Request="true")
    assert response.status_code == 422
    assert "This registry no longer exists." in response.content.decode()
    assert not LongTermCredential.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="long_term.").exists()
