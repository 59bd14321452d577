from __future__ import annotations

from django.apps import AppConfig


class CredentialsConfig(AppConfig):
    name = "credentials"
    verbose_name = "Access credentials"

    def ready(self) -> None:
        from credentials import catalog, signals  # noqa: F401 - connect their receivers
