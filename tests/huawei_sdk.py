"""Huawei's official Python SDK pointed at a running console, as README.md shows it (README's
own example is run as written by test_readme_examples.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.http.http_config import HttpConfig
from huaweicloudsdkcore.http.http_handler import HttpHandler
from huaweicloudsdkiam.v3 import IamClient
from huaweicloudsdkswr.v2 import SwrClient


def swr_client(console_url: str, ak: str, sk: str, project_id: str) -> SwrClient:
    config = HttpConfig.get_default_config()
    config.ignore_ssl_verification = True  # the console on plain http:// in this example
    return (
        SwrClient.new_builder()
        .with_http_config(config)
        .with_credentials(BasicCredentials(ak, sk, project_id))
        .with_endpoints([console_url])
        .build()
    )


def iam_client(console_url: str, ak: str, sk: str, project_id: str) -> IamClient:
    config = HttpConfig.get_default_config()
    config.ignore_ssl_verification = True
    return (
        IamClient.new_builder()
        .with_http_config(config)
        .with_credentials(BasicCredentials(ak, sk, project_id))
        .with_endpoints([console_url])
        .build()
    )


def tampering(change: Callable[[Any], None]) -> HttpHandler:
    """An HttpHandler that changes each request after the SDK signed it, before it is sent."""
    return HttpHandler().add_request_handler(lambda request, **kwargs: change(request))


def swr_client_with(
    console_url: str, ak: str, sk: str, project_id: str, handler: HttpHandler
) -> SwrClient:
    config = HttpConfig.get_default_config()
    config.ignore_ssl_verification = True
    return (
        SwrClient.new_builder()
        .with_http_config(config)
        .with_credentials(BasicCredentials(ak, sk, project_id))
        .with_endpoints([console_url])
        .with_http_handler(handler)
        .build()
    )
