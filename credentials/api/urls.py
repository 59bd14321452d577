"""The API's paths, as Huawei documents them, and a JSON 404 for every other path under them."""

from __future__ import annotations

from django.urls import path, re_path

from credentials.api import enterprise, errors, iam, namespace_auth, namespaces, swr
from credentials.api.dispatch import operations

INSTANCE = "v2/<str:project_id>/instances/<str:instance_id>"
NAMESPACE = "v2/manage/namespaces/<str:namespace>"

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
    path(
        "v2/manage/namespaces",
        operations(POST=namespaces.create_namespace, GET=namespaces.list_namespaces),
        name="api_namespaces",
    ),
    path(
        NAMESPACE,
        operations(GET=namespaces.show_namespace, DELETE=namespaces.delete_namespaces),
        name="api_namespace",
    ),
    path(
        f"{NAMESPACE}/access",
        operations(
            POST=namespace_auth.create_namespace_auth,
            GET=namespace_auth.show_namespace_auth,
            PATCH=namespace_auth.update_namespace_auth,
            DELETE=namespace_auth.delete_namespace_auth,
        ),
        name="api_namespace_auth",
    ),
    # {repository} writes its "/" as "$" (Huawei's rule); a plain "/" is taken as well.
    path(
        f"{NAMESPACE}/repos/<path:repository>/access",
        operations(
            POST=namespace_auth.create_user_repository_auth,
            GET=namespace_auth.show_user_repository_auth,
            PATCH=namespace_auth.update_user_repository_auth,
            DELETE=namespace_auth.delete_user_repository_auth,
        ),
        name="api_user_repository_auth",
    ),
    # Anything else under the API's prefixes: Huawei's JSON 404, never the console's page.
    re_path(
        r"^v[23](?:/.*)?$", operations(**dict.fromkeys(errors.ALL_METHODS, errors.unknown_path))
    ),
]
