"""Lab tests at home: catalogue, collection slots by PIN code, booking, payment, report, results.

Tests, preparation and reference ranges come from the knowledge base
(``dhanvantri.knowledge.lab_tests``); prices from the shipped sample price list. The lab is paid
(less commission) when it uploads the report, the point at which the service is delivered.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from datetime import datetime
from decimal import Decimal
from importlib import resources
from typing import Any

from sqlalchemy import Row, select

from ..http.errors import Conflict, NotFound, ValidationFailed
from ..http.principal import Role
from ..knowledge.lab_tests import load_lab_tests
from . import payments
from .commerce_tables import lab_bookings, lab_catalog, lab_slots, merchants
from .domain.audit import SYSTEM, Actor
from .domain.commerce import BookingStatus, flag, money, text
from .gateways import PaymentGateway
from .pharmacy import merchant_of, released_prescription
from .settlement import pay_merchant
from .uow import UnitOfWork

ENTITY = "lab_booking"
MAX_PDF = 360 * 1024


def code_for(name: str) -> str:
    """A test's catalogue code: ``"Complete blood count"`` -> ``"complete-blood-count"``."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


async def seed_lab_catalog(uow: UnitOfWork, actor: Actor = SYSTEM) -> int:
    """Load every knowledge-base test with its sample price (idempotent)."""
    prices = json.loads(resources.files("dhanvantri.platform").joinpath(
        "data/lab_prices.json").read_text(encoding="utf-8"))
    tests = load_lab_tests().tests
    async with uow:
        for test in tests:
            price = money(prices["prices"].get(test.name, prices["default_price"]))
            values = {"name": test.name, "specimen": test.specimen,
                      "preparation": test.preparation, "price": price}
            code = code_for(test.name)
            if await uow.session.scalar(select(lab_catalog.c.code)
                                        .where(lab_catalog.c.code == code)):
                await uow.session.execute(lab_catalog.update()
                                          .where(lab_catalog.c.code == code).values(**values))
            else:
                await uow.session.execute(lab_catalog.insert().values(code=code, **values))
        uow.record(actor, "lab_catalog_seeded", "lab_catalog", "sample",
                   new={"tests": len(tests)})
        await uow.commit()
    return len(tests)


async def catalog(uow: UnitOfWork) -> list[dict[str, Any]]:
    """Every test with specimen, preparation and price."""
    async with uow:
        rows = (await uow.session.execute(select(lab_catalog).order_by(lab_catalog.c.name))).all()
        return [{"code": r.code, "name": r.name, "specimen": r.specimen,
                 "preparation": r.preparation, "price": text(r.price)} for r in rows]


async def add_slot(uow: UnitOfWork, actor: Actor, lab_id: uuid.UUID, pin_code: str,
                   starts_at: datetime, capacity: int) -> dict[str, Any]:
    """A home-collection slot of a lab for one PIN code it serves."""
    async with uow:
        lab = await merchant_of(uow.session, actor, lab_id, "lab")
        if pin_code not in lab.pin_codes:
            raise ValidationFailed.field("pin_code", "the lab does not serve this PIN code")
        slot_id = uuid.uuid4()
        await uow.session.execute(lab_slots.insert().values(
            id=slot_id, merchant_id=lab_id, pin_code=pin_code, starts_at=starts_at,
            capacity=capacity, booked=0))
        uow.record(actor, "lab_slot_added", "merchant", lab_id,
                   new={"slot_id": str(slot_id), "capacity": capacity})
        await uow.commit()
        return {"id": str(slot_id), "lab_id": str(lab_id), "pin_code": pin_code,
                "starts_at": starts_at.isoformat(), "capacity": capacity, "booked": 0}


async def slots(uow: UnitOfWork, pin_code: str) -> list[dict[str, Any]]:
    """Future slots with room at ``pin_code``."""
    async with uow:
        rows = (await uow.session.execute(
            select(lab_slots, merchants.c.name).join(
                merchants, merchants.c.id == lab_slots.c.merchant_id)
            .where(lab_slots.c.pin_code == pin_code, lab_slots.c.starts_at > uow.clock(),
                   lab_slots.c.booked < lab_slots.c.capacity)
            .order_by(lab_slots.c.starts_at, lab_slots.c.id).limit(100))).all()
        return [{"id": str(r.id), "lab_id": str(r.merchant_id), "lab": r.name,
                 "starts_at": r.starts_at.isoformat(), "free": r.capacity - r.booked}
                for r in rows]


async def load(uow: UnitOfWork, actor: Actor, booking_id: uuid.UUID, *, lock: bool = False
               ) -> Row[Any]:
    """A booking the actor may see (own patient, own lab, or admin/support)."""
    query = select(lab_bookings).where(lab_bookings.c.id == booking_id)
    row = (await uow.session.execute(query.with_for_update() if lock else query)).first()
    if row is None or (actor.role == Role.PATIENT.value and row.patient_id != actor.user_id):
        raise NotFound("no such booking")
    if actor.role == Role.LAB.value:
        await merchant_of(uow.session, actor, row.merchant_id, "lab")
    return row


async def describe(uow: UnitOfWork, row: Row[Any]) -> dict[str, Any]:
    """A booking with its tests and flagged results (the PDF is fetched separately)."""
    return {"id": str(row.id), "status": row.status, "lab_id": str(row.merchant_id),
            "slot_id": str(row.slot_id), "tests": row.tests, "total": text(row.total),
            "payment_id": str(row.payment_id) if row.payment_id else None,
            "report": {"sha256": row.report_sha256} if row.report_sha256 else None,
            "results": row.results or []}


async def _set(uow: UnitOfWork, actor: Actor, row: Row[Any], action: str, **values: Any
               ) -> Row[Any]:
    values["updated_at"] = uow.clock()
    await uow.session.execute(lab_bookings.update().where(lab_bookings.c.id == row.id)
                              .values(**values))
    new = (await uow.session.execute(select(lab_bookings)
                                     .where(lab_bookings.c.id == row.id))).one()
    uow.record(actor, action, ENTITY, row.id, old={"status": row.status},
               new={"status": new.status})
    return new


async def book(uow: UnitOfWork, actor: Actor, slot_id: uuid.UUID, tests: list[str],
               address: str, prescription_id: uuid.UUID | None) -> dict[str, Any]:
    """Book tests in a slot; the slot is held when the booking is paid."""
    assert actor.user_id is not None
    async with uow:
        if prescription_id is not None:
            await released_prescription(uow, actor.user_id, prescription_id)
        slot = (await uow.session.execute(select(lab_slots)
                                          .where(lab_slots.c.id == slot_id))).first()
        if slot is None or slot.starts_at <= uow.clock():
            raise ValidationFailed.field("slot_id", "unknown or past slot")
        rows = (await uow.session.execute(select(lab_catalog).where(
            lab_catalog.c.code.in_(tests)))).all()
        if len(rows) != len(set(tests)):
            raise ValidationFailed.field("tests", "unknown test code")
        total = sum((r.price for r in rows), Decimal("0.00"))
        booking_id, now = uuid.uuid4(), uow.clock()
        await uow.session.execute(lab_bookings.insert().values(
            id=booking_id, patient_id=actor.user_id, merchant_id=slot.merchant_id,
            slot_id=slot_id, prescription_id=prescription_id, tests=sorted(set(tests)),
            address=address, status=BookingStatus.PLACED.value, total=total,
            created_at=now, updated_at=now))
        uow.record(actor, "lab_booked", ENTITY, booking_id,
                   new={"status": "placed", "total": text(total)})
        await uow.commit()
        return await describe(uow, await load(uow, actor, booking_id))


async def pay(uow: UnitOfWork, gateway: PaymentGateway, actor: Actor, booking_id: uuid.UUID,
              method: str) -> tuple[int, dict[str, Any]]:
    """Start paying a booking (inside the idempotency wrapper's unit of work)."""
    row = await load(uow, actor, booking_id, lock=True)
    if row.status != BookingStatus.PLACED.value:
        raise Conflict(f"cannot pay a booking that is {row.status}", code="INVALID_STATE")
    result = await payments.start(uow, gateway, actor, ENTITY, row.id, row.total, method)
    await uow.session.execute(lab_bookings.update().where(lab_bookings.c.id == row.id)
                              .values(payment_id=uuid.UUID(result["payment"]["id"])))
    result["booking"] = await describe(uow, await load(uow, actor, booking_id))
    return 201, result


async def _captured(uow: UnitOfWork, payment: Row[Any], actor: Actor) -> bool:
    row = (await uow.session.execute(select(lab_bookings).where(
        lab_bookings.c.id == payment.reference_id).with_for_update())).one()
    held = await uow.session.execute(lab_slots.update().where(
        lab_slots.c.id == row.slot_id, lab_slots.c.booked < lab_slots.c.capacity)
        .values(booked=lab_slots.c.booked + 1))
    if row.status != BookingStatus.PLACED.value or held.rowcount != 1:
        await _set(uow, actor, row, "lab_booking_refunded", status="refunded",
                   payment_id=payment.id)
        return False
    await _set(uow, actor, row, "lab_booking_paid", status=BookingStatus.PAID.value,
               payment_id=payment.id)
    return True


async def _refunded(uow: UnitOfWork, payment: Row[Any], actor: Actor) -> None:
    row = (await uow.session.execute(select(lab_bookings).where(
        lab_bookings.c.id == payment.reference_id).with_for_update())).one()
    if row.status in (BookingStatus.PAID.value, BookingStatus.SAMPLE_COLLECTED.value):
        await uow.session.execute(lab_slots.update().where(lab_slots.c.id == row.slot_id)
                                  .values(booked=lab_slots.c.booked - 1))
    await _set(uow, actor, row, "lab_booking_refunded", status="refunded")


async def _refundable(uow: UnitOfWork, payment: Row[Any], actor: Actor) -> None:
    status = await uow.session.scalar(select(lab_bookings.c.status)
                                      .where(lab_bookings.c.id == payment.reference_id))
    if status == BookingStatus.REPORTED.value:
        raise Conflict("the lab has been paid for this booking", code="ALREADY_SETTLED")


payments.PURPOSES[ENTITY] = payments.Purpose(_captured, _refunded, _refundable)


async def collected(uow: UnitOfWork, actor: Actor, booking_id: uuid.UUID) -> dict[str, Any]:
    """The lab has collected the sample."""
    async with uow:
        row = await load(uow, actor, booking_id, lock=True)
        if row.status != BookingStatus.PAID.value:
            raise Conflict(f"cannot collect for a booking that is {row.status}",
                           code="INVALID_STATE")
        row = await _set(uow, actor, row, "lab_sample_collected",
                         status=BookingStatus.SAMPLE_COLLECTED.value)
        await uow.commit()
        return await describe(uow, row)


def flag_results(tests: list[str], values: list[dict[str, Any]], sex: str | None
                 ) -> list[dict[str, Any]]:
    """Each value with its reference range and ``low``/``high``/``normal`` flag.

    The range is the analyte's row for the patient's sex when the table has one
    (``adult men``/``adult non-pregnant women``), else the first adult row.
    """
    table = load_lab_tests()
    known = {code_for(t.name): t for t in table.tests}
    out = []
    for value in values:
        ranges = [r for code in tests if code in known for r in known[code].ranges
                  if r.analyte == value["analyte"].lower()]
        if not ranges:
            raise ValidationFailed.field("results.analyte",
                                         f"{value['analyte']} is not measured by these tests")
        word = {"male": "men", "female": "women"}.get(sex or "", "adult")
        chosen = next((r for r in ranges if word in r.population), ranges[0])
        out.append({"analyte": chosen.analyte, "value": value["value"], "unit": chosen.unit,
                    "low": chosen.low, "high": chosen.high, "population": chosen.population,
                    "flag": flag(float(value["value"]), chosen.low, chosen.high)})
    return out


async def upload_report(uow: UnitOfWork, actor: Actor, booking_id: uuid.UUID, pdf: bytes,
                        values: list[dict[str, Any]], commission_percent: Decimal
                        ) -> dict[str, Any]:
    """The lab uploads the PDF and structured values; the lab is paid."""
    if not pdf.startswith(b"%PDF-") or len(pdf) > MAX_PDF:
        raise ValidationFailed.field("pdf_base64", "must be a PDF of at most 360 KiB")
    async with uow:
        row = await load(uow, actor, booking_id, lock=True)
        if row.status not in (BookingStatus.PAID.value, BookingStatus.SAMPLE_COLLECTED.value):
            raise Conflict(f"cannot report a booking that is {row.status}", code="INVALID_STATE")
        profile = await uow.users.patient(row.patient_id)
        results = flag_results(row.tests, values, profile.sex if profile else None)
        row = await _set(uow, actor, row, "lab_report_uploaded",
                         status=BookingStatus.REPORTED.value, results=results, report_pdf=pdf,
                         report_sha256=hashlib.sha256(pdf).hexdigest())
        payment = await payments.load(uow, row.payment_id)
        payout = await pay_merchant(uow, actor, row.merchant_id, ENTITY, row.id, payment,
                                    commission_percent)
        await uow.commit()
        body = await describe(uow, row)
        body["payout"] = payout
        return body


async def view(uow: UnitOfWork, actor: Actor, booking_id: uuid.UUID) -> dict[str, Any]:
    """One booking; a patient viewing results is audited (access to health records)."""
    async with uow:
        row = await load(uow, actor, booking_id)
        body = await describe(uow, row)
        if row.results:
            uow.record(actor, "lab_results_viewed", ENTITY, row.id)
            await uow.commit()
        return body


async def report_pdf(uow: UnitOfWork, actor: Actor, booking_id: uuid.UUID) -> bytes:
    """The uploaded PDF report."""
    async with uow:
        row = await load(uow, actor, booking_id)
        if row.report_pdf is None:
            raise NotFound("no report yet")
        uow.record(actor, "lab_report_downloaded", ENTITY, row.id)
        await uow.commit()
        return bytes(row.report_pdf)
