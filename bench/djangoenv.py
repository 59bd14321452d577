"""Django for a bench script run as `python bench/<script>.py`: the project on sys.path, the
bench-only settings where the environment has none, then django.setup(). One copy, so the
scripts cannot drift apart in what they run against."""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

BENCH_ENV = {
    "DJANGO_SETTINGS_MODULE": "swrconsole.settings",
    "SECRET_KEY": "bench-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz",
    "CREDENTIAL_HASH_KEY": "bench-only-hash-key",
    "ACCESS_KEY_ENCRYPTION_KEYS": "YmVuY2gtb25seS1hY2Nlc3Mta2V5LWVuY3J5cHRpb24=",
    "DEBUG": "false",
}


def setup(**defaults: str) -> None:
    """`defaults`: a script's own settings on top of BENCH_ENV (the environment still wins)."""
    sys.path.insert(0, str(ROOT))
    for key, value in {**BENCH_ENV, **defaults}.items():
        os.environ.setdefault(key, value)
    import django

    django.setup()
