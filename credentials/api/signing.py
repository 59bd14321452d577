"""SDK-HMAC-SHA256: the request signature Huawei's SDKs send with an access key (AK/SK).

The canonical request is rebuilt from what arrived exactly as `huaweicloudsdkcore`'s
`signer.Signer` builds it before sending (docs/HUAWEI-API.md §6): method, URI (each path segment
percent-encoded, ending with "/"), the sorted query, the signed headers, the payload's SHA-256.
The signature is hex(HMAC-SHA256(SK, "SDK-HMAC-SHA256\\n<X-Sdk-Date>\\n<sha256(canonical)>")).
Nothing here touches the database: identity.py finds the key and decides.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, quote

from django.http import HttpRequest

ALGORITHM = "SDK-HMAC-SHA256"
DATE_FORMAT = "%Y%m%dT%H%M%SZ"
EMPTY_HASH = hashlib.sha256(b"").hexdigest()
# Headers a signature must cover: without the date a captured request could be replayed with
# a fresh one; without the host, sent to another console sharing the key.
REQUIRED_SIGNED_HEADERS = frozenset({"host", "x-sdk-date"})
# Headers that change what a request means: when one is sent, the signature must cover it, or
# a captured request could be sent again naming another project, validating another token, or
# with its body read as another type. (The SDK signs every header it sends.) Content-Type only
# when there is a body: with none it changes nothing, and some servers (Django's runserver)
# add a default one to every request.
MEANINGFUL_HEADERS = ("X-Project-Id", "X-Subject-Token", "Content-Type")

_AUTHORIZATION = re.compile(
    r"SDK-HMAC-SHA256\s+Access=(?P<access>[^,\s]+),\s*"
    r"SignedHeaders=(?P<headers>[^,\s]+),\s*Signature=(?P<signature>[0-9a-fA-F]{64})\s*"
)


class SignatureError(Exception):
    """The request's signature cannot be checked or does not hold; the message says why."""


class CoverageError(SignatureError):
    """The signature leaves part of the request's meaning uncovered. The message says nothing
    about any key (it is checked before the key is looked up), so the caller is told it."""


@dataclass(frozen=True)
class Authorization:
    access_key_id: str
    signed_headers: tuple[str, ...]
    signature: str


def is_signed(request: HttpRequest) -> bool:
    return request.headers.get("Authorization", "").startswith(ALGORITHM + " ")


def parse_authorization(value: str) -> Authorization:
    match = _AUTHORIZATION.fullmatch(value)
    if match is None:
        raise SignatureError("Malformed SDK-HMAC-SHA256 Authorization header")
    headers = tuple(match["headers"].split(";"))
    if list(headers) != sorted(set(headers)) or any(h != h.lower() or not h for h in headers):
        raise SignatureError("SignedHeaders must be lowercase, sorted and distinct")
    missing = REQUIRED_SIGNED_HEADERS.difference(headers)
    if missing:
        raise SignatureError(f"SignedHeaders must include {', '.join(sorted(missing))}")
    return Authorization(match["access"][:128], headers, match["signature"].lower())


def check_coverage(request: HttpRequest, authorization: Authorization) -> None:
    """SignatureError unless the signature covers everything that gives the request its
    meaning: each meaningful header it carries, and each query parameter once (Django reads a
    repeated one's last value, while the signature sorts them all and cannot tell which)."""
    for name in MEANINGFUL_HEADERS:
        sent = request.headers.get(name)
        if name == "Content-Type" and not request.body:
            continue
        if sent and name.lower() not in authorization.signed_headers:
            raise CoverageError(f"{name} must be signed: add it to SignedHeaders")
    names = [
        key for key, _ in parse_qsl(request.META.get("QUERY_STRING", ""), keep_blank_values=True)
    ]
    if len(names) != len(set(names)):
        raise CoverageError("A signed request may not repeat a query parameter")


def signed_at(request: HttpRequest, now: datetime, max_skew: timedelta) -> datetime:
    """The moment of X-Sdk-Date, refused when outside now ± max_skew."""
    value = request.headers.get("X-Sdk-Date", "")
    try:
        moment = datetime.strptime(value, DATE_FORMAT).replace(tzinfo=UTC)
    except ValueError as exc:
        raise SignatureError("X-Sdk-Date is missing or not YYYYMMDDTHHMMSSZ") from exc
    if abs(now - moment) > max_skew:
        raise SignatureError("X-Sdk-Date is too far from the server's time")
    return moment


def canonical_request(request: HttpRequest, signed_headers: tuple[str, ...]) -> str:
    return "\n".join(
        [
            request.method or "GET",
            _canonical_uri(request.path),
            _canonical_query(request.META.get("QUERY_STRING", "")),
            _canonical_headers(request, signed_headers),
            ";".join(signed_headers),
            _payload_hash(request),
        ]
    )


def string_to_sign(moment: datetime, canonical: str) -> str:
    digest = hashlib.sha256(canonical.encode()).hexdigest()
    return f"{ALGORITHM}\n{moment.strftime(DATE_FORMAT)}\n{digest}"


def signature(secret_key: str, text: str) -> str:
    return hmac.new(secret_key.encode(), text.encode(), hashlib.sha256).hexdigest()


def verify(request: HttpRequest, authorization: Authorization, secret_key: str, moment: datetime):
    """Raise SignatureError unless the signature is the one `secret_key` makes for the request."""
    expected = signature(
        secret_key, string_to_sign(moment, canonical_request(request, authorization.signed_headers))
    )
    if not hmac.compare_digest(expected, authorization.signature):
        raise SignatureError("The request signature does not match")


def _canonical_uri(path: str) -> str:
    # Django hands the path decoded; the signer unquotes too before encoding each segment.
    encoded = "/".join(quote(segment, safe="~") for segment in path.split("/"))
    return encoded if encoded.endswith("/") else encoded + "/"


def _canonical_query(query_string: str) -> str:
    pairs = sorted(parse_qsl(query_string, keep_blank_values=True))
    return "&".join(f"{quote(key, safe='~')}={quote(value, safe='~')}" for key, value in pairs)


def _canonical_headers(request: HttpRequest, signed_headers: tuple[str, ...]) -> str:
    lines = []
    for name in signed_headers:
        value = request.headers.get(name)
        if value is None:
            raise SignatureError(f"Signed header {name} is missing from the request")
        lines.append(f"{name}:{_utf8(value).strip()}")
    return "\n".join(lines) + "\n"


def _utf8(value: str) -> str:
    # WSGI carries header bytes as latin-1; the signer signed the UTF-8 text they encode.
    try:
        return value.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return value


def _payload_hash(request: HttpRequest) -> str:
    body = request.body
    if not body:
        return EMPTY_HASH
    actual = hashlib.sha256(body).hexdigest()
    # The signer puts this header's value in place of the hash (UNSIGNED-PAYLOAD for
    # non-JSON bodies). Every body this API takes is JSON, so it must be the body's own hash.
    declared = request.headers.get("X-Sdk-Content-Sha256")
    if declared is not None and declared != actual:
        raise SignatureError("X-Sdk-Content-Sha256 is not the hash of the body")
    return actual
