"""The admin panel: where auditors see every credential and every action on it.

Nothing here shows a password or digest. Audit events are read-only for everyone; changes to
credentials go through the same domain actions as the console, so they are audited too.
`base` holds the shared machinery (capped counts, secret fields refused, formula-safe
exports, view-only tables); each other module registers the models of one topic.
"""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy

from credentials.admin import (  # noqa: F401 - they register
    audit,
    long_term,
    permissions,
    users,
    view_only,
)

admin.site.site_header = gettext_lazy("SWR Console administration")
admin.site.site_title = gettext_lazy("SWR Console admin")
admin.site.index_title = gettext_lazy("Credentials, registries and the audit trail")
# No navigation sidebar: at 1440 px it would leave the credential and audit lists too little
# width for their columns (the index page lists every model; breadcrumbs lead back to it).
admin.site.enable_nav_sidebar = False
