"""`/service/token`, the realm a registry sends its clients to: one view, the flow chosen by
the method (GET: `basic`, POST: `oauth`)."""

from __future__ import annotations

from csp.decorators import csp_exempt
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.views.decorators.csrf import csrf_exempt

from credentials.registry import basic, oauth


@csrf_exempt  # a token endpoint for registry clients: no session, no cookie, nothing to forge
@csp_exempt()  # JSON for registry clients: no page to protect
def token(request: HttpRequest) -> HttpResponse:
    """The Basic GET flow and the OAuth2 POST flow at one URL."""
    if request.method == "GET":
        return basic.token_get(request)
    if request.method == "POST":
        return oauth.token_post(request)
    return HttpResponseNotAllowed(["GET", "POST"])
