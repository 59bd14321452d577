"""A real SMTP server for the tests: aiosmtpd on 127.0.0.1, on a port the kernel picks.

`mailbox` points Django's SMTP backend at it and hands the test what arrived, parsed.
"""

from __future__ import annotations

import email
import email.policy
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller


class _EphemeralPortController(Controller):
    """aiosmtpd's controller bound to port 0: the port is read back from the bound socket
    before the controller's own start-up check connects to it (no guessed free port)."""

    def _trigger_server(self) -> None:
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


@dataclass
class Mailbox:
    """Every message the server accepted, in order of arrival."""

    host: str = "127.0.0.1"
    port: int = 0
    messages: list[EmailMessage] = field(default_factory=list)
    # Recipients the server refuses (550), as a real one refuses an unknown mailbox.
    refused: set[str] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        if address in self.refused:
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        message["X-Envelope-To"] = ", ".join(envelope.rcpt_tos)
        with self._lock:
            self.messages.append(message)  # type: ignore[arg-type]
        return "250 Message accepted for delivery"

    def clear(self) -> None:
        with self._lock:
            self.messages.clear()
            self.refused.clear()

    def to(self, address: str) -> list[EmailMessage]:
        with self._lock:
            return [m for m in self.messages if address in m["X-Envelope-To"]]

    def subjects(self) -> list[str]:
        with self._lock:
            return [str(m["Subject"]).strip() for m in self.messages]


def body(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None, "the message has no text/plain part"
    return part.get_content()


@pytest.fixture(scope="session")
def smtp_server() -> Iterator[Mailbox]:
    box = Mailbox()
    controller = _EphemeralPortController(box, hostname="127.0.0.1", port=0)
    controller.start()
    box.port = controller.port
    try:
        yield box
    finally:
        controller.stop()


@pytest.fixture
def mailbox(smtp_server: Mailbox, settings: Any) -> Iterator[Mailbox]:
    """Django sends over SMTP to the test server for this test; it starts empty."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = smtp_server.host
    settings.EMAIL_PORT = smtp_server.port
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    smtp_server.clear()
    yield smtp_server
    smtp_server.clear()
