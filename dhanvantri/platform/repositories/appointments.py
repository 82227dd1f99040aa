"""Physicians' hours and leave, and appointments."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ...http.principal import Role
from ..domain.accounts import PhysicianProfile, User
from ..domain.appointments import Appointment, AppointmentStatus, Availability, Leave
from ..tables.accounts import physicians, users
from ..tables.scheduling import appointments, physician_availability, physician_leave


class AppointmentRepository:
    """Availability, leave and bookings; reads by physician and time."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, item: Availability | Leave | Appointment) -> None:
        """Stage new hours, leave or a booking."""
        self.session.add(item)

    async def availability(self, physician_id: uuid.UUID) -> Availability | None:
        """A physician's weekly hours."""
        return await self.session.get(Availability, physician_id)

    async def bookable(self, physician_id: uuid.UUID | None = None
                       ) -> list[tuple[Availability, User, PhysicianProfile]]:
        """Hours of active physicians (one, or all) with their account and registration."""
        query = (select(Availability, User, PhysicianProfile)
                 .join(users, users.c.id == physician_availability.c.id)
                 .join(physicians, physicians.c.id == physician_availability.c.id)
                 .where(users.c.is_active.is_(True), users.c.deleted_at.is_(None))
                 .order_by(physician_availability.c.id))
        if physician_id is not None:
            query = query.where(physician_availability.c.id == physician_id)
        return [(a, u, p) for a, u, p in (await self.session.execute(query)).all()]

    async def leave(self, physician_ids: Sequence[uuid.UUID], start: datetime, end: datetime
                    ) -> list[Leave]:
        """Leave of these physicians touching ``[start, end)``."""
        query = (select(Leave).where(physician_leave.c.physician_id.in_(list(physician_ids)),
                                     physician_leave.c.starts_at < end,
                                     physician_leave.c.ends_at > start)
                 .order_by(physician_leave.c.starts_at))
        return list((await self.session.scalars(query)).all())

    async def leave_item(self, leave_id: uuid.UUID) -> Leave | None:
        """One stretch of leave."""
        return await self.session.get(Leave, leave_id)

    async def delete(self, item: Leave) -> None:
        """Remove leave (it holds no history: the audit trail keeps what it was)."""
        await self.session.delete(item)

    async def taken(self, physician_ids: Sequence[uuid.UUID], start: datetime, end: datetime
                    ) -> dict[uuid.UUID, list[tuple[datetime, datetime]]]:
        """Booked intervals touching ``[start, end)`` per physician."""
        rows = (await self.session.execute(
            select(appointments.c.physician_id, appointments.c.starts_at,
                   appointments.c.ends_at)
            .where(appointments.c.physician_id.in_(list(physician_ids)),
                   appointments.c.status == AppointmentStatus.BOOKED.value,
                   appointments.c.starts_at < end, appointments.c.ends_at > start))).all()
        found: dict[uuid.UUID, list[tuple[datetime, datetime]]] = {}
        for physician_id, starts_at, ends_at in rows:
            found.setdefault(physician_id, []).append((starts_at, ends_at))
        return found

    async def get(self, appointment_id: uuid.UUID, *, lock: bool = False) -> Appointment | None:
        """A booking; ``lock`` holds it until commit and reads it afresh."""
        return await self.session.get(Appointment, appointment_id,
                                      with_for_update=lock or None, populate_existing=lock)

    async def of_patient(self, patient_id: uuid.UUID, limit: int, offset: int
                         ) -> list[Appointment]:
        """A patient's bookings, and those they made for a dependent, latest start first."""
        return list((await self.session.scalars(
            select(Appointment).where(or_(appointments.c.patient_id == patient_id,
                                          appointments.c.booked_by == patient_id))
            .order_by(appointments.c.starts_at.desc(), appointments.c.id)
            .limit(limit).offset(offset))).all())

    async def of_physician(self, physician_id: uuid.UUID, start: datetime, end: datetime
                           ) -> list[Appointment]:
        """A physician's bookings starting in ``[start, end)``, in time order."""
        return list((await self.session.scalars(
            select(Appointment).where(appointments.c.physician_id == physician_id,
                                      appointments.c.starts_at >= start,
                                      appointments.c.starts_at < end)
            .order_by(appointments.c.starts_at, appointments.c.id))).all())

    async def starting(self, start: datetime, end: datetime, limit: int = 500
                       ) -> list[Appointment]:
        """Booked appointments starting in ``[start, end)`` (the reminder sweep)."""
        return list((await self.session.scalars(
            select(Appointment).where(appointments.c.status == AppointmentStatus.BOOKED.value,
                                      appointments.c.starts_at >= start,
                                      appointments.c.starts_at < end)
            .order_by(appointments.c.starts_at, appointments.c.id).limit(limit))).all())

    async def people(self, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, User]:
        """Accounts by id (names for the calendar, phones for reminders)."""
        if not ids:
            return {}
        found = await self.session.scalars(select(User).where(users.c.id.in_(list(set(ids)))))
        return {user.id: user for user in found}

    async def claim_reminder(self, appointment_id: uuid.UUID, sent: int, now: datetime
                             ) -> bool:
        """Move a booked appointment's reminder count from what was read to ``sent``; False when
        another process (or a reschedule) changed it first. A compare-and-set, so two servers
        sweeping at once send each reminder once."""
        result = await self.session.execute(
            update(appointments)
            .where(appointments.c.id == appointment_id,
                   appointments.c.status == AppointmentStatus.BOOKED.value,
                   appointments.c.reminders_sent < sent)
            .values(reminders_sent=sent, updated_at=now)
            .execution_options(synchronize_session=False))
        return bool(getattr(result, "rowcount", 0) == 1)

    async def release_reminder(self, appointment_id: uuid.UUID, sent: int, before: int) -> None:
        """Undo a claim whose message could not be sent (the next sweep tries again)."""
        await self.session.execute(
            update(appointments)
            .where(appointments.c.id == appointment_id, appointments.c.reminders_sent == sent)
            .values(reminders_sent=before).execution_options(synchronize_session=False))

    async def unpaid_since(self, cutoff: datetime, limit: int = 500) -> list[Appointment]:
        """Booked appointments with a fee, booked by a patient (for themself or a dependent)
        before ``cutoff`` and still unpaid. Staff bookings (a follow-up) are never held to it."""
        return list((await self.session.scalars(
            select(Appointment)
            .join(users, users.c.id == appointments.c.booked_by)
            .where(appointments.c.status == AppointmentStatus.BOOKED.value,
                   appointments.c.paid_at.is_(None), appointments.c.fee > 0,
                   appointments.c.created_at < cutoff, users.c.role == Role.PATIENT.value)
            .order_by(appointments.c.created_at, appointments.c.id).limit(limit))).all())
