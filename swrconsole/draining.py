"""Whether this process is draining: gunicorn's worker (swrconsole/gunicorn_worker.py) sets it
on SIGTERM, and /healthz then answers 503 so the load balancer stops sending new requests
while the ones already sent are still served. Pure: no Django, no gunicorn."""

from __future__ import annotations

import threading

_draining = threading.Event()


def start() -> None:
    _draining.set()


def draining() -> bool:
    return _draining.is_set()
