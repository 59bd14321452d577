"""The production settings, with the benchmark's floors added to the URLs (bench/urls.py).

BENCH_WITHOUT (read here only) serves the same console without a piece of machinery, so
bench/http_bench.py can measure the piece alone beside the server that has it:
`page_cache` — the long-term tab rendered on every request (CACHES["pages"] a DummyCache).
"""

import os

from swrconsole.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"

_without = set(filter(None, os.environ.get("BENCH_WITHOUT", "").split(",")))
if "page_cache" in _without:
    CACHES["pages"] = {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}  # noqa: F405
