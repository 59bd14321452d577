"""Django's PostgreSQL backend, with a connection health check that costs no round trip.

With CONN_HEALTH_CHECKS, Django sends `SELECT 1` before it reuses a persistent connection in a
new request: one round trip on every request that touches the database. A connection the
server has ended (a restart, `pg_terminate_backend`, an idle timeout, a failover) always has
something to read on its socket: the server's goodbye message, or end-of-file. So the socket
is polled first, without waiting. Nothing to read: the server has not hung up, and the
connection is used as it is. Anything to read: Django's own `SELECT 1` decides, and a dead
connection is replaced before the request uses it.

A network that silently drops packets is not detected this way, and not by `SELECT 1`
either (it would block until TCP gives up): set TCP keepalives for that.
"""

from __future__ import annotations

import select

from django.db.backends.postgresql import base


class DatabaseWrapper(base.DatabaseWrapper):
    def close_if_health_check_failed(self) -> None:
        if (
            self.connection is not None
            and self.health_check_enabled
            and not self.health_check_done
            and not self.pool
            and not self.connection.closed
            and not _has_input(self.connection.fileno())
        ):
            self.health_check_done = True
            return
        super().close_if_health_check_failed()


def _has_input(fd: int) -> bool:
    """Whether the server sent anything (or hung up) since the last query's answer."""
    poller = select.poll()
    poller.register(fd, select.POLLIN | select.POLLPRI)
    return bool(poller.poll(0))
