"""One URL, one view per HTTP method, and every outcome JSON in Huawei's shape.

`operations(GET=..., POST=...)` makes the view for a path: a method it does not name is a JSON
405, an ApiError or Http404 its JSON body, and an unexpected exception a JSON 500 (logged), so
no answer of the API is ever Django's HTML page.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers
from django.views.decorators.csrf import csrf_exempt

from credentials.api.errors import ApiError, bad_request, method_not_allowed, swr_error
from credentials.middleware import is_database_unavailable, not_clean_text

logger = logging.getLogger(__name__)

View = Callable[..., HttpResponse]


def operations(*, builtin_only: bool = False, **views: View) -> View:
    """The view of one API path, dispatching on the method (keyword names: GET, POST, ...).

    builtin_only: the path is part of the built-in upstream (IAM tokens, SWR login commands),
    which exists only while no SWR_API_URL names a real one.
    """
    allowed = sorted(views)

    @csrf_exempt
    def view(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not_clean_text(request, multipart=False):  # the middleware leaves it to the API
            # (which parses no multipart body: a junk one would raise here)
            response = bad_request(
                "A request may not carry NUL characters or bytes that are not UTF-8"
            ).response()
        elif builtin_only and not settings.SWR_BUILTIN_API:
            response = swr_error(
                404, "4040000", "The built-in SWR API is off: SWR_API_URL names a real upstream"
            )
        elif request.method not in views:
            response = method_not_allowed(request, allowed)
        else:
            response = _answer(views[request.method], request, *args, **kwargs)
        add_never_cache_headers(response)
        return response

    return view


def _answer(view: View, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    try:
        return view(request, *args, **kwargs)
    except ApiError as exc:
        return exc.response()
    except Http404 as exc:
        return swr_error(404, "4040000", str(exc) or "Not found")
    except SuspiciousOperation as exc:  # a body past DATA_UPLOAD_MAX_MEMORY_SIZE, say
        logger.warning("API request refused: %s", type(exc).__name__)
        return swr_error(400, "4001036", "The request is malformed or too large")
    except Exception as exc:  # the API's contract: JSON whatever happens
        if is_database_unavailable(exc):
            logger.warning("database unavailable: %s", type(exc).__name__)
            response = swr_error(503, "5030000", "Service temporarily unavailable")
            response["Retry-After"] = "5"
            return response
        logger.exception("API operation failed: %s %s", request.method, request.path)
        return swr_error(500, "5000000", "Internal error")


def json_body(request: HttpRequest) -> Any:
    """The request's JSON body; ApiError(400) unless it is application/json and parses."""
    require_json_content_type(request)
    try:
        body = json.loads(request.body.decode("utf-8-sig"))  # a BOM may lead (RFC 8259)
        # A lone surrogate (\ud800) parses but is no text: no password, name or column
        # can hold it. Refused here, once, rather than as a 500 wherever it is first encoded.
        json.dumps(body, ensure_ascii=False).encode("utf-8")
    except (ValueError, RecursionError) as exc:  # RecursionError: too deep; ValueError covers
        raise bad_request("The request body is not valid JSON") from exc  # Unicode errors
    return body


def require_json_content_type(request: HttpRequest) -> None:
    """application/json, in UTF-8 (RFC 8259 §8.1; Huawei's API takes nothing else)."""
    charset = request.content_params.get("charset", "utf-8").lower()
    if request.content_type != "application/json" or charset not in ("utf-8", "utf8"):
        raise bad_request("Content-Type must be application/json (UTF-8)")
