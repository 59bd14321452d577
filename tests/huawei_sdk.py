"""Huawei's official Python SDK pointed at a running console, as README.md shows it (README's
own example is run as written by test_readme_examples.py)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar
from urllib.parse import quote

from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.http.http_config import HttpConfig
from huaweicloudsdkcore.http.http_handler import HttpHandler
from huaweicloudsdkcore.sdk_request import SdkRequest
from huaweicloudsdkcore.signer.signer import Signer
from huaweicloudsdkiam.v3 import IamClient
from huaweicloudsdkswr.v2 import SwrClient

Client = TypeVar("Client", IamClient, SwrClient)


def _client(
    kind: type[Client],
    console_url: str,
    ak: str,
    sk: str,
    project_id: str,
    handler: HttpHandler | None,
) -> Client:
    config = HttpConfig.get_default_config()
    config.ignore_ssl_verification = True  # the console on plain http:// in these tests
    builder = (
        kind.new_builder()
        .with_http_config(config)
        .with_credentials(BasicCredentials(ak, sk, project_id))
        .with_endpoints([console_url])
    )
    if handler is not None:
        builder = builder.with_http_handler(handler)
    return builder.build()


def swr_client(
    console_url: str, ak: str, sk: str, project_id: str, handler: HttpHandler | None = None
) -> SwrClient:
    """The SDK's SWR client, signing with the access key `ak`; `handler` sees each request."""
    return _client(SwrClient, console_url, ak, sk, project_id, handler)


def iam_client(console_url: str, ak: str, sk: str, project_id: str) -> IamClient:
    """The SDK's IAM client, signing with the access key `ak`."""
    return _client(IamClient, console_url, ak, sk, project_id, None)


def signing_anew(client: SwrClient, ago: timedelta = timedelta(minutes=5)) -> None:
    """Have `client` date its next signatures `ago` in the past (within the console's window):
    a write identical to one sent in the same second carries the same signature, a replay the
    console refuses; dated otherwise, it is signed anew."""
    client.preset_headers = {"X-Sdk-Date": (datetime.now(UTC) - ago).strftime("%Y%m%dT%H%M%SZ")}


def tampering(change: Callable[[Any], None]) -> HttpHandler:
    """An HttpHandler that changes each request after the SDK signed it, before it is sent."""
    return HttpHandler().add_request_handler(lambda request, **kwargs: change(request))


def sign(
    access_key_id: str,
    secret_key: str,
    method: str,
    path: str,
    *,
    query: list[tuple[str, Any]] | None = None,
    headers: dict[str, str | None] | None = None,
    body: bytes = b"",
    at: datetime | None = None,
    host: str = "testserver",
) -> SdkRequest:
    """The request as the SDK's own Signer signs it for `host` (Django's test client's by
    default), dated `at` (else now); its `uri` carries the query as the SDK sends it. The SDK
    sends Content-Type: application/json unless `headers` maps it to None."""
    wanted = {"Content-Type": "application/json", **(headers or {})}
    header_params = {name: value for name, value in wanted.items() if value is not None}
    if at is not None:
        header_params["X-Sdk-Date"] = at.strftime("%Y%m%dT%H%M%SZ")
    request = SdkRequest(
        method=method,
        schema="http",
        host=host,
        resource_path=quote(path),
        query_params=query or [],
        header_params=header_params,
        body=body,
    )
    return Signer(BasicCredentials(access_key_id, secret_key)).sign(request)
