"""The sender's loop: the outbox's events to the receiver, in order, each deleted from the outbox
once the receiver accepted it (manage.py stream_audit_trail).

One sender at a time (SenderLock), on one connection: the order the events were written in is
the order they are written to the receiver. While the receiver is down the events wait in the
outbox and the sender tries again after a pause that doubles up to `max_backoff`; the database
going away is waited out the same way.
"""

from __future__ import annotations

import logging
import socket
import threading
from dataclasses import dataclass, field

from django.db import InterfaceError, OperationalError, connection

from credentials.models import (
    SenderLock,
    audit_events_streamed,
    audit_events_to_stream,
)
from credentials.streaming import syslog
from credentials.streaming.receiver import Receiver, ReceiverDown

logger = logging.getLogger(__name__)


class AnotherSender(Exception):
    """Another sender held the lock for as long as this one would wait (--once)."""


@dataclass
class Pacing:
    interval: float = 1.0  # between looks at an empty outbox; the first pause after a failure
    max_backoff: float = 30.0
    batch_size: int = 100
    lock_wait: float = 60.0  # --once: how long to wait for a sender that holds the lock
    _pause: float = field(default=0.0, init=False)

    def failed(self) -> float:
        """The pause after a failure: `interval`, then twice the last, up to `max_backoff`."""
        self._pause = min(self.max_backoff, max(self.interval, self._pause * 2))
        return self._pause

    def succeeded(self) -> None:
        self._pause = 0.0


def stream(
    receiver: Receiver, pacing: Pacing, *, once: bool, stop: threading.Event | None = None
) -> int:
    """Send what waits, in order; with `once`, return when nothing does (or raise ReceiverDown,
    AnotherSender, or the database's error), else go on until `stop` is set. How many events
    the receiver accepted."""
    stop = stop or threading.Event()
    lock = SenderLock()
    host = syslog.hostname(socket.gethostname())
    sent, waited, standing_by = 0, 0.0, False
    try:
        while not stop.is_set():
            try:
                if not lock.hold():
                    if once and waited >= pacing.lock_wait:
                        raise AnotherSender(
                            f"another sender held the lock for {pacing.lock_wait:g} s"
                        )
                    if not standing_by:
                        logger.info("Another sender is streaming the audit trail: standing by.")
                        standing_by = True
                    stop.wait(pacing.interval)
                    waited += pacing.interval
                    continue
                standing_by = False
                batch = audit_events_to_stream(pacing.batch_size)
                if not batch:
                    if once:
                        break
                    stop.wait(pacing.interval)
                    continue
                receiver.deliver(
                    b"".join(syslog.framed(syslog.message(e, seq, host)) for seq, e in batch)
                )
                audit_events_streamed([seq for seq, _ in batch])
                sent += len(batch)
                pacing.succeeded()
            except ReceiverDown as exc:
                if once:
                    raise
                pause = pacing.failed()
                logger.warning("Audit stream: %s; trying again in %g s.", exc, pause)
                stop.wait(pause)
            except (OperationalError, InterfaceError) as exc:
                connection.close()  # and with it the session's lock: held again, or not, next
                if once:
                    raise
                pause = pacing.failed()
                logger.warning("Audit stream: the database: %s; again in %g s.", exc, pause)
                stop.wait(pause)
    finally:
        receiver.close()
        lock.release()
    return sent
