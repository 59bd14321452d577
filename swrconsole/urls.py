from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from credentials.console.views import (
    access_keys,
    frame,
    long_term,
    my_permissions,
    organization_users,
    organizations,
    registries,
    temporary,
)
from credentials.identity import views as identity
from credentials.registry import views as token_service

# One long-term credential, below registries/<registry>/access-credentials/long-term/<id>/.
one_long_term = [
    path("disable/", long_term.disable_long_term, name="disable_long_term"),
    path("enable/", long_term.enable_long_term, name="enable_long_term"),
    path("delete/", long_term.delete_long_term, name="delete_long_term"),
    path("reset-password/", long_term.reset_long_term, name="reset_long_term"),
]

access_credentials = [
    path("", registries.access_credentials, name="access_credentials"),
    path("long-term/", long_term.long_term_tab, name="long_term_tab"),
    path("long-term/create/", long_term.create_long_term, name="create_long_term"),
    path("long-term/<uuid:credential_id>/", include(one_long_term)),
    path("temporary/", temporary.temporary_tab, name="temporary_tab"),
    path("temporary/generate/", temporary.generate_temporary, name="generate_temporary"),
]

# One organization, below registries/<registry>/organizations/<id>/: its page's two tabs, its
# grants' dialogs (Add Permission, Modify, Remove) and Delete.
one_organization = [
    path("", organization_users.organization, name="organization"),
    path("users/", organization_users.organization_users, name="organization_users"),
    path(
        "repositories/",
        organization_users.organization_repositories,
        name="organization_repositories",
    ),
    path("permissions/add/", organization_users.add_permission, name="add_permission"),
    path("permissions/modify/", organization_users.change_permission, name="change_permission"),
    path("permissions/remove/", organization_users.remove_permission, name="remove_permission"),
    path("delete/", organizations.delete_organization, name="delete_organization"),
]

registry_organizations = [
    path("", organizations.organizations, name="organizations"),
    path("create/", organizations.create_organization, name="create_organization"),
    path("<uuid:organization_id>/", include(one_organization)),
]

one_access_key = [
    path("disable/", access_keys.disable_access_key, name="disable_access_key"),
    path("enable/", access_keys.enable_access_key, name="enable_access_key"),
    path("delete/", access_keys.delete_access_key, name="delete_access_key"),
]

my_access_keys = [
    path("", access_keys.access_keys, name="access_keys"),
    path("create/", access_keys.create_access_key, name="create_access_key"),
    path("<uuid:key_id>/", include(one_access_key)),
]

urlpatterns = [
    path("", registries.home, name="home"),
    path("healthz", frame.healthz, name="healthz"),
    path("favicon.ico", frame.favicon),
    path("ping", frame.ping, name="ping"),
    path("service/token", token_service.token, name="registry_token"),
    path("registries/<uuid:registry_id>/", registries.registry_overview, name="registry_overview"),
    path("registries/<uuid:registry_id>/access-credentials/", include(access_credentials)),
    path("registries/<uuid:registry_id>/organizations/", include(registry_organizations)),
    path(
        "registries/<uuid:registry_id>/my-permissions/",
        my_permissions.my_permissions,
        name="my_permissions",
    ),
    path("my-credentials/", access_keys.my_credentials, name="my_credentials"),
    path("my-credentials/access-keys/", include(my_access_keys)),
    path("accounts/login/", frame.ConsoleLoginView.as_view(), name="login"),
    path("accounts/login/local/", frame.ConsoleLoginView.as_view(local=True), name="login_local"),
    path("accounts/logout/", identity.sign_out, name="logout"),
    path("oidc/login/", identity.start, name="oidc_login"),
    path("oidc/callback/", identity.callback, name="oidc_callback"),
    path(
        "accounts/password_change/",
        frame.ConsolePasswordChangeView.as_view(),
        name="password_change",
    ),
    path(
        "accounts/password_change/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("admin/", admin.site.urls),
    # Huawei's IAM, SWR and SWR Enterprise API at their documented paths (JSON under /v2, /v3).
    path("", include("credentials.api.urls")),
    # The top bar's language switch (POST; remembered in a cookie, and for e-mails on the user).
    path("i18n/setlang/", frame.set_language, name="set_language"),
]

handler400 = "credentials.errors.bad_request"
handler500 = "credentials.errors.server_error"
