"""gunicorn settings for SWR Console (`gunicorn -c gunicorn.conf.py swrconsole.wsgi`)."""

from __future__ import annotations

import math
import os
import shutil
import tempfile
from pathlib import Path

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
# Threads matter: a slow upstream holds a thread for up to its read timeout, so one worker
# must serve several requests at once. Few threads per process, and two processes per core:
# a thread coming back from a database query waits for the GIL behind the busy ones, and
# a worker can end up holding most keep-alive connections while another idles. On two
# cores, 4 × 4 served 2–3× the requests of 2 × 8 (docs/PERFORMANCE.md).
# gthread, draining on SIGTERM: /healthz answers 503 for DRAIN_SECONDS while requests are still
# served, so the load balancer stops sending first; then a graceful stop by GRACEFUL_TIMEOUT.
worker_class = "swrconsole.gunicorn_worker.DrainingThreadWorker"
workers = int(os.environ.get("WEB_CONCURRENCY", str(2 * (os.cpu_count() or 1))))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
# worker_connections stays at gunicorn's default (1000). A low cap spreads a burst of new
# connections over the workers, but a client holding more keep-alive connections than the
# workers' caps add up to (a load balancer's pool, wrk) would find the surplus never served.
# Keep-alive connections stay with the worker that accepted them, and requests queue behind
# its busy threads.
# Above the upstream's connect + read timeouts, so a hung upstream ends as a message to the
# user, never as a killed worker.
_upstream = float(os.environ.get("SWR_TIMEOUT_CONNECT", "3.05")) + float(
    os.environ.get("SWR_TIMEOUT_READ", "10")
)
timeout = max(30, math.ceil(_upstream) + 15)
graceful_timeout = 30  # GRACEFUL_TIMEOUT replaces it in on_starting, once settings are read
# No control socket (gunicornc): unused here, one path per host shared by every replica on it,
# and its stop delays a graceful stop by up to 4 s before the workers are even told.
control_socket_disable = True
keepalive = 2
# Off by default (gunicorn's own default): a recycled worker starts cold — no database
# connections, prepared statements, cached pages or catalog — and at a few thousand
# requests a second 5,000 meant a restart every few seconds. Set it to recycle workers.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "0"))
max_requests_jitter = max_requests // 10
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-") or None  # empty: no access log
errorlog = "-"
logger_class = "swrconsole.logs.GunicornLogger"
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

# Metrics (credentials/metrics): each worker counts in its own file here and /metrics sums
# them, so a scrape answered by any worker counts every one. Set before anything imports
# prometheus_client (it reads the variable then); unset, a fresh directory of this server's
# own, removed when it exits. Emptied at start: the files of a previous run are not ours.
_metrics_dir_made = not os.environ.get("PROMETHEUS_MULTIPROC_DIR")
if _metrics_dir_made:
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="swrconsole-metrics-")


def on_starting(server: object) -> None:
    """Check the configuration in the master, before any worker forks: an error is one line
    and gunicorn exits 1 (a worker failing to boot would print a traceback and be retried)."""
    metrics_dir = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    metrics_dir.mkdir(parents=True, exist_ok=True)
    for stale in metrics_dir.glob("*.db"):
        stale.unlink()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "swrconsole.settings")
    from swrconsole.startup import setup_or_exit

    setup_or_exit()
    from django.conf import settings

    server.cfg.set("graceful_timeout", settings.GRACEFUL_TIMEOUT)  # type: ignore[attr-defined]


def child_exit(server: object, worker: object) -> None:
    """A worker gone (recycled, killed): its counts stay in the sums, its live values go."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)  # type: ignore[attr-defined]


def on_exit(server: object) -> None:
    if _metrics_dir_made:
        shutil.rmtree(os.environ["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)
