"""Lab tests, collection slots and bookings."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ..domain.labs import LabBooking, LabSlot, LabTest
from ..tables.commerce import lab_bookings, lab_catalog, lab_slots, merchants


class LabRepository:
    """The test catalogue, slots and bookings."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, item: LabTest | LabSlot | LabBooking) -> None:
        """Stage a new test, slot or booking."""
        self.session.add(item)

    async def test(self, code: str) -> LabTest | None:
        """A catalogue test by code."""
        return await self.session.get(LabTest, code)

    async def tests(self, codes: Sequence[str] | None = None) -> Sequence[LabTest]:
        """Catalogue tests by name (all, or those with these codes)."""
        query = select(LabTest).order_by(lab_catalog.c.name)
        if codes is not None:
            query = query.where(lab_catalog.c.code.in_(list(codes)))
        return (await self.session.scalars(query)).all()

    async def slot(self, slot_id: uuid.UUID, *, lock: bool = False) -> LabSlot | None:
        """A slot; ``lock`` holds it until commit and reads it afresh."""
        return await self.session.get(LabSlot, slot_id, with_for_update=lock or None,
                                      populate_existing=lock)

    async def open_slots(self, pin_code: str, after: datetime, limit: int = 100
                         ) -> list[tuple[LabSlot, str]]:
        """Slots with room at a PIN code starting after ``after``, with their lab's name."""
        rows = (await self.session.execute(
            select(LabSlot, merchants.c.name)
            .join(merchants, merchants.c.id == lab_slots.c.merchant_id)
            .where(lab_slots.c.pin_code == pin_code, lab_slots.c.starts_at > after,
                   lab_slots.c.booked < lab_slots.c.capacity)
            .order_by(lab_slots.c.starts_at, lab_slots.c.id).limit(limit))).all()
        return [(slot, name) for slot, name in rows]

    async def booking(self, booking_id: uuid.UUID, *, lock: bool = False) -> LabBooking | None:
        """A booking; ``lock`` holds it until commit and reads it afresh."""
        return await self.session.get(LabBooking, booking_id, with_for_update=lock or None,
                                      populate_existing=lock)

    async def bookings_of(self, patient_id: uuid.UUID, limit: int = 50, offset: int = 0
                          ) -> list[tuple[LabBooking, datetime, str]]:
        """A patient's bookings, newest first, with their slot's start and their lab's name."""
        rows = (await self.session.execute(
            select(LabBooking, lab_slots.c.starts_at, merchants.c.name)
            .join(lab_slots, lab_slots.c.id == lab_bookings.c.slot_id)
            .join(merchants, merchants.c.id == lab_bookings.c.merchant_id)
            .where(lab_bookings.c.patient_id == patient_id)
            .order_by(lab_bookings.c.created_at.desc(), lab_bookings.c.id)
            .limit(limit).offset(offset))).all()
        return [(booking, starts_at, name) for booking, starts_at, name in rows]

    async def placement(self, slot_id: uuid.UUID) -> tuple[datetime, str] | None:
        """A slot's start and its lab's name."""
        row = (await self.session.execute(
            select(lab_slots.c.starts_at, merchants.c.name)
            .join(merchants, merchants.c.id == lab_slots.c.merchant_id)
            .where(lab_slots.c.id == slot_id))).first()
        return None if row is None else (row.starts_at, row.name)
