"""The production settings, with the benchmark's floors added to the URLs (bench/urls.py)."""

from swrconsole.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
