"""Huawei's official Python SDK pointed at a running console, as README.md shows it (README's
own example is run as written by test_readme_examples.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.http.http_config import HttpConfig
from huaweicloudsdkcore.http.http_handler import HttpHandler
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


def tampering(change: Callable[[Any], None]) -> HttpHandler:
    """An HttpHandler that changes each request after the SDK signed it, before it is sent."""
    return HttpHandler().add_request_handler(lambda request, **kwargs: change(request))
