from __future__ import annotations

import io
import re

import pytest
from django.core.management import call_command
from django.test import Client, override_settings

from credentials.models import Region, Registry, User


def run_bootstrap() -> str:
    out = io.StringIO()
    call_command("bootstrap", stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_bootstrap_creates_the_default_region_registry_and_an_administrator() -> None:
    output = run_bootstrap()
    registry = Registry.objects.get()
    assert registry.region.name == "cn-north-4"
    assert registry.name == "default"
    assert registry.address == "swr.cn-north-4.myhuaweicloud.com"
    assert registry.project_name == "cn-north-4"
    admin = User.objects.get()
    assert admin.is_superuser
    password = re.search(r"password: (\S+)", output).group(1)
    assert admin.check_password(password)
    client = Client()
    assert client.login(username="admin", password=password)


@pytest.mark.django_db
def test_bootstrap_run_twice_creates_nothing_twice() -> None:
    run_bootstrap()
    second = run_bootstrap()
    assert Region.objects.count() == 1
    assert Registry.objects.count() == 1
    assert User.objects.count() == 1
    assert "password" not in second


@pytest.mark.django_db
@override_settings(
    SWR_DEFAULT_REGION="ap-southeast-3",
    SWR_DEFAULT_REGISTRY_NAME="main",
    SWR_DEFAULT_REGISTRY_ADDRESS="registry.internal:5000",
)
def test_bootstrap_follows_the_settings() -> None:
    run_bootstrap()
    registry = Registry.objects.get()
    assert (registry.region.name, registry.name, registry.address) == (
        "ap-southeast-3",
        "main",
        "registry.internal:5000",
    )


@pytest.mark.django_db
def test_bootstrap_creates_no_administrator_when_users_exist() -> None:
    User.objects.create_user("someone")
    output = run_bootstrap()
    assert User.objects.count() == 1
    assert "password" not in output


@pytest.mark.django_db
def test_bootstrap_names_the_page_where_the_password_is_changed() -> None:
    output = run_bootstrap()
    assert "Sign in and change it at /accounts/password_change/" in output
    assert Client().get("/accounts/password_change/").status_code == 302  # a real page: sign in
