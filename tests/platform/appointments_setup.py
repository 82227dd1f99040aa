"""Shared set-up for appointment tests: a physician with weekly hours, patients in bulk."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from aiohttp.test_utils import TestClient

from dhanvantri.http.principal import Role
from dhanvantri.platform.bootstrap import Services
from dhanvantri.platform.clock import ManualClock
from dhanvantri.platform.domain.accounts import User

from .commerce_setup import call
from .helpers import Person, make_staff

# A Wednesday late in October 2026: slots run over the month's end into November.
START = datetime(2026, 10, 28, 0, 0, tzinfo=UTC)
EVERY_DAY = [{"weekday": day, "start": "09:00", "end": "13:00"} for day in range(7)]


async def physician(client: TestClient, services: Services, *, zone: str = "Asia/Kolkata",
                    weekly: list[dict[str, Any]] | None = None, minutes: int = 30,
                    fee: str = "300.00", specialty: str = "General Medicine") -> Person:
    """A physician who has set weekly hours through the API."""
    doctor = await make_staff(client, services, Role.PHYSICIAN, specialty=specialty)
    await call(client, "PUT", "/availability", doctor, json={
        "time_zone": zone, "slot_minutes": minutes, "fee": fee,
        "weekly": EVERY_DAY if weekly is None else weekly})
    return doctor


async def patients(services: Services, count: int) -> list[Person]:
    """``count`` patient accounts written directly, each with a token (signing in by OTP is
    limited per address, and what is tested here is booking)."""
    people = []
    async with services.uow() as uow:
        for i in range(count):
            user = User(role=Role.PATIENT, full_name=f"Patient {i}")
            user.touch(uow.clock())
            uow.users.add(user)
            people.append(user.id)
        await uow.commit()
    return [Person(user_id, Role.PATIENT, services.tokens.access_token(user_id, Role.PATIENT), "")
            for user_id in people]


def refresh(services: Services, *people: Person) -> None:
    """New access tokens after the clock moved past the old ones' expiry."""
    for person in people:
        person.access = services.tokens.access_token(person.user_id, person.role)


def at(clock: ManualClock, when: datetime = START) -> None:
    """Set the clock (before anyone signs in: tokens follow it)."""
    clock.now = when


def iso(when: datetime) -> str:
    """A UTC instant as the API writes it."""
    return when.isoformat()


def uid(value: str) -> uuid.UUID:
    """A UUID from JSON."""
    return uuid.UUID(value)
