"""A physician's weekly hours, slot length, zone and fee, and their leave.

What patients see of a physician alongside the hours is what the Telemedicine Practice
Guidelines 2020 ask to be shown: the name, qualification, registration number and council.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from ...http.errors import NotFound, ValidationFailed
from ...http.principal import Role
from ..domain.accounts import PhysicianProfile, User
from ..domain.appointments import Availability, Leave, Window
from ..domain.audit import Actor
from ..domain.money import text
from ..uow import UnitOfWork

ENTITY = "physician_availability"


def physician_of(actor: Actor, physician_id: uuid.UUID | None) -> uuid.UUID:
    """Whose hours an actor may change: a physician their own, an admin anyone's."""
    if actor.role == Role.PHYSICIAN.value:
        assert actor.user_id is not None
        if physician_id not in (None, actor.user_id):
            raise NotFound("no such physician")
        return actor.user_id
    if physician_id is None:
        raise ValidationFailed.field("physician_id", "required")
    return physician_id


def describe_physician(user: User, profile: PhysicianProfile) -> dict[str, Any]:
    """A physician as a patient sees them before booking."""
    return {"id": str(user.id), "name": user.full_name,
            "qualification": profile.qualification, "specialty": profile.specialty,
            "registration_number": profile.registration_number, "council": profile.council}


def describe(hours: Availability) -> dict[str, Any]:
    """Weekly hours as JSON."""
    return {"physician_id": str(hours.id), "time_zone": hours.time_zone,
            "slot_minutes": hours.slot_minutes, "fee": text(hours.fee),
            "weekly": list(hours.weekly)}


async def set_hours(uow: UnitOfWork, actor: Actor, physician_id: uuid.UUID | None,
                    time_zone: str, slot_minutes: int, fee: Decimal,
                    windows: list[Window]) -> dict[str, Any]:
    """Set (or replace) a physician's weekly hours; booked appointments stay as they are."""
    physician_id = physician_of(actor, physician_id)
    async with uow:
        if await uow.users.physician(physician_id) is None:
            raise NotFound("no such physician")
        hours = await uow.appointments.availability(physician_id)
        before = None if hours is None else describe(hours)
        if hours is None:
            hours = Availability(id=physician_id)
            uow.appointments.add(hours)
        hours.change(time_zone=time_zone, slot_minutes=slot_minutes, fee=fee, windows=windows,
                     now=uow.clock())
        after = describe(hours)
        uow.record(actor, "availability_set", ENTITY, physician_id,
                   old=None if before is None else _audited(before), new=_audited(after))
        await uow.commit()
        return after


def _audited(hours: dict[str, Any]) -> dict[str, Any]:
    # The fee is plain (an amount); the zone and hours are kept as a keyed hash.
    return {"physician_id": hours["physician_id"], "amount": hours["fee"],
            "hours": {k: hours[k] for k in ("time_zone", "slot_minutes", "weekly")}}


async def hours_of(uow: UnitOfWork, physician_id: uuid.UUID) -> dict[str, Any]:
    """A physician's public profile and weekly hours."""
    async with uow:
        found = await uow.appointments.bookable(physician_id)
        if not found:
            raise NotFound("no such physician taking appointments")
        hours, user, profile = found[0]
        return {**describe(hours), "physician": describe_physician(user, profile)}


async def physicians(uow: UnitOfWork) -> list[dict[str, Any]]:
    """Every physician taking appointments, with their fee and zone."""
    async with uow:
        return [{**describe(hours), "physician": describe_physician(user, profile)}
                for hours, user, profile in await uow.appointments.bookable()]


def describe_leave(item: Leave) -> dict[str, Any]:
    """Leave as JSON."""
    return {"id": str(item.id), "physician_id": str(item.physician_id),
            "starts_at": item.starts_at.isoformat(), "ends_at": item.ends_at.isoformat()}


async def add_leave(uow: UnitOfWork, actor: Actor, physician_id: uuid.UUID | None,
                    starts_at: datetime, ends_at: datetime) -> dict[str, Any]:
    """Time away: no slots are offered in it (bookings already in it are left to cancel)."""
    physician_id = physician_of(actor, physician_id)
    if ends_at <= starts_at:
        raise ValidationFailed.field("ends_at", "must be after starts_at")
    async with uow:
        if await uow.users.physician(physician_id) is None:
            raise NotFound("no such physician")
        item = Leave(physician_id=physician_id, starts_at=starts_at, ends_at=ends_at,
                     created_at=uow.clock())
        uow.appointments.add(item)
        uow.record(actor, "leave_added", "physician_leave", item.id,
                   new={"physician_id": str(physician_id)})
        booked = [str(a.id) for a in await uow.appointments.of_physician(
            physician_id, starts_at, ends_at) if a.active]
        await uow.commit()
        # Bookings already in the leave are not moved: the physician (or support) reschedules
        # or cancels each, and the patient is refunded in full.
        return {**describe_leave(item), "booked_in_leave": booked}


async def remove_leave(uow: UnitOfWork, actor: Actor, leave_id: uuid.UUID) -> None:
    """Back at work: the leave's slots are offered again."""
    async with uow:
        item = await uow.appointments.leave_item(leave_id)
        if item is None or (actor.role == Role.PHYSICIAN.value
                            and item.physician_id != actor.user_id):
            raise NotFound("no such leave")
        await uow.appointments.delete(item)
        uow.record(actor, "leave_removed", "physician_leave", item.id,
                   old={"physician_id": str(item.physician_id)})
        await uow.commit()


async def leave_of(uow: UnitOfWork, actor: Actor, physician_id: uuid.UUID | None,
                   start: datetime, end: datetime) -> list[dict[str, Any]]:
    """A physician's leave touching ``[start, end)``."""
    physician_id = physician_of(actor, physician_id)
    async with uow:
        return [describe_leave(item)
                for item in await uow.appointments.leave([physician_id], start, end)]
