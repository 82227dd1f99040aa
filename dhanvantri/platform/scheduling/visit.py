"""The video visit at an appointment's time: when it opens, and who may join it.

The visit opens ``VISIT_EARLY`` (ten minutes, ``domain/appointments.py``) before the slot (the
patient settles in the waiting room) and closes at the slot's end. The patient joins (or the family
manager who booked it for a dependent: the family access check of :func:`bookings.load`), and
the booked physician; nobody else learns that the appointment exists. Joining is audited; the
appointment's state changes only when the physician ends the visit (``finish``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ...http.errors import Conflict, Forbidden
from ...http.principal import Role
from ..domain.appointments import Appointment, AppointmentStatus, visit_window
from ..domain.audit import Actor
from ..uow import UnitOfWork
from . import bookings

JOINERS = frozenset({Role.PATIENT.value, Role.PHYSICIAN.value})


@dataclass(frozen=True)
class VisitPass:
    """Leave to join one appointment's visit now."""

    appointment_id: uuid.UUID
    patient_id: uuid.UUID
    physician_id: uuid.UUID


def ensure_open(appointment: Appointment, now: datetime) -> None:
    """A booked appointment inside its window (409 naming the window otherwise)."""
    if appointment.status != AppointmentStatus.BOOKED:
        raise Conflict(f"this appointment is {appointment.status}", code="INVALID_STATE")
    opens, closes = visit_window(appointment)
    details = {"opens_at": opens.isoformat(), "closes_at": closes.isoformat()}
    if now < opens:
        raise Conflict("the visit has not opened yet", code="VISIT_NOT_OPEN", details=details)
    if now >= closes:
        raise Conflict("the time of this visit has passed", code="VISIT_CLOSED",
                       details=details)


async def admit(uow: UnitOfWork, actor: Actor, appointment_id: uuid.UUID, *,
                audit: bool = True) -> VisitPass:
    """Let the patient (or their family manager) or the booked physician join now.

    Audited (``appointment_visit_joined``) unless ``audit`` is off: the physician's join is
    audited where it happens, on the call's escalation (``escalation_joined``).

    Raises:
        NotFound: not an appointment this actor may see (another patient's or physician's).
        Forbidden: staff who are neither side of the visit.
        Conflict: not booked (``INVALID_STATE``), too early (``VISIT_NOT_OPEN``), or over
            (``VISIT_CLOSED``).
    """
    async with uow:
        appointment = await bookings.load(uow, actor, appointment_id)
        if actor.role not in JOINERS:
            raise Forbidden("only the patient and the booked physician join a visit")
        ensure_open(appointment, uow.clock())
        if audit:
            uow.record(actor, "appointment_visit_joined", bookings.ENTITY, appointment.id,
                       new={"status": appointment.status.value, "role": actor.role})
            await uow.commit()
        return VisitPass(appointment.id, appointment.patient_id, appointment.physician_id)


async def finish(uow: UnitOfWork, actor: Actor, appointment_id: uuid.UUID) -> dict[str, Any]:
    """The physician ended the visit: the appointment is completed (audited by ``complete``).

    Ending is allowed past the slot's end (a visit may overrun), not before the window opens.
    """
    async with uow:
        appointment = await bookings.load(uow, actor, appointment_id)
        opens, _ = visit_window(appointment)
        if uow.clock() < opens:
            raise Conflict("the visit has not opened yet", code="VISIT_NOT_OPEN",
                           details={"opens_at": opens.isoformat()})
    return await bookings.complete(uow, actor, appointment_id)
