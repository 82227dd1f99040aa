"""Lab tests at home: collection slots by PIN code, booking, payment, report, results.

The catalogue and result flags are in ``lab_tests.py``. The lab is paid (less commission) when it
uploads the report, the point at which the service is delivered.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from ...http.errors import NotFound, ValidationFailed
from ...http.principal import Role
from ..domain.audit import Actor
from ..domain.catalog import MerchantKind
from ..domain.labs import BookingStatus, LabBooking, LabSlot
from ..domain.money import text
from ..domain.payments import Payment
from ..uow import UnitOfWork
from .lab_tests import flag_results
from .payments import Cashier, Purpose
from .pharmacy import merchant_of, released_prescription
from .settlement import pay_merchant

ENTITY = "lab_booking"
MAX_PDF = 360 * 1024


async def add_slot(uow: UnitOfWork, actor: Actor, lab_id: uuid.UUID, pin_code: str,
                   starts_at: datetime, capacity: int) -> dict[str, Any]:
    """A home-collection slot of a lab for one PIN code it serves."""
    async with uow:
        lab = await merchant_of(uow, actor, lab_id, MerchantKind.LAB)
        if not lab.serves(pin_code):
            raise ValidationFailed.field("pin_code", "the lab does not serve this PIN code")
        slot = LabSlot(merchant_id=lab_id, pin_code=pin_code, starts_at=starts_at,
                       capacity=capacity)
        uow.labs.add(slot)
        uow.record(actor, "lab_slot_added", "merchant", lab_id,
                   new={"slot_id": str(slot.id), "capacity": capacity})
        await uow.commit()
        return {"id": str(slot.id), "lab_id": str(lab_id), "pin_code": pin_code,
                "starts_at": starts_at.isoformat(), "capacity": capacity, "booked": 0}


async def slots(uow: UnitOfWork, pin_code: str) -> list[dict[str, Any]]:
    """Future slots with room at ``pin_code``."""
    async with uow:
        return [{"id": str(slot.id), "lab_id": str(slot.merchant_id), "lab": name,
                 "starts_at": slot.starts_at.isoformat(), "free": slot.free}
                for slot, name in await uow.labs.open_slots(pin_code, uow.clock())]


async def load(uow: UnitOfWork, actor: Actor, booking_id: uuid.UUID, *, lock: bool = False
               ) -> LabBooking:
    """A booking the actor may see (own patient, own lab, or admin/support)."""
    booking = await uow.labs.booking(booking_id, lock=lock)
    if booking is None or (actor.role == Role.PATIENT.value
                           and booking.patient_id != actor.user_id):
        raise NotFound("no such booking")
    if actor.role == Role.LAB.value:
        await merchant_of(uow, actor, booking.merchant_id, MerchantKind.LAB)
    return booking


def describe(booking: LabBooking, placed: tuple[datetime, str] | None = None
             ) -> dict[str, Any]:
    """A booking with its tests and flagged results (the PDF is fetched separately); with
    ``placed`` (the slot's start and the lab's name), also when, where and by whom."""
    body = {"id": str(booking.id), "status": booking.status.value,
            "lab_id": str(booking.merchant_id), "slot_id": str(booking.slot_id),
            "tests": booking.tests, "total": text(booking.total),
            "payment_id": str(booking.payment_id) if booking.payment_id else None,
            "report": {"sha256": booking.report_sha256} if booking.report_sha256 else None,
            "results": booking.results or []}
    if placed is not None:
        starts_at, lab = placed
        body |= {"starts_at": starts_at.isoformat(), "lab": lab, "address": booking.address,
                 "prescription_id": str(booking.prescription_id)
                 if booking.prescription_id else None,
                 "created_at": booking.created_at.isoformat() if booking.created_at else None}
    return body


def _audit(uow: UnitOfWork, actor: Actor, booking: LabBooking, action: str,
           before: BookingStatus) -> None:
    uow.record(actor, action, ENTITY, booking.id, old={"status": before.value},
               new={"status": booking.status.value})


async def book(uow: UnitOfWork, actor: Actor, slot_id: uuid.UUID, tests: list[str],
               address: str, prescription_id: uuid.UUID | None) -> dict[str, Any]:
    """Book tests in a slot; the slot is held when the booking is paid."""
    assert actor.user_id is not None
    async with uow:
        if prescription_id is not None:
            await released_prescription(uow, actor.user_id, prescription_id)
        slot = await uow.labs.slot(slot_id)
        if slot is None or slot.starts_at <= uow.clock():
            raise ValidationFailed.field("slot_id", "unknown or past slot")
        found = await uow.labs.tests(tests)
        if len(found) != len(set(tests)):
            raise ValidationFailed.field("tests", "unknown test code")
        booking = LabBooking.book(patient_id=actor.user_id, slot=slot, tests=list(found),
                                  address=address, prescription_id=prescription_id,
                                  now=uow.clock())
        uow.labs.add(booking)
        uow.record(actor, "lab_booked", ENTITY, booking.id,
                   new={"status": "placed", "total": text(booking.total)})
        await uow.commit()
        return describe(booking)


async def pay(uow: UnitOfWork, cashier: Cashier, actor: Actor, booking_id: uuid.UUID,
              method: str) -> tuple[int, dict[str, Any]]:
    """Start paying a booking (inside the idempotency wrapper's unit of work)."""
    booking = await load(uow, actor, booking_id, lock=True)
    booking.ensure_payable()
    result = await cashier.start(uow, actor, ENTITY, booking.id, booking.total, method)
    booking.await_payment(uuid.UUID(result["payment"]["id"]))
    result["booking"] = describe(await load(uow, actor, booking_id))
    return 201, result


async def _captured(uow: UnitOfWork, payment: Payment, actor: Actor) -> bool:
    """Hold a place in the slot; when it is full the booking is refunded instead.

    A booking no longer placed (another payment got there first) is left as it is.
    """
    booking = await uow.labs.booking(payment.reference_id, lock=True)  # type: ignore[arg-type]
    assert booking is not None
    if booking.status != BookingStatus.PLACED:
        return False
    slot = await uow.labs.slot(booking.slot_id, lock=True)
    before, now = booking.status, uow.clock()
    if slot is None or not slot.hold():
        booking.refund(now, payment.id)
        _audit(uow, actor, booking, "lab_booking_refunded", before)
        return False
    booking.pay(payment.id, now)
    _audit(uow, actor, booking, "lab_booking_paid", before)
    return True


async def _refunded(uow: UnitOfWork, payment: Payment, actor: Actor) -> None:
    """All the money went back: give the place in the slot back."""
    booking = await uow.labs.booking(payment.reference_id, lock=True)  # type: ignore[arg-type]
    assert booking is not None
    if booking.holds_slot:
        slot = await uow.labs.slot(booking.slot_id, lock=True)
        if slot is not None:
            slot.release()
    before = booking.status
    booking.refund(uow.clock())
    _audit(uow, actor, booking, "lab_booking_refunded", before)


async def _refundable(uow: UnitOfWork, payment: Payment, actor: Actor) -> None:
    booking = await uow.labs.booking(payment.reference_id)  # type: ignore[arg-type]
    if booking is not None:
        booking.ensure_refundable()


PURPOSE = Purpose(_captured, _refunded, _refundable)


async def collected(uow: UnitOfWork, actor: Actor, booking_id: uuid.UUID) -> dict[str, Any]:
    """The lab has collected the sample."""
    async with uow:
        booking = await load(uow, actor, booking_id, lock=True)
        before = booking.status
        booking.collect(uow.clock())
        _audit(uow, actor, booking, "lab_sample_collected", before)
        await uow.commit()
        return describe(booking)


async def upload_report(uow: UnitOfWork, actor: Actor, booking_id: uuid.UUID, pdf: bytes,
                        values: list[dict[str, Any]], commission_percent: Decimal
                        ) -> dict[str, Any]:
    """The lab uploads the PDF and structured values; the lab is paid."""
    if not pdf.startswith(b"%PDF-") or len(pdf) > MAX_PDF:
        raise ValidationFailed.field("pdf_base64", "must be a PDF of at most 360 KiB")
    async with uow:
        booking = await load(uow, actor, booking_id, lock=True)
        before = booking.status
        booking.ensure_reportable()
        profile = await uow.users.patient(booking.patient_id)
        results = flag_results(booking.tests, values, profile.sex if profile else None)
        booking.report(results, pdf, hashlib.sha256(pdf).hexdigest(), uow.clock())
        _audit(uow, actor, booking, "lab_report_uploaded", before)
        payout = await pay_merchant(uow, actor, ENTITY, booking, commission_percent)
        await uow.commit()
        return {**describe(booking), "payout": payout}


async def view(uow: UnitOfWork, actor: Actor, booking_id: uuid.UUID) -> dict[str, Any]:
    """One booking; a patient viewing results is audited (access to health records)."""
    async with uow:
        booking = await load(uow, actor, booking_id)
        body = describe(booking, await uow.labs.placement(booking.slot_id))
        if booking.results:
            uow.record(actor, "lab_results_viewed", ENTITY, booking.id)
            await uow.commit()
        return body


async def report_pdf(uow: UnitOfWork, actor: Actor, booking_id: uuid.UUID) -> bytes:
    """The uploaded PDF report."""
    async with uow:
        booking = await load(uow, actor, booking_id)
        if booking.report_pdf is None:
            raise NotFound("no report yet")
        uow.record(actor, "lab_report_downloaded", ENTITY, booking.id)
        await uow.commit()
        return bytes(booking.report_pdf)


async def mine(uow: UnitOfWork, actor: Actor, limit: int = 50, offset: int = 0
               ) -> list[dict[str, Any]]:
    """The patient's own bookings, newest first (results are read one booking at a time)."""
    assert actor.user_id is not None
    async with uow:
        return [{**describe(booking, (starts_at, lab)), "results": []}
                for booking, starts_at, lab in await uow.labs.bookings_of(
                    actor.user_id, limit, offset)]
