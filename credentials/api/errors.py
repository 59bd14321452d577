"""Huawei's error bodies: every answer of the API that is not a success looks like this.

SWR API reference, "Error Codes" (docs/HUAWEI-API.md §4): both the snake_case and the camelCase
style in one body, codes `SVCSTG.SWR.<HTTP status><4 digits>`. The SDKs read `error_code` and
`error_msg` into their ClientRequestException.
"""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse


class ApiError(Exception):
    """A refusal with its HTTP status, SWR code (the 7 digits) and message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message

    def response(self) -> JsonResponse:
        return swr_error(self.status, self.code, self.message)


def swr_error(status: int, code: str, message: str) -> JsonResponse:
    """An error body in both of SWR's styles."""
    body = {
        "error_code": f"SVCSTG.SWR.{code}",
        "error_msg": message,
        "errors": [{"errorCode": f"SVCSTG.SWR.{code}", "errorMessage": message}],
    }
    response = JsonResponse(body, status=status)
    response["Cache-Control"] = "no-store"
    return response


def unauthorized(message: str = "Authentication failed") -> ApiError:
    return ApiError(401, "4010000", message)


def bad_request(message: str) -> ApiError:
    return ApiError(400, "4001036", message)


def forbidden(message: str = "Insufficient permissions") -> ApiError:
    return ApiError(403, "4030170", message)


def not_found(message: str) -> ApiError:
    return ApiError(404, "4040000", message)


ALL_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def unknown_path(request: HttpRequest) -> JsonResponse:
    """Any path under the API's prefixes that names no operation: JSON, never Django's page."""
    return swr_error(404, "4040000", f"No API operation at {request.path}")


def method_not_allowed(request: HttpRequest, allowed: list[str]) -> JsonResponse:
    response = swr_error(
        405, "4050000", f"{request.method} is not allowed here; use {', '.join(allowed)}"
    )
    response["Allow"] = ", ".join(allowed)
    return response
