"""Loaded by pytest before pytest-django reads the settings (see addopts in pyproject.toml)."""

from __future__ import annotations

import os

os.environ["DEBUG"] = "false"
os.environ.setdefault("SECRET_KEY", "test-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz")
os.environ.setdefault("CREDENTIAL_HASH_KEY", "test-only-credential-hash-key")
os.environ.setdefault("ACCESS_KEY_ENCRYPTION_KEYS", "dGVzdC1vbmx5LWFjY2Vzcy1rZXktZW5jcnlwdGlvbiE=")
os.environ.setdefault("ALLOWED_HOSTS", "localhost,127.0.0.1,testserver")
# Playwright's sync API runs an event loop in the test thread; the ORM calls tests make
# beside it are still synchronous and single-threaded.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
# Live-server request threads die after each request; persistent connections would outlive
# them and keep the test database busy at teardown.
os.environ.setdefault("CONN_MAX_AGE", "0")
# Everything the in-process servers log also goes here, for the log-secrecy test.
os.environ.setdefault(
    "LOG_FILE",
    os.path.join(
        os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "test-artifacts", "console.log"
    ),
)
os.makedirs(os.path.dirname(os.environ["LOG_FILE"]), exist_ok=True)
open(os.environ["LOG_FILE"], "w").close()  # this run's lines only
