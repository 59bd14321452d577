"""`/service/token`, the realm a registry sends its clients to: one view, the flow chosen by
the method (GET: `basic`, POST: `oauth`)."""

from __future__ import annotations

import time

from csp.decorators import csp_exempt
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from credentials import metrics
from credentials.registry import attempts, basic, oauth
from credentials.registry.tokens import registry_error


@csrf_exempt  # a token endpoint for registry clients: no session, no cookie, nothing to forge
@csp_exempt()  # JSON for registry clients: no page to protect
def token(request: HttpRequest) -> HttpResponse:
    """The Basic GET flow and the OAuth2 POST flow at one URL; every refusal (401) takes the
    same least time, whatever was checked (attempts.answer_no_sooner). Each answer is counted
    by flow and outcome, with the time it took (credentials/metrics)."""
    started = time.perf_counter()
    try:
        if request.method == "GET":
            response = basic.token_get(request)
        elif request.method == "POST":
            response = oauth.token_post(request)
        else:  # in the registry's JSON, as every other answer here
            response = registry_error(
                405, "METHOD_NOT_ALLOWED", f"{request.method} is not allowed here; use GET or POST"
            )
            response["Allow"] = "GET, POST"
        if response.status_code == 401:
            attempts.answer_no_sooner(request, started)
    except BaseException:
        metrics.token_request(_flow(request), "error", time.perf_counter() - started)
        raise
    took = time.perf_counter() - started
    metrics.token_request(_flow(request), _outcome(request, response), took)
    return response


def _flow(request: HttpRequest) -> str:
    if request.method == "GET":
        return "basic"
    return getattr(request, "swr_token_flow", "other")  # oauth.token_post names its grant


def _outcome(request: HttpRequest, response: HttpResponse) -> str:
    status = response.status_code
    if status == 200:
        return "granted"
    if status == 401:
        return "throttled" if getattr(request, "swr_token_throttled", False) else "refused"
    return "error" if status >= 500 else "invalid"
