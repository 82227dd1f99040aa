"""Open slots: the weekly hours of each physician, less leave, bookings and the past."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from ...http.errors import ValidationFailed
from ..domain.appointments import Availability, Slot, free_slots
from ..domain.money import text
from ..uow import UnitOfWork
from .availability import describe_physician

# One request never walks more than this (a month of 5-minute slots is ~8,600 per physician).
MAX_RANGE = timedelta(days=31)


def check_range(start: datetime, end: datetime) -> None:
    """422 naming the field when the range is empty or too long."""
    if end <= start:
        raise ValidationFailed.field("to", "must be after from")
    if end - start > MAX_RANGE:
        raise ValidationFailed.field("to", "at most 31 days after from")


async def open_slots(uow: UnitOfWork, start: datetime, end: datetime, *,
                     physician_id: uuid.UUID | None = None, limit: int = 50,
                     horizon_days: int = 60) -> list[dict[str, Any]]:
    """Free slots starting in ``[start, end)`` and in the future, earliest first.

    Without ``physician_id`` every physician's slots are merged: "see a doctor within 24 hours"
    offers whoever is free first. Nothing past ``horizon_days`` is offered (it could not be
    booked).
    """
    check_range(start, end)
    async with uow:
        now = uow.clock()
        start, end = max(start, now), min(end, now + timedelta(days=horizon_days))
        if end <= start:
            return []
        bookable = await uow.appointments.bookable(physician_id)
        ids = [hours.id for hours, _, _ in bookable]
        leave = await uow.appointments.leave(ids, start, end)
        taken = await uow.appointments.taken(ids, start, end)
        found: list[dict[str, Any]] = []
        for hours, user, profile in bookable:
            mine = [item for item in leave if item.physician_id == hours.id]
            who = describe_physician(user, profile)
            found += [describe(slot, hours) | {"physician": who}
                      for slot in free_slots(hours.slots(start, end), mine,
                                             taken.get(hours.id, []))]
        found.sort(key=lambda s: (s["starts_at"], s["physician_id"]))
        return found[:limit]


def describe(slot: Slot, hours: Availability) -> dict[str, Any]:
    """A slot as JSON: UTC instants, and the physician's zone for showing their local time."""
    return {"physician_id": str(slot.physician_id), "starts_at": slot.starts_at.isoformat(),
            "ends_at": slot.ends_at.isoformat(), "time_zone": hours.time_zone,
            "fee": text(hours.fee)}


async def slot_at(uow: UnitOfWork, hours: Availability, starts_at: datetime) -> Slot:
    """The physician's slot beginning at ``starts_at``, if it is one of their hours and not on
    leave (inside an open unit of work); 422 naming ``starts_at`` otherwise.

    Whether it is still free is not asked here: the database's unique index answers that when
    the booking is written, whoever else is booking at the same moment.
    """
    slot = next((s for s in hours.slots(starts_at, starts_at + timedelta(seconds=1))
                 if s.starts_at == starts_at), None)
    if slot is None:
        raise ValidationFailed.field("starts_at", "not one of the physician's slots")
    if await uow.appointments.leave([hours.id], slot.starts_at, slot.ends_at):
        raise ValidationFailed.field("starts_at", "the physician is on leave then")
    return slot
