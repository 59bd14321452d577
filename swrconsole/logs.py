"""Structured logs that carry no secret: JSON lines, with credential-shaped text masked."""

from __future__ import annotations

import json
import logging
import os
import re
from datetime import UTC, datetime
from typing import Any

from gunicorn.glogging import Logger as GunicornBaseLogger

_REDACTIONS = [
    # Credential passwords and digests: 64 hex characters.
    (re.compile(r"\b[0-9a-fA-F]{64}\b"), "[redacted]"),
    # Login commands: `-p PASSWORD`, `--password PASSWORD`.
    (re.compile(r"(?i)(\s-p|--password)(\s+|=)\S+"), r"\1\2[redacted]"),
    # Authorization-style headers and tokens.
    (re.compile(r"(?i)\b(basic|bearer)\s+[A-Za-z0-9+/=._~-]{8,}"), r"\1 [redacted]"),
    (
        re.compile(
            r"(?i)(authorization|x-auth-token|x-subject-token|password)([\"']?\s*[:=]\s*[\"']?)[^\s\"',}]+"
        ),
        r"\1\2[redacted]",
    ),
]


def redact(text: str) -> str:
    for pattern, replacement in _REDACTIONS:
        text = pattern.sub(replacement, text)
    return text


class RedactSecrets(logging.Filter):
    """Defence in depth: the code never logs a secret, and this masks one if it ever did."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        return True


class GunicornLogger(GunicornBaseLogger):
    """Access log as JSON lines: path without query string, no user, no headers but the agent."""

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
