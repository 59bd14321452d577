from __future__ import annotations

from django.apps import AppConfig


class CredentialsConfig(AppConfig):
    name = "credentials"
    verbose_name = "Access credentials"

    def ready(self) -> None:
        from credentials import signals  # noqa: F401 - connects the receivers
