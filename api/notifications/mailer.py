"""The SMTP outlet (aiosmtplib): one connection per batch of mails, the message built with
the standard `email` package (text and HTML alternatives, attachments, a Message-ID derived
from the event so a reader's client shows a repeated delivery as the same message)."""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from urllib.parse import unquote, urlsplit

import aiosmtplib

from domain.notifications.ports import Mail, MailRefused, MailUnavailable


def build(mail: Mail, *, at: datetime | None = None) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = mail.sender
    msg["To"] = mail.to
    msg["Subject"] = mail.subject
    msg["Message-ID"] = mail.message_id
    msg["Date"] = format_datetime(at or datetime.now(UTC))
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies to us
    for name, value in mail.headers.items():
        msg[name] = value
    msg.set_content(mail.text)
    msg.add_alternative(mail.html, subtype="html")
    for a in mail.attachments:
        maintype, _, subtype = a.content_type.partition("/")
        msg.add_attachment(a.data, maintype=maintype, subtype=subtype, filename=a.filename)
    msg["Content-Language"] = mail.language  # after the body: set_content drops Content-*
    return msg


class SmtpMailer:
    """`smtp://[user:pass@]host[:port]` (STARTTLS when the server offers it) or
    `smtps://…` (TLS from the first byte, port 465 by default)."""

    def __init__(self, url: str, *, timeout: float = 30.0) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError("PROMESSA_SMTP_URL must be smtp://host:port or smtps://host:port")
        self.tls = parts.scheme == "smtps"
        self.host = parts.hostname
        self.port = parts.port or (465 if self.tls else 25)
        self.username = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        self.timeout = timeout

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[Connection]:
        client = aiosmtplib.SMTP(hostname=self.host, port=self.port, use_tls=self.tls,
                                 start_tls=None if not self.tls else False,
                                 username=self.username, password=self.password,
                                 timeout=self.timeout,
                                 tls_context=ssl.create_default_context() if self.tls else None)
        try:
            await client.connect()
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise MailUnavailable(f"SMTP server {self.host}:{self.port}: {exc}") from exc
        try:
            yield Connection(client)
        finally:
            try:
                await client.quit()
            except (aiosmtplib.SMTPException, OSError):
                client.close()


class Connection:
    def __init__(self, client: aiosmtplib.SMTP) -> None:
        self.client = client

    async def send(self, mail: Mail) -> None:
        try:
            await self.client.send_message(build(mail))
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [r.code for r in exc.recipients]
            if all(code >= 500 for code in codes):
                raise MailRefused(f"recipient refused: {exc.recipients[0].message}") from exc
            raise MailUnavailable(str(exc)) from exc
        except aiosmtplib.SMTPResponseException as exc:
            if exc.code >= 500:
                raise MailRefused(f"{exc.code} {exc.message}") from exc
            raise MailUnavailable(f"{exc.code} {exc.message}") from exc
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise MailUnavailable(f"{type(exc).__name__}: {exc}") from exc
