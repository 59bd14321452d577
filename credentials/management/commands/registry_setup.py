from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from credentials.models import Registry
from credentials.registry.setup import TokenAuth


class Command(BaseCommand):
    help = (
        "Print, for each registry (or the one named), the auth section of a CNCF Distribution "
        "registry's config.yml that makes this console its token service: realm, service, "
        "issuer and certificate. See docs/REGISTRY.md."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--console-url",
            default=settings.CONSOLE_URL,
            help="The console's address as registry clients reach it, the realm's base "
            "(default: CONSOLE_URL, %(default)s).",
        )
        parser.add_argument(
            "--registry",
            metavar="ADDRESS",
            help="Only the registry with this address (default: every registry).",
        )

    def handle(self, *args: Any, console_url: str, registry: str | None, **options: Any) -> None:
        registries = Registry.objects.select_related("region").order_by("region__name", "name")
        if registry is not None:
            registries = registries.filter(address=registry)
            if not registries:
                raise CommandError(f"There is no registry with the address {registry!r}.")
        self.stdout.write(
            "To let a registry accept this console's credentials, put this in its "
            "configuration (CNCF Distribution's config.yml; docs/REGISTRY.md starts one):"
        )
        for each in registries:
            auth = TokenAuth.for_registry(each, console_url)
            self.stdout.write(f"\n# Registry {each.name!r} ({each.address}), {each.region.name}")
            self.stdout.write(auth.config())
            if not auth.certificate_exists:
                self.stdout.write(
                    self.style.WARNING(
                        f"# {auth.rootcertbundle} does not exist yet: "
                        "run manage.py create_registry_token_keys."
                    )
                )
