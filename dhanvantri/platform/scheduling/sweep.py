"""The appointments' background sweep, run by each server process every minute: slots held by
unpaid bookings are given back, then due reminders are sent. Both are safe with several
processes sweeping at once (row locks and compare-and-set claims)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import timedelta

from ..notifier import Messenger
from ..uow import UnitOfWork
from . import bookings, reminders

log = logging.getLogger(__name__)


async def once(uows: Callable[[], UnitOfWork], messenger: Messenger, ahead: list[timedelta],
               link: str, hold: timedelta) -> tuple[int, int]:
    """One sweep: (bookings expired, reminders sent)."""
    expired = await bookings.expire_unpaid(uows(), hold)
    sent = await reminders.send_due(uows, messenger, ahead, link)
    return expired, sent


async def run(uows: Callable[[], UnitOfWork], messenger: Messenger, ahead: list[timedelta],
              link: str, hold: timedelta, interval_s: float) -> None:
    """Sweep every ``interval_s`` until cancelled; a failed sweep is logged, not fatal.

    The first sweep waits one interval: start-up (and a test's short-lived server) is left
    alone, and a minute's delay costs a reminder nothing.
    """
    while True:
        await asyncio.sleep(interval_s)
        try:
            expired, sent = await once(uows, messenger, ahead, link, hold)
            if expired or sent:
                log.info("appointments swept: expired=%d reminders=%d", expired, sent)
        except Exception:
            log.exception("appointment sweep failed")
