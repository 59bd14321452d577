from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from credentials import access_key_views, frame_views, registry_oauth, views

registry_urls = [
    path("", views.registry_overview, name="registry_overview"),
    path("access-credentials/", views.access_credentials, name="access_credentials"),
    path("access-credentials/long-term/", views.long_term_tab, name="long_term_tab"),
    path("access-credentials/temporary/", views.temporary_tab, name="temporary_tab"),
    path(
        "access-credentials/temporary/generate/",
        views.generate_temporary,
        name="generate_temporary",
    ),
    path(
        "access-credentials/long-term/create/",
        views.create_long_term,
        name="create_long_term",
    ),
    path(
        "access-credentials/long-term/<uuid:credential_id>/disable/",
        views.set_long_term_status,
        {"enabled": False},
        name="disable_long_term",
    ),
    path(
        "access-credentials/long-term/<uuid:credential_id>/enable/",
        views.set_long_term_status,
        {"enabled": True},
        name="enable_long_term",
    ),
    path(
        "access-credentials/long-term/<uuid:credential_id>/delete/",
        views.delete_long_term,
        name="delete_long_term",
    ),
    path(
        "access-credentials/long-term/<uuid:credential_id>/reset-password/",
        views.reset_long_term,
        name="reset_long_term",
    ),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", frame_views.healthz, name="healthz"),
    path("favicon.ico", frame_views.favicon),
    path("ping", frame_views.ping, name="ping"),
    path("service/token", registry_oauth.token, name="registry_token"),
    path("registries/<uuid:registry_id>/", include(registry_urls)),
    path("my-credentials/", access_key_views.my_credentials, name="my_credentials"),
    path("my-credentials/access-keys/", access_key_views.access_keys, name="access_keys"),
    path(
        "my-credentials/access-keys/create/",
        access_key_views.create_access_key,
        name="create_access_key",
    ),
    path(
        "my-credentials/access-keys/<uuid:key_id>/disable/",
        access_key_views.set_access_key_status,
        {"enabled": False},
        name="disable_access_key",
    ),
    path(
        "my-credentials/access-keys/<uuid:key_id>/enable/",
        access_key_views.set_access_key_status,
        {"enabled": True},
        name="enable_access_key",
    ),
    path(
        "my-credentials/access-keys/<uuid:key_id>/delete/",
        access_key_views.delete_access_key,
        name="delete_access_key",
    ),
    path("accounts/login/", frame_views.ConsoleLoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    # Huawei's IAM, SWR and SWR Enterprise API at their documented paths (JSON under /v2, /v3).
    path("", include("credentials.swr_api.urls")),
    # The top bar's language switch (POST; remembered in a cookie, and for e-mails on the user).
    path("i18n/setlang/", frame_views.set_language, name="set_language"),
]

handler500 = "credentials.errors.server_error"
