from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CredentialsConfig(AppConfig):
    name = "credentials"
    verbose_name = _("Access credentials")

    def ready(self) -> None:
        from django.conf import settings

        from credentials import metrics, registry_cache, signals  # noqa: F401 - their receivers
        from credentials.models import AuditEvent

        metrics.configure(enabled=settings.METRICS_ENABLED)
        metrics.declare_audit_actions(AuditEvent.Action.values)
