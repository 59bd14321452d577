"""Structured logs that carry no secret: JSON lines, every record redacted whole (its message,
its arguments, any extra field such as Django's `request`, its traceback) of credential-shaped
text and of the values of query parameters that are not known to be harmless."""

from __future__ import annotations

import json
import logging
import os
import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote_plus

from gunicorn.glogging import Logger as GunicornBaseLogger

MASK = "[redacted]"

# Query parameters whose values a log line keeps: what the console, its APIs and the admin
# read that never carries a secret (and the admin's filter lookups, named `field__lookup`).
# Every other value is masked, whatever its name: a client that puts a password or a token in
# a URL sends it under a name of its choosing. Kept values still go through _SHAPES.
SHOWN_QUERY_PARAMETERS = frozenset(
    {
        # the token service
        "service", "scope", "account", "client_id", "offline_token",
        # Huawei's API
        "projectname", "namespace", "repository", "filter", "self_only", "region",
        # the console's lists and pages
        "page", "q", "sort", "status", "tab", "from",
        # the admin's change lists
        "o", "p", "e", "all", "_popup", "_to_field", "_changelist_filters",
    }
)  # fmt: skip

# A query string wherever it appears (a request line, a URL, Django's `<WSGIRequest: GET
# '/path?…'>`): from a `?` that follows a path to the first space, quote or `#`.
_QUERY = re.compile(r"(?<=[\w/.%-])\?([^\s'\"<>#]+)")

# Names whose values are secrets wherever they appear as `name=value` or `name: value`
# (headers, JSON, form bodies, cookies): any name containing one of these words.
_SECRET_WORDS = re.compile(
    r"(?i)password|passwd|secret|token|signature|authorization|api[_-]?key|session|cookie"
)
# Longest text a log record keeps of any one value: a request line, an argument. Past it the
# value is cut (and the run of characters a secret could be made of at the cut dropped, so no
# half secret stays): logging a 1 MB hostile value costs no more than logging 16 kB.
LOGGED_TEXT_MAX = 16_384
_RUN_AT_CUT = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.:+/=%-"


def _named_secret(match: re.Match[str]) -> str:
    if _SECRET_WORDS.search(match.group(1)) is None:
        return match.group(0)
    return f"{match.group(1)}{match.group(2)}{MASK}"


# Every shape our secrets have, any length they come in. Each pattern starts only where a run
# of its characters starts (a look-behind, not `\b`, which `-` splits) and never backtracks into
# a run (possessive `++`): a 1 MB value is scanned once, not once for each of its characters.
_SHAPES = [
    # Authorization-style headers: Basic, Bearer and Digest credentials.
    (re.compile(r"(?i)\b(basic|bearer|digest)\s+[A-Za-z0-9+/=._~-]{8,}"), rf"\1 {MASK}"),
    # `name: value` and `name=value` for names that carry secrets (quoted or not).
    (
        re.compile(r"(?<![\w-])([\w-]++)([\"']?\s*+[:=]\s*+[\"']?)[^\s\"',;&}]++"),
        _named_secret,
    ),
    # Login commands: `-p PASSWORD`, `--password PASSWORD`.
    (re.compile(r"(?i)(\s-p|--password)(\s+|=)\S+"), rf"\1\2{MASK}"),
    # JWTs (registry tokens, anyone's bearer tokens): header.payload.signature.
    (re.compile(r"(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]++\.[A-Za-z0-9_-]++\.[A-Za-z0-9_-]*+"), MASK),
    # Django-signed values (IAM tokens, signed-cookie sessions): payload:timestamp:signature.
    (
        re.compile(
            r"(?<![A-Za-z0-9_.-])[A-Za-z0-9_.-]++:[A-Za-z0-9]++:[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])"
        ),
        MASK,
    ),
    # Registry passwords and digests: 64 hexadecimal characters.
    (re.compile(r"(?<![0-9A-Za-z])[0-9a-fA-F]{64}(?![0-9A-Za-z])"), MASK),
    # Refresh tokens (and Fernet keys): 43 URL-safe base64 characters.
    (re.compile(r"(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])"), MASK),
    # Access keys' secret keys (SK): 40 letters and digits.
    (re.compile(r"(?<![A-Za-z0-9])[A-Za-z0-9]{40}(?![A-Za-z0-9])"), MASK),
]


def _shown_query(match: re.Match[str]) -> str:
    parts = []
    for part in match.group(1).split("&"):
        name, equals, value = part.partition("=")
        shown = unquote_plus(name).lower()
        kept = shown in SHOWN_QUERY_PARAMETERS or "__" in shown
        # A kept value is looked at decoded: `%3A` hides an IAM token's colons, for one.
        if equals and (not kept or _shapes_masked(unquote_plus(value)) != unquote_plus(value)):
            part = f"{name}={MASK}"
        parts.append(part)
    return "?" + "&".join(parts)


def _shapes_masked(text: str) -> str:
    for pattern, replacement in _SHAPES:
        text = pattern.sub(replacement, text)
    return text


def redact(text: str) -> str:
    """`text` with the values of query parameters not known to be harmless masked, then every
    credential-shaped value; cut at LOGGED_TEXT_MAX characters."""
    if len(text) > LOGGED_TEXT_MAX:
        cut = len(text) - LOGGED_TEXT_MAX
        text = f"{text[:LOGGED_TEXT_MAX].rstrip(_RUN_AT_CUT)}…[{cut} more characters]"
    return _shapes_masked(_QUERY.sub(_shown_query, text))


# What every LogRecord has; anything else on a record came in through `extra`.
_STANDARD = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


def _redacted_value(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        return redact(value)
    if hasattr(value, "get_full_path") and hasattr(value, "method"):  # an HttpRequest
        return redact(f"{value.method} {value.get_full_path()}")
    return redact(str(value))


class RedactSecrets(logging.Filter):
    """Defence in depth: the code never logs a secret, and this masks one if it ever did, in
    every part of the record a formatter may write (message, extra fields, traceback)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        record.msg, record.args = redact(message), ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            # The redacted text only: a formatter given exc_info would format it afresh
            # (python-json-logger does), secrets and all.
            record.exc_text, record.exc_info = redact(record.exc_text), None
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        for name, value in list(record.__dict__.items()):
            if name not in _STANDARD:
                setattr(record, name, _redacted_value(value))
        return True


class GunicornLogger(GunicornBaseLogger):
    """Access log as JSON lines: path without query string, no user, no headers but the agent;
    the error log's records redacted as Django's are (a request line may be in them)."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        if not any(isinstance(f, RedactSecrets) for f in self.error_log.filters):
            self.error_log.addFilter(RedactSecrets())

    def access(self, resp: Any, req: Any, environ: dict, request_time: Any) -> None:
        if not self.cfg.accesslog:
            return
        entry = {
            "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "logger": "gunicorn.access",
            "pid": os.getpid(),  # which worker served it
            "remote": environ.get("REMOTE_ADDR", ""),
            "method": environ.get("REQUEST_METHOD", ""),
            "path": environ.get("PATH_INFO", ""),
            "status": int(str(resp.status).split()[0]),
            "bytes": getattr(resp, "sent", None),
            "duration_ms": round(request_time.total_seconds() * 1000, 1),
            "user_agent": redact(environ.get("HTTP_USER_AGENT", ""))[:200],
        }
        self.access_log.info(json.dumps(entry))


def logging_config(*, log_format: str, log_file: str, level: str) -> dict[str, Any]:
    """Django's LOGGING: `log_format` ("json" or "text") to stderr, and JSON lines to
    `log_file` as well when one is named; every line through RedactSecrets."""
    handlers = ["console", *(["file"] if log_file else [])]
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"redact": {"()": "swrconsole.logs.RedactSecrets"}},
        "formatters": {
            "text": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
            "json": {
                "()": "pythonjsonlogger.json.JsonFormatter",
                "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
                "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
            },
        },
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": log_format,
                "filters": ["redact"],
            },
            **(
                {
                    "file": {
                        "class": "logging.FileHandler",
                        "filename": log_file,
                        "formatter": "json",
                        "filters": ["redact"],
                    }
                }
                if log_file
                else {}
            ),
        },
        "root": {"handlers": handlers, "level": level},
    }
