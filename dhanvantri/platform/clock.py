"""Time source, injectable so tests can move time forward (token and OTP expiry)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

Clock = Callable[[], datetime]


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


class ManualClock:
    """A clock that only moves when told to (for tests and simulations)."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or utcnow()

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        """Move time forward, e.g. ``advance(minutes=16)``."""
        self.now += timedelta(**delta)
