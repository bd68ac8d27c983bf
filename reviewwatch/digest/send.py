"""Sending a message: SMTP (STARTTLS, implicit TLS or plain) or an outbox folder of .eml files.

Settings: `smtp.host`, `smtp.port`, `smtp.security`, `smtp.user`, `smtp.sender`, `smtp.timeout_s`,
`smtp.ca_file`; the password comes from the environment (`REVIEWWATCH_SMTP__PASSWORD`).
"""

from __future__ import annotations

import hashlib
import re
import smtplib
import ssl
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol

from reviewwatch.config import SmtpSettings
from reviewwatch.errors import ReviewwatchError

_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


class SendError(ReviewwatchError):
    """The message was not accepted; the digest stays pending and is retried."""


class Transport(Protocol):
    def send(self, message: EmailMessage, recipient: str) -> None: ...


class SmtpTransport:
    """One SMTP connection per message: digests are few, and a fresh session fails cleanly."""

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings

    def send(self, message: EmailMessage, recipient: str) -> None:
        s = self.settings
        try:
            with self._connect() as client:
                if s.user:
                    password = s.password.get_secret_value() if s.password else ""
                    client.login(s.user, password)
                refused = client.send_message(message, from_addr=s.sender, to_addrs=[recipient])
        except smtplib.SMTPResponseException as exc:
            raise SendError(
                f"SMTP {s.host}:{s.port}: {exc.smtp_code} {_decode(exc.smtp_error)}"
            ) from None
        except smtplib.SMTPRecipientsRefused as exc:
            raise SendError(
                f"SMTP {s.host}:{s.port}: recipient refused: {_refusals(exc.recipients)}"
            ) from None
        except (smtplib.SMTPException, OSError) as exc:
            reason = str(exc) or type(exc).__name__
            raise SendError(f"SMTP {s.host}:{s.port}: {reason}") from None
        if refused:
            raise SendError(f"SMTP {s.host}:{s.port}: recipient refused: {_refusals(refused)}")

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        if s.security == "tls":
            return smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout_s, context=self._tls())
        client = smtplib.SMTP(s.host, s.port, timeout=s.timeout_s)
        if s.security == "starttls":
            try:
                client.starttls(context=self._tls())
            except BaseException:
                client.close()
                raise
        return client

    def _tls(self) -> ssl.SSLContext:
        context = ssl.create_default_context()
        if self.settings.ca_file is not None:
            context.load_verify_locations(cafile=str(self.settings.ca_file))
        return context


class OutboxTransport:
    """The dry run: each message is written as an .eml file into a folder instead of being sent."""

    def __init__(self, folder: Path, prefix: str = "digest") -> None:
        self.folder = folder
        self.prefix = prefix
        self.written: list[Path] = []

    def send(self, message: EmailMessage, recipient: str) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        tag = hashlib.sha256(str(message["Message-ID"]).encode()).hexdigest()[:8]
        stem = _UNSAFE_NAME.sub("_", f"{self.prefix}-{recipient}-{tag}")
        path = self.folder / f"{stem[:150]}.eml"
        path.write_bytes(message.as_bytes())
        self.written.append(path)


def _decode(value: bytes | str) -> str:
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
    return " ".join(text.split())[:300]


def _refusals(refused: dict[str, tuple[int, bytes]]) -> str:
    return "; ".join(f"{rcpt}: {code} {_decode(msg)}" for rcpt, (code, msg) in refused.items())
