"""A real SMTP server for the tests (aiosmtpd on 127.0.0.1) that can be told to misbehave."""

from __future__ import annotations

import asyncio
import email
import email.policy
import socket
from dataclasses import dataclass, field
from functools import cached_property
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


def free_port() -> int:
    """A port nothing listens on right now (aiosmtpd's Controller refuses port 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Received:
    sender: str
    recipients: list[str]
    raw: bytes

    @cached_property
    def message(self) -> EmailMessage:
        """Parsed when first read, not on receipt: the server stands in for a remote one, and
        parsing every message as it came in took the scale bench's cores from the workers."""
        parsed = email.message_from_bytes(self.raw, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass
class Recorder:
    """Stores what it accepts; `mode` injects a failure at RCPT or DATA."""

    mode: str = "ok"  # ok | rcpt_550 | rcpt_451 | data_554 | data_451 | drop | slow
    received: list[Received] = field(default_factory=list)
    slow_s: float = 1.5

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if self.mode == "rcpt_550":
            return "550 5.1.1 mailbox unavailable"
        if self.mode == "rcpt_451":
            return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.mode == "data_554":
            return "554 5.7.1 message refused"
        if self.mode == "data_451":
            return "451 4.7.1 greylisted, try again"
        if self.mode == "drop":
            # The server dies after reading the message and before answering it.
            assert server.transport is not None
            server.transport.close()
            return "421 closing"
        if self.mode == "slow":
            await asyncio.sleep(self.slow_s)
            return "451 4.4.2 too slow"
        raw = envelope.original_content or envelope.content
        assert isinstance(raw, bytes)
        self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), raw))
        return "250 2.0.0 accepted"

    def to(self, address: str) -> list[EmailMessage]:
        return [r.message for r in self.received if address in r.recipients]


class SmtpServer:
    def __init__(self, **kwargs: Any) -> None:
        self.recorder = Recorder()
        self.port = free_port()
        self.controller = Controller(self.recorder, hostname="127.0.0.1", port=self.port, **kwargs)
        self.controller.start()

    def stop(self) -> None:
        self.controller.stop()
