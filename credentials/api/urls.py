"""The API's paths, as Huawei documents them, and a JSON 404 for every other path under them."""

from __future__ import annotations

from django.urls import path, re_path

from credentials.api import enterprise, errors, iam, swr
from credentials.api.dispatch import operations

INSTANCE = "v2/<str:project_id>/instances/<str:instance_id>"

urlpatterns = [
    path(
        "v3/auth/tokens",
        operations(builtin_only=True, POST=iam.create_token, GET=iam.validate_token),
        name="api_iam_tokens",
    ),
    path(
        "v2/manage/utils/secret",
        operations(builtin_only=True, POST=swr.create_secret),
        name="api_create_secret",
    ),
    path(
        "v2/manage/utils/authorizationtoken",
        operations(builtin_only=True, POST=swr.create_authorization_token),
        name="api_create_authorization_token",
    ),
    path(
        f"{INSTANCE}/long-term-credential",
        operations(POST=enterprise.create_long_term),
        name="api_create_long_term",
    ),
    path(
        f"{INSTANCE}/long-term-credentials",
        operations(GET=enterprise.list_long_term),
        name="api_list_long_term",
    ),
    path(
        f"{INSTANCE}/long-term-credentials/<str:credential_id>",
        operations(PUT=enterprise.update_long_term, DELETE=enterprise.delete_long_term),
        name="api_long_term",
    ),
    path(
        f"{INSTANCE}/temp-credential",
        operations(builtin_only=True, POST=enterprise.create_temporary),
        name="api_create_temporary",
    ),
    # Anything else under the API's prefixes: Huawei's JSON 404, never the console's page.
    re_path(
        r"^v[23](?:/.*)?$", operations(**dict.fromkeys(errors.ALL_METHODS, errors.unknown_path))
    ),
]
