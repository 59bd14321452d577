"""gunicorn's gthread worker, draining on SIGTERM before it stops (gunicorn.conf.py).

gunicorn's own stop closes the worker's listening socket at once: a load balancer that has not
yet noticed keeps sending requests to a socket nobody accepts from, and each fails. This worker
first drains: for DRAIN_SECONDS it keeps accepting and serving while /healthz answers 503
(swrconsole.draining), long enough for the load balancer's health checks to take it out of
rotation (deploy/haproxy.cfg); then gunicorn's graceful stop — no new connections, those open
finished — within GRACEFUL_TIMEOUT of the SIGTERM, after which the master kills what is left.
Another SIGTERM changes nothing (systemd sends one to every process of the unit, gunicorn's master
one to each worker); SIGINT or SIGQUIT stops at once, as gunicorn's own worker does.
"""

from __future__ import annotations

import threading
from typing import Any

from django.conf import settings
from gunicorn.workers.gthread import ThreadWorker

from swrconsole import draining


class DrainingThreadWorker(ThreadWorker):
    def handle_exit(self, sig: int, frame: Any) -> None:
        if draining.draining():
            return  # already draining (systemd signals every process of the unit)
        if settings.DRAIN_SECONDS <= 0:
            self.alive = False
            return
        draining.start()
        # Nothing that takes a lock here (a signal handler): the thread logs and waits.
        threading.Thread(target=self._drain, name="drain", daemon=True).start()

    def _drain(self) -> None:
        self.log.info("SIGTERM: draining for %s s, then stopping", settings.DRAIN_SECONDS)
        threading.Event().wait(settings.DRAIN_SECONDS)
        # The worker's loop wakes at least once a second, then stops as gthread's does.
        self.alive = False
