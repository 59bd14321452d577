"""SWR's login commands: POST /v2/manage/utils/secret (CreateSecret) and
/v2/manage/utils/authorizationtoken (CreateAuthorizationToken, the "enhanced" one).
References: SWR API "Generating a Temporary Login Command" (swr_02_0052); docs/HUAWEI-API.md §1, §6.

Both mint a real 24-hour credential through the console's one minting path, under the
console's per-user generation limit.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django_ratelimit.core import is_ratelimited

from credentials import login_formats, metrics, registry_cache
from credentials.api import identity
from credentials.api.dispatch import require_json_content_type
from credentials.api.errors import ApiError
from credentials.models import Registry, TemporaryCredential
from credentials.timestamps import utc_iso


def create_secret(request: HttpRequest) -> JsonResponse:
    """POST /v2/manage/utils/secret: 200, the login in X-Swr-Dockerlogin and `auths`."""
    return _login_command(request)


def create_authorization_token(request: HttpRequest) -> JsonResponse:
    """POST /v2/manage/utils/authorizationtoken: the same shape; always sends X-Swr-Expireat."""
    return _login_command(request)


def _login_command(request: HttpRequest) -> JsonResponse:
    require_json_content_type(request)
    caller = identity.authenticate(request)
    # An IAM token is scoped to one project: ?projectname= may name it, not another. An access
    # key (AK/SK) belongs to the account, so it may name any of the account's projects.
    asked = request.GET.get("projectname")
    if asked and caller.access_key is None and asked != caller.project:
        raise ApiError(403, "4030170", f"The token is not scoped to project {asked}")
    registries = project_registries(asked or caller.project)
    credential, password = mint_temporary(request, caller, registries[0])
    auth = login_formats.basic_auth(credential.username, password)
    response = JsonResponse(
        {"auths": {registry.address: {"auth": auth} for registry in registries}}
    )
    response["X-Swr-Dockerlogin"] = login_formats.docker_command(
        credential.username, password, registries[0].address
    )
    response["X-Swr-Expireat"] = utc_iso(credential.expires_at, microseconds=True)
    return response


def project_registries(project: str) -> list[Registry]:
    """The registries of SWR project `project`, first by name first: the one a login command
    logs in to, and the one whose organizations /v2/manage/namespaces manages (api/namespaces.py).
    ApiError(400) when the project has none."""
    registries = [
        r for r in registry_cache.current().registries.values() if r.project_name == project
    ]
    if not registries:
        raise ApiError(400, "4001025", f"No registry belongs to project {project}")
    return registries


def mint_temporary(
    request: HttpRequest, caller: identity.Caller, registry: Registry
) -> tuple[TemporaryCredential, str]:
    """A temporary credential for the caller, as the console's Generate mints it: the same
    per-user limit (its counter shared with the console), stored with its audit event."""
    request.user = caller.user  # the limit's key, as on the console
    per_minute = settings.TEMPORARY_CREDENTIALS_PER_MINUTE
    if is_ratelimited(
        request, group="temporary-credentials", key="user", rate=f"{per_minute}/m", increment=True
    ):
        metrics.throttled("temporary-credentials")
        raise ApiError(
            403,
            "4031042",
            f"Too many requests: at most {per_minute} temporary credentials a minute",
        )
    return TemporaryCredential.objects.issue(
        registry=registry, by=caller.actor(request), kind="image"
    )
