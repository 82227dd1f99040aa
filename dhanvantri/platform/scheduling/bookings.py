"""Booking a physician's slot, rescheduling, cancelling with the policy's refund, no-shows.

Two patients booking one slot at once: both pass every check, both insert, and the partial
unique index lets exactly one row stand; the other's flush fails and is answered 409
``SLOT_TAKEN`` (``_claim``). Whether the slot itself is free is never read and then written on;
the one lookup is for a booking across it at another start time, which only a change of the
physician's hours can leave behind.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError

from ...http.errors import Conflict, NotFound, ValidationFailed
from ...http.principal import Role
from ..commerce.payments import Cashier, Purpose
from ..domain.appointments import (
    Appointment,
    AppointmentSource,
    AppointmentStatus,
    CancellationPolicy,
    Slot,
    visit_state,
)
from ..domain.audit import SYSTEM, Actor
from ..domain.money import text
from ..domain.payments import Payment
from ..sharing.access import ensure_family, level_over
from ..sharing.domain import Action, permits
from ..uow import UnitOfWork
from .slots import slot_at

ENTITY = "appointment"
log = logging.getLogger(__name__)
CLINIC_ROLES = frozenset({Role.PHYSICIAN.value, Role.ADMIN.value, Role.SUPPORT.value})


class SlotTaken(Conflict):
    """Someone else holds the slot."""

    code = "SLOT_TAKEN"

    def __init__(self) -> None:
        super().__init__("this slot has just been booked; choose another",
                         details=[{"field": "starts_at", "message": "already booked"}])


def describe(appointment: Appointment) -> dict[str, Any]:
    """An appointment as JSON (UTC instants; money as strings)."""
    return {"id": str(appointment.id), "status": appointment.status.value,
            "patient_id": str(appointment.patient_id),
            "physician_id": str(appointment.physician_id),
            "starts_at": appointment.starts_at.isoformat(),
            "ends_at": appointment.ends_at.isoformat(), "source": appointment.source.value,
            "consultation_id": str(appointment.consultation_id)
            if appointment.consultation_id else None,
            "fee": text(appointment.fee), "paid": appointment.paid,
            "payment_id": str(appointment.payment_id) if appointment.payment_id else None,
            "refunded": text(appointment.refunded), "reschedules": appointment.reschedules}


def _audit(uow: UnitOfWork, actor: Actor, appointment: Appointment, action: str,
           before: dict[str, Any] | None, **extra: Any) -> None:
    uow.record(actor, action, ENTITY, appointment.id, old=before,
               new={**_state(appointment), **extra})


def _state(appointment: Appointment) -> dict[str, Any]:
    # Status, ids and money stay readable; the time is kept as a keyed hash (audit.py).
    return {"status": appointment.status.value, "physician_id": str(appointment.physician_id),
            "starts_at": appointment.starts_at.isoformat(), "amount": text(appointment.fee)}


async def _claim(uow: UnitOfWork) -> None:
    """Write the booking now: the unique index decides who holds the slot."""
    try:
        await uow.flush()
    except IntegrityError as exc:
        if "uq_appointments_physician_slot" in str(exc) or (
                "appointments.physician_id, appointments.starts_at" in str(exc)):
            raise SlotTaken() from None
        raise


async def _patient_for(uow: UnitOfWork, actor: Actor, patient_id: uuid.UUID | None
                       ) -> uuid.UUID:
    """A patient books for themself, or for a dependent of a family they manage (the family
    access check, audited); a physician, admin or support for a named patient."""
    assert actor.user_id is not None
    if actor.role == Role.PATIENT.value:
        if patient_id in (None, actor.user_id):
            return actor.user_id
        await ensure_family(uow, actor, patient_id, Action.START_CONSULTATION)
        return patient_id
    if patient_id is None:
        raise ValidationFailed.field("patient_id", "required when booking for a patient")
    user = await uow.users.get(patient_id)
    if user is None or user.role != Role.PATIENT:
        raise ValidationFailed.field("patient_id", "no such patient")
    return patient_id


async def _bookable_slot(uow: UnitOfWork, physician_id: uuid.UUID, starts_at: datetime,
                         horizon_days: int, moving: Appointment | None = None
                         ) -> tuple[Slot, Any]:
    now = uow.clock()
    if starts_at <= now:
        raise ValidationFailed.field("starts_at", "must be in the future")
    if starts_at > now + timedelta(days=horizon_days):
        raise ValidationFailed.field("starts_at", f"at most {horizon_days} days ahead")
    found = await uow.appointments.bookable(physician_id)
    if not found:
        raise ValidationFailed.field("physician_id", "not taking appointments")
    hours = found[0][0]
    slot = await slot_at(uow, hours, starts_at)
    # Hours changed since another booking was made can leave it across this slot at another
    # start time; the unique index covers equal starts, this covers the rest.
    taken = await uow.appointments.taken([physician_id], slot.starts_at, slot.ends_at)
    own = (moving.starts_at, moving.ends_at) if moving is not None else None
    if any(start != slot.starts_at and (start, end) != own
           for start, end in taken.get(physician_id, [])):
        raise SlotTaken()
    return slot, hours


async def book(uow: UnitOfWork, actor: Actor, physician_id: uuid.UUID, starts_at: datetime,
               *, source: AppointmentSource = AppointmentSource.DIRECT,
               consultation_id: uuid.UUID | None = None, patient_id: uuid.UUID | None = None,
               horizon_days: int = 60) -> dict[str, Any]:
    """Book one of a physician's free slots; 409 ``SLOT_TAKEN`` when someone holds it."""
    async with uow:
        consultation = None
        if consultation_id is not None:
            consultation = await uow.consultations.get(consultation_id)
            if consultation is None:
                raise ValidationFailed.field("consultation_id", "no such consultation")
            # The intake's patient is who is booked for (a dependent's, by their manager).
            patient_id = patient_id or consultation.patient_id
        patient = await _patient_for(uow, actor, patient_id)
        if consultation is not None and consultation.patient_id != patient:
            raise ValidationFailed.field("consultation_id", "no such consultation")
        if actor.role == Role.PHYSICIAN.value and physician_id != actor.user_id:
            raise ValidationFailed.field("physician_id", "a physician books in their own hours")
        slot, hours = await _bookable_slot(uow, physician_id, starts_at, horizon_days)
        appointment = Appointment.book(patient_id=patient, slot=slot, fee=hours.fee,
                                       source=source, consultation_id=consultation_id,
                                       booked_by=actor.user_id, now=uow.clock())
        uow.appointments.add(appointment)
        await _claim(uow)
        _audit(uow, actor, appointment, "appointment_booked", None, source=source.value)
        await uow.commit()
        log.info("appointment booked id=%s physician=%s source=%s", appointment.id,
                 physician_id, source.value)
        return describe(appointment)


async def load(uow: UnitOfWork, actor: Actor, appointment_id: uuid.UUID, *,
               lock: bool = False) -> Appointment:
    """An appointment the actor may see: their own (patient or physician), or any for staff."""
    appointment = await uow.appointments.get(appointment_id, lock=lock)
    if appointment is None or (
            actor.role == Role.PHYSICIAN.value and appointment.physician_id != actor.user_id):
        raise NotFound("no such appointment")
    if actor.role == Role.PATIENT.value and appointment.patient_id != actor.user_id:
        # A family manager sees and changes a dependent's appointments as they book them.
        assert actor.user_id is not None
        level = await level_over(uow, actor.user_id, appointment.patient_id)
        if not permits(level, Action.START_CONSULTATION):
            raise NotFound("no such appointment")
    return appointment


async def reschedule(uow: UnitOfWork, actor: Actor, appointment_id: uuid.UUID,
                     starts_at: datetime, horizon_days: int = 60) -> dict[str, Any]:
    """Move a booked appointment to another free slot of the same physician."""
    async with uow:
        appointment = await load(uow, actor, appointment_id, lock=True)
        before = _state(appointment)
        slot, _ = await _bookable_slot(uow, appointment.physician_id, starts_at, horizon_days,
                                       moving=appointment)
        appointment.reschedule(slot, uow.clock())
        await _claim(uow)
        _audit(uow, actor, appointment, "appointment_rescheduled", before)
        await uow.commit()
        return describe(appointment)


async def cancel(uow: UnitOfWork, cashier: Cashier, policy: CancellationPolicy, actor: Actor,
                 appointment_id: uuid.UUID) -> dict[str, Any]:
    """Cancel before the start; a paid fee goes back to where it came from, per the policy."""
    async with uow:
        appointment = await load(uow, actor, appointment_id, lock=True)
        before, now = _state(appointment), uow.clock()
        appointment.cancel(now)
        amount = policy.refund(appointment.fee, appointment.starts_at, now,
                               by_physician=actor.role in CLINIC_ROLES)
        _audit(uow, actor, appointment, "appointment_cancelled", before,
               refunded=text(amount if appointment.paid else appointment.refunded))
        if appointment.paid and amount > 0:
            payment = await uow.payments.get(appointment.payment_id,  # type: ignore[arg-type]
                                             lock=True)
            if payment is None:
                raise NotFound("no such payment")
            await cashier.refund(uow, actor, payment, amount, "source", "appointment cancelled")
            appointment.note_refunded(payment.refunded, now)
        await uow.commit()
        return describe(appointment)


async def no_show(uow: UnitOfWork, actor: Actor, appointment_id: uuid.UUID) -> dict[str, Any]:
    """The patient did not come (the physician says so once the time has begun)."""
    return await _end(uow, actor, appointment_id, "appointment_no_show",
                      lambda a, now: a.no_show(now))


async def complete(uow: UnitOfWork, actor: Actor, appointment_id: uuid.UUID) -> dict[str, Any]:
    """The visit took place."""
    return await _end(uow, actor, appointment_id, "appointment_completed",
                      lambda a, now: a.complete(now))


async def _end(uow: UnitOfWork, actor: Actor, appointment_id: uuid.UUID, action: str,
               change: Any) -> dict[str, Any]:
    async with uow:
        appointment = await load(uow, actor, appointment_id, lock=True)
        before = _state(appointment)
        change(appointment, uow.clock())
        _audit(uow, actor, appointment, action, before)
        await uow.commit()
        return describe(appointment)


async def expire_unpaid(uow: UnitOfWork, hold: timedelta) -> int:
    """Give back the slots of bookings whose fee went unpaid for ``hold``; returns how many.

    A checkout still under way when its booking expires is refunded at capture, as for any
    appointment no longer booked (``_captured``).
    """
    async with uow:
        now = uow.clock()
        found = await uow.appointments.unpaid_since(now - hold)
        for appointment in found:
            locked = await uow.appointments.get(appointment.id, lock=True)
            if locked is None or locked.status != AppointmentStatus.BOOKED or locked.paid:
                continue  # paid or cancelled meanwhile
            before = _state(locked)
            locked.expire(now)
            _audit(uow, SYSTEM, locked, "appointment_expired", before)
        await uow.commit()
        return len(found)


async def pay(uow: UnitOfWork, cashier: Cashier, actor: Actor, appointment_id: uuid.UUID,
              method: str) -> tuple[int, dict[str, Any]]:
    """Start paying the fee (inside the idempotency wrapper's unit of work)."""
    appointment = await load(uow, actor, appointment_id, lock=True)
    appointment.ensure_payable()
    result = await cashier.start(uow, actor, ENTITY, appointment.id, appointment.fee, method)
    appointment.await_payment(uuid.UUID(result["payment"]["id"]))
    result["appointment"] = describe(appointment)
    return 201, result


async def _captured(uow: UnitOfWork, payment: Payment, actor: Actor) -> bool:
    """The fee arrived; an appointment no longer booked (cancelled meanwhile) gets it back."""
    appointment = await uow.appointments.get(payment.reference_id,  # type: ignore[arg-type]
                                             lock=True)
    assert appointment is not None
    if appointment.status != AppointmentStatus.BOOKED or appointment.paid:
        return False
    before = _state(appointment)
    appointment.pay(payment.id, uow.clock())
    _audit(uow, actor, appointment, "appointment_paid", before, payment_id=str(payment.id))
    return True


async def _refunded(uow: UnitOfWork, payment: Payment, actor: Actor) -> None:
    """All of the fee went back (support refunded it): a booked appointment is cancelled."""
    appointment = await uow.appointments.get(payment.reference_id,  # type: ignore[arg-type]
                                             lock=True)
    assert appointment is not None
    appointment.note_refunded(payment.refunded, uow.clock())
    if appointment.active:
        before = _state(appointment)
        appointment.withdraw(uow.clock())
        _audit(uow, actor, appointment, "appointment_cancelled", before,
               refunded=text(payment.refunded))


async def _refundable(uow: UnitOfWork, payment: Payment, actor: Actor) -> None:
    """A fee can always be refunded: physicians are not yet paid out per visit."""


PURPOSE = Purpose(_captured, _refunded, _refundable)


async def mine(uow: UnitOfWork, actor: Actor, limit: int = 50, offset: int = 0
               ) -> list[dict[str, Any]]:
    """The patient's own appointments (and their dependents' they booked), latest first."""
    assert actor.user_id is not None
    async with uow:
        found = await uow.appointments.of_patient(actor.user_id, limit, offset)
        people = await uow.appointments.people([i for a in found
                                                for i in (a.physician_id, a.patient_id)])
        # A dependent's appointment (booked by this family manager) says whose it is.
        now = uow.clock()
        return [describe(a) | {"visit": visit_state(a, now),
                               "physician_name": _name(people, a.physician_id),
                               "patient_name": _name(people, a.patient_id)
                               if a.patient_id != actor.user_id else None} for a in found]


async def calendar(uow: UnitOfWork, actor: Actor, physician_id: uuid.UUID | None,
                   start: datetime, end: datetime) -> list[dict[str, Any]]:
    """A physician's appointments in ``[start, end)`` in time order, with patients' names."""
    if actor.role == Role.PHYSICIAN.value:
        physician_id = actor.user_id
    if physician_id is None:
        raise ValidationFailed.field("physician_id", "required")
    async with uow:
        found = await uow.appointments.of_physician(physician_id, start, end)
        people = await uow.appointments.people([a.patient_id for a in found])
        now = uow.clock()
        return [describe(a) | {"patient_name": _name(people, a.patient_id),
                               "visit": visit_state(a, now)} for a in found]


def _name(people: dict[uuid.UUID, Any], user_id: uuid.UUID) -> str:
    user = people.get(user_id)
    return user.full_name if user is not None else ""


async def view(uow: UnitOfWork, actor: Actor, appointment_id: uuid.UUID,
               policy: CancellationPolicy, hold: timedelta) -> dict[str, Any]:
    """One appointment, with the cancellation policy that applies to it and, while its fee is
    owed, when the slot is given up unless paid (``expire_unpaid``)."""
    async with uow:
        appointment = await load(uow, actor, appointment_id)
        people = await uow.appointments.people([appointment.patient_id,
                                                appointment.physician_id])
        return describe(appointment) | {
            "visit": visit_state(appointment, uow.clock()),
            "physician_name": _name(people, appointment.physician_id),
            "patient_name": _name(people, appointment.patient_id),
            "cancellation_policy": {"full_refund_hours": policy.full_refund_hours,
                                    "late_refund_percent": str(policy.late_refund_percent)},
            "pay_by": (appointment.created_at + hold).isoformat()
            if appointment.active and not appointment.paid and appointment.fee > 0
            and appointment.created_at else None}
