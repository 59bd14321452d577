from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CredentialsConfig(AppConfig):
    name = "credentials"
    verbose_name = _("Access credentials")

    def ready(self) -> None:
        from credentials import registry_cache, signals  # noqa: F401 - connect their receivers
