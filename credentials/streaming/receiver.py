"""One connection to the syslog receiver, over TCP or TLS: bytes are delivered once the receiver
has accepted them, which TCP lets a sender know only so far.

Accepted means: written whole, every byte acknowledged by the receiver's TCP (Linux's
SIOCOUTQ reaches zero), and the connection still open afterwards (the receiver has not closed
or reset it). A receiver that stopped is noticed before anything is written to it (its close
has arrived), so nothing is written into a dead connection and taken for delivered. What TCP
cannot say is whether the receiver's process read what its kernel acknowledged: one that dies
in that instant loses it; see docs/DECISIONS.md, "The audit trail streamed out".
"""

from __future__ import annotations

import contextlib
import fcntl
import select
import socket
import ssl
import struct
import termios
import time
from urllib.parse import urlsplit


class ReceiverDown(Exception):
    """The receiver could not be reached, or did not accept what was sent."""


class Receiver:
    """A connection to `url` (tcp://host:port or tls://host:port), made when first needed and
    again after it broke. TLS checks the receiver's certificate and name against `ca_file`'s
    certificates (the system's when empty)."""

    def __init__(self, url: str, ca_file: str = "", timeout: float = 10.0) -> None:
        parts = urlsplit(url)
        self.url = url
        self.host = parts.hostname or ""
        self.port = parts.port or 0
        self.tls = parts.scheme == "tls"
        self.ca_file = ca_file
        self.timeout = timeout
        self._socket: socket.socket | None = None

    def deliver(self, data: bytes) -> None:
        """Send `data`; return once the receiver accepted all of it, else ReceiverDown (and
        the connection is dropped: the next delivery makes a new one)."""
        try:
            if self._socket is not None and not self._open():
                self.close()
            if self._socket is None:
                self._socket = self._connect()
            self._socket.sendall(data)
            self._wait_until_acknowledged()
        except (OSError, ReceiverDown) as exc:
            self.close()
            if isinstance(exc, ReceiverDown):
                raise
            raise ReceiverDown(f"{self.url}: {exc.strerror or exc}") from exc

    def close(self) -> None:
        sock, self._socket = self._socket, None
        if sock is None:
            return
        if isinstance(sock, ssl.SSLSocket):  # say goodbye (close_notify), never wait for one
            sock.setblocking(False)
            with contextlib.suppress(OSError):
                sock.unwrap()
        sock.close()

    def _connect(self) -> socket.socket:
        raw = socket.create_connection((self.host, self.port), timeout=self.timeout)
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        if not self.tls:
            return raw
        context = ssl.create_default_context(cafile=self.ca_file or None)
        try:
            return context.wrap_socket(raw, server_hostname=self.host)
        except OSError:
            raw.close()
            raise

    def _open(self) -> bool:
        """Whether the receiver still has the connection open. A syslog receiver sends
        nothing: what arrives (TLS session tickets, say) is read and dropped; an end of
        stream or an error means it closed."""
        sock = self._socket
        assert sock is not None
        sock.setblocking(False)
        try:
            while sock.recv(4096):
                pass
            return False  # the end of the stream: the receiver closed its side
        except (BlockingIOError, ssl.SSLWantReadError, ssl.SSLWantWriteError):
            return True  # nothing more to read: open
        except OSError:
            return False  # reset, or the TLS session ended
        finally:
            sock.settimeout(self.timeout)

    def _wait_until_acknowledged(self) -> None:
        deadline = time.monotonic() + self.timeout
        while True:
            if not self._open():
                raise ReceiverDown(f"{self.url}: the receiver closed the connection")
            if _unacknowledged(self._socket) == 0:
                return
            if time.monotonic() > deadline:
                raise ReceiverDown(f"{self.url}: not acknowledged within {self.timeout:g} s")
            # Wakes as soon as the receiver closes or sends; otherwise looks again in 10 ms.
            select.select([self._socket], [], [], 0.01)


def _unacknowledged(sock: socket.socket | None) -> int:
    """Bytes written to `sock` its peer has not acknowledged yet (0 where the system cannot
    tell: there, a write that completed on an open connection is all a sender knows)."""
    request = getattr(termios, "TIOCOUTQ", None)  # Linux's SIOCOUTQ
    if sock is None or request is None:
        return 0
    try:
        answer = fcntl.ioctl(sock.fileno(), request, b"\0\0\0\0")
    except OSError:
        return 0
    return struct.unpack("i", answer)[0]
