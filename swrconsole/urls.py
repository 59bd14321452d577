from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from credentials import access_key_views as keys
from credentials import frame_views, registry_oauth, temporary_views, views

# One long-term credential, below registries/<registry>/access-credentials/long-term/<id>/.
one_long_term = [
    path("disable/", views.disable_long_term, name="disable_long_term"),
    path("enable/", views.enable_long_term, name="enable_long_term"),
    path("delete/", views.delete_long_term, name="delete_long_term"),
    path("reset-password/", views.reset_long_term, name="reset_long_term"),
]

access_credentials = [
    path("", views.access_credentials, name="access_credentials"),
    path("long-term/", views.long_term_tab, name="long_term_tab"),
    path("long-term/create/", views.create_long_term, name="create_long_term"),
    path("long-term/<uuid:credential_id>/", include(one_long_term)),
    path("temporary/", temporary_views.temporary_tab, name="temporary_tab"),
    path("temporary/generate/", temporary_views.generate_temporary, name="generate_temporary"),
]

one_access_key = [
    path("disable/", keys.disable_access_key, name="disable_access_key"),
    path("enable/", keys.enable_access_key, name="enable_access_key"),
    path("delete/", keys.delete_access_key, name="delete_access_key"),
]

access_keys = [
    path("", keys.access_keys, name="access_keys"),
    path("create/", keys.create_access_key, name="create_access_key"),
    path("<uuid:key_id>/", include(one_access_key)),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", frame_views.healthz, name="healthz"),
    path("favicon.ico", frame_views.favicon),
    path("ping", frame_views.ping, name="ping"),
    path("service/token", registry_oauth.token, name="registry_token"),
    path("registries/<uuid:registry_id>/", views.registry_overview, name="registry_overview"),
    path("registries/<uuid:registry_id>/access-credentials/", include(access_credentials)),
    path("my-credentials/", keys.my_credentials, name="my_credentials"),
    path("my-credentials/access-keys/", include(access_keys)),
    path("accounts/login/", frame_views.ConsoleLoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "accounts/password_change/",
        frame_views.ConsolePasswordChangeView.as_view(),
        name="password_change",
    ),
    path(
        "accounts/password_change/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("admin/", admin.site.urls),
    # Huawei's IAM, SWR and SWR Enterprise API at their documented paths (JSON under /v2, /v3).
    path("", include("credentials.swr_api.urls")),
    # The top bar's language switch (POST; remembered in a cookie, and for e-mails on the user).
    path("i18n/setlang/", frame_views.set_language, name="set_language"),
]

handler500 = "credentials.errors.server_error"
