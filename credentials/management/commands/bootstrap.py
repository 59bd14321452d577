from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django.urls import reverse

from credentials.models import Region, Registry, User

REGION_NAMES = {
    "cn-north-4": "CN North-Beijing4",
    "cn-north-1": "CN North-Beijing1",
    "cn-east-3": "CN East-Shanghai1",
    "cn-south-1": "CN South-Guangzhou",
    "ap-southeast-1": "AP-Hong Kong",
    "ap-southeast-3": "AP-Singapore",
    "eu-west-101": "EU-Dublin",
}


class Command(BaseCommand):
    help = (
        "Create the default region and registry from settings and, when there are no users "
        "yet, an administrator whose password is printed once. Safe to run again."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--admin-username", default="admin")

    @transaction.atomic
    def handle(self, *args: Any, admin_username: str, **options: Any) -> None:
        region_name = settings.SWR_DEFAULT_REGION
        region, created = Region.objects.get_or_create(
            name=region_name, defaults={"display_name": REGION_NAMES.get(region_name, "")}
        )
        self._report("region", region.name, created)

        registry = Registry.objects.filter(address=settings.SWR_DEFAULT_REGISTRY_ADDRESS).first()
        created = registry is None
        if created:
            registry, created = Registry.objects.get_or_create(
                region=region,
                name=settings.SWR_DEFAULT_REGISTRY_NAME,
                defaults={"address": settings.SWR_DEFAULT_REGISTRY_ADDRESS},
            )
        self._report("registry", f"{registry.name} ({registry.address})", created)

        if User.objects.exists():
            return
        password = secrets.token_urlsafe(18)
        User.objects.create_superuser(username=admin_username, email="", password=password)
        self.stdout.write(
            self.style.WARNING(
                f"Created administrator '{admin_username}' with password: {password}\n"
                "This password is shown only now. Sign in and change it at "
                f"{reverse('password_change')} (Change password, in the console's top bar)."
            )
        )

    def _report(self, kind: str, name: str, created: bool) -> None:
        verb = "Created" if created else "Kept existing"
        self.stdout.write(f"{verb} {kind} {name}")
