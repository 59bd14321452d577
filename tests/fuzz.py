"""The hostile inputs of tests/test_hardening_fuzz.py: each kind of hostile text (lone
surrogates, NUL, overlong UTF-8, sizes, malformed structure) in each place a request carries
text (the query, a form, JSON, multipart, the headers the console reads), and every kind of
content type. Header values are what a WSGI server hands Django: the bytes sent, as latin-1."""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass

from django.http import HttpResponse

KINDS = ("lone-surrogate", "nul", "overlong-utf8", "size", "content-type", "malformed")

MB = 1024 * 1024
BIG = "x" * MB
# A lone surrogate (U+D800) as UTF-8 would write it, and as a JSON escape (which parses).
SURROGATE = b"\xed\xa0\x80"
SURROGATE_JSON = "\\ud800"
# "../" written with the overlong two-byte form of "." (the classic path-traversal disguise).
OVERLONG = b"\xc0\xae\xc0\xae/"
NUL = b"a\x00b"
# The most a header can carry through gunicorn (limit_request_field_size 8190): 1 MB cannot
# reach Django there.
HEADER_SIZE = 8000
DEEP = b'{"auth": ' * 10_000 + b"{}" + b"}" * 10_000
FORM = "application/x-www-form-urlencoded"
JSON = "application/json"


@dataclass(frozen=True)
class Payload:
    name: str
    kind: str
    query: str = ""
    body: bytes = b""
    content_type: str = FORM
    headers: tuple[tuple[str, str], ...] = ()
    malformed: bool = True  # must be refused before anything is stored
    refused_with: int | None = None  # the exact status, when every endpoint must give it
    heavy: bool = False  # costly to send: one client per endpoint (the user) sends it


def _quoted(raw: bytes) -> str:
    return "".join(f"%{byte:02X}" for byte in raw)


def _query(raw: bytes) -> str:
    value = _quoted(raw)
    names = ("q", "name", "next", "service", "scope", "self_only", "offset", "projectname")
    return "&".join(f"{name}={value}" for name in names)


def _form(raw: bytes) -> bytes:
    value = _quoted(raw).encode()
    names = (b"name", b"username", b"password", b"kind", b"language", b"grant_type")
    return b"&".join(name + b"=" + value for name in names)


def _json(value: str) -> bytes:
    """Every field the API reads, holding `value` (already JSON-escaped)."""
    user = f'{{"name": "{value}", "password": "{value}", "domain": {{"name": "{value}"}}}}'
    return (
        f'{{"name": "{value}", "enable": "{value}", "auth": {{"identity": {{"methods": '
        f'["password"], "password": {{"user": {user}}}}}, "scope": {{"project": '
        f'{{"name": "{value}"}}}}}}}}'
    ).encode()


def _multipart(raw: bytes, *, boundary: str = "fuzz") -> tuple[bytes, str]:
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
        + raw
        + b"\r\n"
        for name in ("name", "username", "password", "kind")
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="'.encode()
        + raw
        + b'"\r\nContent-Type: application/octet-stream\r\n\r\n'
        + raw
        + b"\r\n"
    )
    return b"".join(
        parts
    ) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def _headers(raw: bytes) -> tuple[tuple[str, str], ...]:
    """The headers the console and its APIs read, each carrying `raw`."""
    value = raw.decode("latin-1")
    basic = base64.b64encode(raw + b":" + raw).decode()
    return (
        ("Authorization", f"Basic {basic}"),
        ("X-Auth-Token", value),
        ("X-Subject-Token", value),
        ("X-Project-Id", value),
        ("X-Sdk-Date", value),
        ("X-Sdk-Content-Sha256", value),
        ("Accept-Language", value),
        ("HX-Request", "true"),
        ("HX-Current-URL", value),
        ("HX-Target", value),
        ("HX-Trigger", value),
        ("Referer", f"https://{value}/"),
        ("Origin", value),
        ("X-Forwarded-For", value),
        ("X-Forwarded-Proto", value),
        ("X-CSRFToken", value),
        ("User-Agent", value),
        ("Cookie", f"csrftoken={value}; django_language={value}; {value}={value}"),
    )


def _by_place(kind: str, raw: bytes, json_value: str) -> list[Payload]:
    multipart, boundary = _multipart(raw)
    return [
        Payload(f"{kind}-in-query", kind, query=_query(raw), refused_with=400),
        Payload(f"{kind}-in-form", kind, body=_form(raw), refused_with=400),
        Payload(f"{kind}-in-json", kind, body=_json(json_value), content_type=JSON),
        Payload(
            f"{kind}-raw-in-json", kind, body=_json("@@").replace(b"@@", raw), content_type=JSON
        ),
        Payload(f"{kind}-in-multipart", kind, body=multipart, content_type=boundary),
        Payload(f"{kind}-in-headers", kind, headers=_headers(raw)),
    ]


def _content_types() -> list[Payload]:
    form, json = b"name=ci-bot&kind=image&username=alice", _json("ci-bot")
    multipart, _ = _multipart(b"ci-bot")
    cases = [
        ("text-plain", json, "text/plain"),
        ("text-plain-utf8", json, "text/plain; charset=utf-8"),
        ("xml", b"<auth><user>alice</user></auth>", "application/xml"),
        ("junk-type", json, "application/x-fuzz"),
        ("garbage-type", form, ";;;=;\x7f"),
        ("empty-type", form, ""),
        ("multipart-without-boundary", multipart, "multipart/form-data"),
        ("multipart-wrong-boundary", multipart, "multipart/form-data; boundary=" + "z" * 70),
        ("multipart-junk", b"--x\r\n\r\n\x00\xff", "multipart/form-data"),
        ("multipart-utf16", multipart, "multipart/form-data; boundary=fuzz; charset=utf-16"),
        ("json-utf16", json.decode().encode("utf-16"), f"{JSON}; charset=utf-16"),
        ("json-latin1", json, f"{JSON}; charset=iso-8859-1"),
        ("json-bogus-charset", json, f"{JSON}; charset=bogus"),
        ("json-as-form", json, FORM),
        ("form-as-json", form, JSON),
        ("form-utf16", form.decode().encode("utf-16"), f"{FORM}; charset=utf-16"),
        ("form-bogus-charset", form, f"{FORM}; charset=bogus"),
    ]
    return [
        Payload(
            f"content-type-{name}",
            "content-type",
            body=body,
            content_type=content_type,
            malformed=False,
        )
        for name, body, content_type in cases
    ]


PAYLOADS = [
    *_by_place("lone-surrogate", SURROGATE, SURROGATE_JSON),
    *_by_place("nul", NUL, "a\\u0000b"),
    *_by_place("overlong-utf8", OVERLONG, "\\u00c0\\u00ae"),
    # Past Python's 4,300-digit limit on int(): a ValueError where a number is parsed.
    Payload(
        "1MB-in-query",
        "size",
        query=f"q={BIG}&offset={'9' * 5000}&limit={'9' * 5000}",
        heavy=True,  # a sign-in redirect quotes it whole into ?next=: about a second each
    ),
    Payload("1MB-field-in-form", "size", body=f"name={BIG}&username=a&password=b".encode()),
    Payload(
        "1MB-fields-in-form", "size", body=f"name={BIG}&username={BIG}&password={BIG}".encode()
    ),
    Payload("1MB-fields-in-json", "size", body=_json(BIG), content_type=JSON),
    Payload(
        "1MB-in-multipart",
        "size",
        body=_multipart(BIG.encode())[0],
        content_type=_multipart(b"")[1],
    ),
    Payload("8kB-headers", "size", headers=_headers(b"x" * HEADER_SIZE)),
    *_content_types(),
    Payload("invalid-utf8-query", "malformed", query="q=%ff%fe", refused_with=400),
    Payload(
        "invalid-utf8-form", "malformed", body=b"name=%ff%fe&username=%c3%28", refused_with=400
    ),
    Payload("deep-json", "malformed", body=DEEP, content_type=JSON),
    Payload("invalid-utf8-json", "malformed", body=b'{"a": "\xff\xfe"}', content_type=JSON),
    Payload(
        "junk-credentials",
        "malformed",
        body=b"{}",
        content_type=JSON,
        headers=(
            ("Authorization", "Basic " + base64.b64encode(b"cn-north-4@A\x00B:\xff\xfe").decode()),
            ("X-Auth-Token", "\u00ff" * 300),
            ("X-Sdk-Date", "not-a-date"),
            ("X-Project-Id", "p" * 2000),
        ),
    ),
    Payload(
        "forged-signature",
        "malformed",
        query="self_only=true&self_only=false",
        body=b'{"name": "ci"}',
        content_type=JSON,
        headers=(
            (
                "Authorization",
                "SDK-HMAC-SHA256 Access=AKFUZZ, SignedHeaders=host;x-sdk-date, "
                "Signature=" + "0" * 64,
            ),
            ("X-Sdk-Date", "20261207T100000Z"),
            ("X-Project-Id", "0" * 32),
        ),
    ),
    Payload("hostile-host", "malformed", headers=(("Host", "evil\xed\xa0\x80.example:99999"),)),
]


API_PATH = re.compile(r"^/v[23](?:/|$)")
TOKEN_PATH = "/service/token"


def shape_problem(path: str, method: str, response: HttpResponse) -> str | None:
    """Why an error answer of a machine API is not in that API's JSON shape (None when it is,
    or when the path is the console's): Huawei's `error_code`/`error_msg` under /v2 and /v3;
    the token service's docker `errors` (GET and any other method) or RFC 6749 `error` (POST)."""
    if response.status_code < 400 or not (API_PATH.match(path) or path == TOKEN_PATH):
        return None
    content_type = response.get("Content-Type", "").split(";")[0]
    if content_type != "application/json":
        return f"Content-Type {content_type!r}, not JSON"
    try:
        body = json.loads(response.content)
    except ValueError:
        return "a body that is not JSON"
    if not isinstance(body, dict):
        return "a JSON body that is not an object"
    if API_PATH.match(path):
        code, message = body.get("error_code"), body.get("error_msg")
        ok = (
            isinstance(code, str)
            and code.startswith("SVCSTG.SWR.")
            and isinstance(message, str)
            and body.get("errors") == [{"errorCode": code, "errorMessage": message}]
        )
    elif method == "POST":
        ok = isinstance(body.get("error"), str) and isinstance(body.get("error_description"), str)
    else:
        errors = body.get("errors")
        ok = bool(errors) and all(
            isinstance(error, dict)
            and isinstance(error.get("code"), str)
            and isinstance(error.get("message"), str)
            for error in errors
        )
    return None if ok else f"not the API's error shape: {response.content[:160]!r}"
