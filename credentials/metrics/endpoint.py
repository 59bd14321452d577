"""`/metrics`: the counters in Prometheus' text format, for METRICS_ALLOWED_NETWORKS or a
bearer of METRICS_TOKEN; anyone else gets a 403 and never a number.

Served by a middleware right after the client address is known (ClientAddressMiddleware),
before the host check, sessions and the HTTPS redirect: Prometheus scrapes each replica at
its own address over the deployment's network (a `Host` that is an IP address no
ALLOWED_HOSTS lists), and nothing here builds a URL or reads a session.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import os
from collections.abc import Callable, Iterator

from django.conf import settings
from django.core.exceptions import MiddlewareNotUsed
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse
from prometheus_client import (
    CONTENT_TYPE_PLAIN_0_0_4,
    REGISTRY,
    CollectorRegistry,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily, Metric

from credentials.metrics import AUDIT_STREAM_BACKLOG
from credentials.middleware import from_trusted_proxy
from credentials.models import audit_stream_backlog

logger = logging.getLogger(__name__)

PATH = "/metrics"
REFUSAL = (
    "Forbidden: /metrics answers METRICS_ALLOWED_NETWORKS, or a request with "
    "'Authorization: Bearer <METRICS_TOKEN>'.\n"
)


class MetricsMiddleware:
    """Answer GET /metrics (see the module's docstring); every other request passes on."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        if not settings.METRICS_ENABLED:
            raise MiddlewareNotUsed  # /metrics is then a 404, like any unknown path
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info != PATH:
            return self.get_response(request)
        if not allowed(request):
            return HttpResponse(REFUSAL, status=403, content_type="text/plain; charset=utf-8")
        if request.method not in ("GET", "HEAD"):
            response = HttpResponse(status=405, content_type="text/plain; charset=utf-8")
            response["Allow"] = "GET, HEAD"
            return response
        # The classic text format every Prometheus 2 reads (names here are all plain ASCII).
        response = HttpResponse(scrape(), content_type=CONTENT_TYPE_PLAIN_0_0_4)
        response["Cache-Control"] = "no-store"
        return response


def allowed(request: HttpRequest) -> bool:
    """A bearer of METRICS_TOKEN (compared in constant time), or a client address in
    METRICS_ALLOWED_NETWORKS. The address is ClientAddressMiddleware's: X-Forwarded-For
    only from TRUSTED_PROXIES. A request that came through a proxy not trusted (it carries
    X-Forwarded-For, yet its peer is not one of them) is not let in by address: the
    address seen is the proxy's, which on the same host would be loopback."""
    token = settings.METRICS_TOKEN
    if token:
        scheme, _, given = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(
            given.strip().encode(), token.encode()
        ):
            return True
    if request.META.get("HTTP_X_FORWARDED_FOR") and not from_trusted_proxy(request):
        return False
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    if address.version == 6 and address.ipv4_mapped:
        address = address.ipv4_mapped
    return any(address in network for network in settings.METRICS_ALLOWED_NETWORKS)


def scrape() -> bytes:
    """Every metric in the text format: summed over this server's workers under gunicorn
    (PROMETHEUS_MULTIPROC_DIR), this process's otherwise; and the audit stream's backlog,
    read now."""
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(_ThisProcess())
    registry.register(_Backlog())
    return generate_latest(registry)


class _ThisProcess:
    def collect(self) -> Iterator[Metric]:
        yield from REGISTRY.collect()


class _Backlog:
    """The audit stream's backlog, one value for the whole installation (every replica
    answers the same: alert on its max, never its sum)."""

    def collect(self) -> Iterator[Metric]:
        try:
            value = audit_stream_backlog()
        except DatabaseError:  # the scrape still answers, without this one value
            logger.warning("metrics: the audit stream's backlog could not be read")
            return
        yield GaugeMetricFamily(
            AUDIT_STREAM_BACKLOG,
            "Audit events waiting to be sent to AUDIT_SYSLOG_URL (0 when it is unset).",
            value=value,
        )
