"""A real SMTP server for the tests (aiosmtpd, in its own thread), that keeps what it got."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller


@dataclass
class Inbox:
    raw: list[bytes] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)  # recipients answered 550

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:
        if address.lower() in self.refuse:
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.raw.append(bytes(envelope.original_content or envelope.content))
        return "250 Message accepted for delivery"

    @property
    def messages(self) -> list[EmailMessage]:
        return [message_from_bytes(r, policy=policy.default) for r in self.raw]  # type: ignore[misc]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def smtp_server(port: int | None = None, *, handler: Inbox | None = None
                ) -> Iterator[tuple[Inbox, int]]:
    inbox = handler or Inbox()
    port = port or free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()
