"""How one-time codes reach people. Embedded mode logs them on the server console."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

log = logging.getLogger("dhanvantri.notify")


class Notifier(Protocol):
    """Delivers a one-time code (SMS gateway, WhatsApp, e-mail, or the console)."""

    async def send_code(self, destination: str, code: str, purpose: str) -> None:
        """Send ``code`` for ``purpose`` to ``destination`` (a phone number or e-mail)."""
        ...


@runtime_checkable
class Messenger(Protocol):
    """Delivers a text message (an appointment reminder) by SMS, WhatsApp or the console."""

    async def send_message(self, destination: str, text: str, purpose: str) -> None:
        """Send ``text`` to ``destination`` (an E.164 phone number); ``purpose`` names the kind
        of message (e.g. ``appointment_reminder``) for logs."""
        ...


def mask(destination: str) -> str:
    """Phone or e-mail with all but the last four characters hidden."""
    return "*" * max(len(destination) - 4, 0) + destination[-4:]


class ConsoleNotifier:
    """Writes codes to the server log, for a self-hosted server without an SMS gateway.

    The code goes to the operator's console only, never into an HTTP response; the destination is
    masked because logs must not carry identifiers.
    """

    async def send_code(self, destination: str, code: str, purpose: str) -> None:
        log.warning("one-time %s code for %s: %s", purpose, mask(destination), code)

    async def send_message(self, destination: str, text: str, purpose: str) -> None:
        # The text is the server's own wording (a time and a physician's name), never the
        # patient's; the destination is masked as for codes.
        log.warning("%s message for %s: %s", purpose, mask(destination), text)


@dataclass
class Sent:
    """One delivered message (kept by ``OutboxNotifier``)."""

    destination: str
    code: str
    purpose: str


@dataclass
class Message:
    """One delivered text message (kept by ``OutboxNotifier``)."""

    destination: str
    text: str
    purpose: str


class OutboxNotifier:
    """Keeps codes (and text messages) in memory, for tests and for embedding in another
    process."""

    def __init__(self) -> None:
        self.sent: list[Sent] = []
        self.messages: list[Message] = []

    async def send_message(self, destination: str, text: str, purpose: str) -> None:
        self.messages.append(Message(destination, text, purpose))

    async def send_code(self, destination: str, code: str, purpose: str) -> None:
        self.sent.append(Sent(destination, code, purpose))

    def last_code(self, destination: str | None = None) -> str:
        """The newest code (optionally to one destination)."""
        for message in reversed(self.sent):
            if destination is None or message.destination == destination:
                return message.code
        raise LookupError("no code sent")
