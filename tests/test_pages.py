"""The console's frame: sign-in, home and its region selector, a registry's page, and
what htmx and CSRF failures get."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from credentials.models import Registry


@pytest.mark.parametrize(
    "url_name",
    [
        "home",
        "registry_overview",
        "access_credentials",
        "long_term_tab",
        "temporary_tab",
        "organizations",
        "create_organization",
        "my_permissions",
    ],
)
def test_every_console_page_requires_sign_in(
    client: Client, registry: Registry, url_name: str
) -> None:
    kwargs = {} if url_name == "home" else {"registry_id": registry.public_id}
    url = reverse(url_name, kwargs=kwargs)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


def test_the_login_page_is_served(client: Client, db: None) -> None:
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    assert b"Sign in" in response.content


def test_home_lists_the_registries_of_the_selected_region(
    owner_client: Client, registry: Registry
) -> None:
    from credentials.models import Region

    eu = Region.objects.create(name="eu-west-101", display_name="EU-Dublin")
    Registry.objects.create(region=eu, name="dublin", address="swr.eu-west-101.example")

    page = owner_client.get("/").content.decode()
    assert registry.name in page
    assert "dublin" not in page

    assert owner_client.get("/?region=eu-west-101").status_code == 302
    page = owner_client.get("/").content.decode()
    assert "dublin" in page
    assert reverse("registry_overview", kwargs={"registry_id": registry.public_id}) not in page


def test_an_unknown_region_is_refused_with_a_message(
    owner_client: Client, registry: Registry
) -> None:
    response = owner_client.get("/?region=mars-1", follow=True)
    assert "There is no region named “mars-1”." in response.content.decode()
    assert registry.name in response.content.decode()


def test_the_registry_page_shows_access_credentials_in_the_access_group(
    owner_client: Client, registry: Registry
) -> None:
    page = owner_client.get(
        reverse("registry_overview", args=[registry.public_id])
    ).content.decode()
    access = page.index(">Access<")
    link = page.index(">Access Credentials<")
    assert access < link
    assert reverse("access_credentials", args=[registry.public_id]) in page


def test_an_unknown_registry_is_a_404(owner_client: Client, db: None) -> None:
    response = owner_client.get("/registries/00000000-0000-0000-0000-000000000000/")
    assert response.status_code == 404


def test_an_htmx_request_without_a_session_is_sent_to_sign_in_as_a_whole_page(
    client: Client, registry: Registry
) -> None:
    response = client.get(
        reverse("long_term_tab", args=[registry.public_id]), headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    assert response["HX-Redirect"].startswith("/accounts/login/?next=")
    assert response.content == b""


def test_a_csrf_failure_explains_itself_and_changes_nothing(owner, registry: Registry) -> None:
    from credentials.models import LongTermCredential

    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    url = reverse("create_long_term", args=[registry.public_id])
    page = client.post(url, {"name": "ci-bot"})
    assert page.status_code == 403
    assert "This form has expired" in page.content.decode()
    fragment = client.post(url, {"name": "ci-bot"}, headers={"HX-Request": "true"})
    assert fragment.status_code == 403
    assert fragment.content.decode().startswith('<p class="form-error" role="alert">')
    assert LongTermCredential.objects.count() == 0
