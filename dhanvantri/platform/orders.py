"""Pharmacy orders: place, pay (stock reserved), pack, ship, dispatch, cancel (stock released).

Delivery with the one-time code and the merchant payout are in ``delivery_otp.py``.
Prescription-only medicines need the patient's released prescription naming their generic.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import Row, select

from ..http.errors import Conflict, NotFound, ValidationFailed
from ..http.principal import Role
from ..knowledge.medicines import load_medicines
from . import payments
from .commerce_tables import medicines, merchants, order_items, orders, stock
from .domain.audit import Actor
from .domain.commerce import CANCELLABLE, OrderStatus, order_step, text
from .gateways import PaymentGateway
from .pharmacy import released_prescription
from .uow import UnitOfWork

ENTITY = "order"


async def load(uow: UnitOfWork, actor: Actor, order_id: uuid.UUID, *, lock: bool = False
               ) -> Row[Any]:
    """An order the actor may see: the patient's own, the pharmacy's own, or any for staff."""
    query = select(orders).where(orders.c.id == order_id)
    row = (await uow.session.execute(query.with_for_update() if lock else query)).first()
    role = actor.role
    if row is None:
        raise NotFound("no such order")
    if role == Role.PATIENT.value and row.patient_id != actor.user_id:
        raise NotFound("no such order")
    if role == Role.PHARMACY.value:
        owner = await uow.session.scalar(select(merchants.c.user_id)
                                         .where(merchants.c.id == row.merchant_id))
        if owner != actor.user_id:
            raise NotFound("no such order")
    return row


async def describe(uow: UnitOfWork, row: Row[Any]) -> dict[str, Any]:
    """An order with its lines; never the delivery code or its hash."""
    items = (await uow.session.execute(select(order_items).where(
        order_items.c.order_id == row.id).order_by(order_items.c.name))).all()
    return {"id": str(row.id), "status": row.status, "patient_id": str(row.patient_id),
            "pharmacy_id": str(row.merchant_id),
            "prescription_id": str(row.prescription_id) if row.prescription_id else None,
            "pin_code": row.pin_code, "address": row.address, "total": text(row.total),
            "payment_id": str(row.payment_id) if row.payment_id else None,
            "delivery": {"otp_expires_at": row.otp_expires_at.isoformat()
                         if row.otp_expires_at else None,
                         "attempts": row.otp_attempts, "escalated": row.otp_escalated},
            "delivered_at": row.delivered_at.isoformat() if row.delivered_at else None,
            "items": [{"medicine_id": str(i.medicine_id), "name": i.name,
                       "quantity": i.quantity, "unit_price": text(i.unit_price),
                       "line_total": text(i.line_total)} for i in items]}


async def _set(uow: UnitOfWork, actor: Actor, row: Row[Any], action: str, **values: Any
               ) -> Row[Any]:
    values["updated_at"] = uow.clock()
    await uow.session.execute(orders.update().where(orders.c.id == row.id).values(**values))
    new = (await uow.session.execute(select(orders).where(orders.c.id == row.id))).one()
    uow.record(actor, action, ENTITY, row.id, old={"status": row.status},
               new={"status": new.status, **{k: str(v) for k, v in values.items()
                                             if k in ("payment_id",)}})
    return new


async def place(uow: UnitOfWork, actor: Actor, pharmacy_id: uuid.UUID, pin_code: str,
                address: str, items: list[tuple[uuid.UUID, int]],
                prescription_id: uuid.UUID | None) -> dict[str, Any]:
    """Place an order at one pharmacy; prices come from the catalogue, never the client."""
    assert actor.user_id is not None
    async with uow:
        pharmacy = (await uow.session.execute(select(merchants).where(
            merchants.c.id == pharmacy_id, merchants.c.kind == "pharmacy"))).first()
        if pharmacy is None:
            raise ValidationFailed.field("pharmacy_id", "unknown pharmacy")
        if pin_code not in pharmacy.pin_codes:
            raise ValidationFailed.field("pin_code", "the pharmacy does not deliver here")
        rx_generics: set[str] = set()
        if prescription_id is not None:
            rx = await released_prescription(uow, actor.user_id, prescription_id)
            table = load_medicines()
            rx_generics = {m.generic for med in rx.content.get("medications", [])
                           if (m := table.lookup(str(med.get("name", ""))))}
        order_id, now, total, lines = uuid.uuid4(), uow.clock(), Decimal("0.00"), []
        for medicine_id, quantity in items:
            med = (await uow.session.execute(select(medicines).where(
                medicines.c.id == medicine_id))).first()
            if med is None:
                raise ValidationFailed.field("items.medicine_id", "unknown medicine")
            if med.rx_required and med.generic not in rx_generics:
                raise ValidationFailed(
                    f"{med.brand} needs a released prescription naming {med.generic}",
                    code="PRESCRIPTION_REQUIRED",
                    details=[{"field": "prescription_id",
                              "message": f"required for {med.sku}"}])
            line_total = med.price * quantity
            total += line_total
            lines.append({"id": uuid.uuid4(), "order_id": order_id, "medicine_id": med.id,
                          "name": f"{med.brand} {med.strength} ({med.pack})",
                          "quantity": quantity, "unit_price": med.price,
                          "line_total": line_total})
        await uow.session.execute(orders.insert().values(
            id=order_id, patient_id=actor.user_id, merchant_id=pharmacy_id,
            prescription_id=prescription_id, status=OrderStatus.PLACED.value,
            pin_code=pin_code, address=address, total=total, otp_attempts=0,
            otp_escalated=False, created_at=now, updated_at=now))
        await uow.session.execute(order_items.insert(), lines)
        uow.record(actor, "order_placed", ENTITY, order_id,
                   new={"status": "placed", "total": text(total), "lines": len(lines)})
        await uow.commit()
        row = (await uow.session.execute(select(orders).where(orders.c.id == order_id))).one()
        return await describe(uow, row)


async def pay(uow: UnitOfWork, gateway: PaymentGateway, actor: Actor, order_id: uuid.UUID,
              method: str) -> tuple[int, dict[str, Any]]:
    """Start paying an order (inside the idempotency wrapper's unit of work)."""
    row = await load(uow, actor, order_id, lock=True)
    if row.status != OrderStatus.PLACED.value:
        raise Conflict(f"cannot pay an order that is {row.status}", code="INVALID_STATE")
    if row.payment_id is not None and method == "gateway":
        existing = await payments.load(uow, row.payment_id)
        if existing.status == "created":
            raise Conflict("a payment for this order is awaiting checkout",
                           code="PAYMENT_PENDING", details={"payment_id": str(existing.id)})
    result = await payments.start(uow, gateway, actor, "order", row.id, row.total, method)
    await uow.session.execute(orders.update().where(orders.c.id == row.id).values(
        payment_id=uuid.UUID(result["payment"]["id"])))
    result["order"] = await describe(uow, await load(uow, actor, order_id))
    return 201, result


async def _reserve(uow: UnitOfWork, row: Row[Any], sign: int) -> bool:
    items = (await uow.session.execute(select(order_items).where(
        order_items.c.order_id == row.id))).all()
    for item in items:
        change = sign * item.quantity
        query = stock.update().where(stock.c.merchant_id == row.merchant_id,
                                     stock.c.medicine_id == item.medicine_id)
        if sign > 0:  # atomic check-and-set: concurrent payments cannot oversell
            query = query.where(stock.c.quantity - stock.c.reserved >= item.quantity)
        done = await uow.session.execute(query.values(reserved=stock.c.reserved + change))
        if done.rowcount != 1:
            return False
    return True


async def _captured(uow: UnitOfWork, payment: Row[Any], actor: Actor) -> bool:
    row = (await uow.session.execute(select(orders).where(
        orders.c.id == payment.reference_id).with_for_update())).one()
    if row.status != OrderStatus.PLACED.value:
        return False
    nested = await uow.session.begin_nested()
    if not await _reserve(uow, row, +1):
        await nested.rollback()  # undo the lines already reserved
        await _set(uow, actor, row, "order_refunded", status=OrderStatus.REFUNDED.value,
                   payment_id=payment.id)
        return False
    await nested.commit()
    await _set(uow, actor, row, "order_paid", status=order_step(row.status, "pay"),
               payment_id=payment.id)
    return True


async def _refunded(uow: UnitOfWork, payment: Row[Any], actor: Actor) -> None:
    row = (await uow.session.execute(select(orders).where(
        orders.c.id == payment.reference_id).with_for_update())).one()
    if row.status in (OrderStatus.PAID.value, OrderStatus.PACKED.value):
        await _reserve(uow, row, -1)
    if row.status != OrderStatus.REFUNDED.value:
        await _set(uow, actor, row, "order_refunded", status=OrderStatus.REFUNDED.value)


async def _refundable(uow: UnitOfWork, payment: Row[Any], actor: Actor) -> None:
    status = await uow.session.scalar(select(orders.c.status)
                                      .where(orders.c.id == payment.reference_id))
    if status == OrderStatus.DELIVERED.value:
        raise Conflict("the pharmacy has been paid for this order", code="ALREADY_SETTLED")


payments.PURPOSES["order"] = payments.Purpose(_captured, _refunded, _refundable)


async def advance(uow: UnitOfWork, actor: Actor, order_id: uuid.UUID, step: str
                  ) -> dict[str, Any]:
    """The pharmacy packs or ships an order."""
    async with uow:
        row = await load(uow, actor, order_id, lock=True)
        row = await _set(uow, actor, row, f"order_{step}", status=order_step(row.status, step))
        await uow.commit()
        return await describe(uow, row)


async def cancel(uow: UnitOfWork, gateway: PaymentGateway, actor: Actor, order_id: uuid.UUID,
                 reason: str) -> dict[str, Any]:
    """Cancel before shipping; a paid order releases its stock and is refunded to its source."""
    async with uow:
        row = await load(uow, actor, order_id, lock=True)
        if OrderStatus(row.status) not in CANCELLABLE:
            raise Conflict(f"cannot cancel an order that is {row.status}", code="INVALID_STATE")
        if row.status == OrderStatus.PLACED.value:
            row = await _set(uow, actor, row, "order_cancelled",
                             status=OrderStatus.CANCELLED.value)
        else:
            payment = await payments.load(uow, row.payment_id)
            await payments.refund(uow, gateway, actor, payment, None, "source",
                                  reason or "order cancelled")
            row = (await uow.session.execute(select(orders).where(orders.c.id == row.id))).one()
        await uow.commit()
        return await describe(uow, row)


async def view(uow: UnitOfWork, actor: Actor, order_id: uuid.UUID) -> dict[str, Any]:
    """One order as the actor may see it."""
    async with uow:
        return await describe(uow, await load(uow, actor, order_id))


async def list_orders(uow: UnitOfWork, actor: Actor, limit: int, offset: int
                      ) -> list[dict[str, Any]]:
    """Orders the actor may see, newest first."""
    async with uow:
        query = select(orders)
        if actor.role == Role.PATIENT.value:
            query = query.where(orders.c.patient_id == actor.user_id)
        elif actor.role == Role.PHARMACY.value:
            query = query.join(merchants, merchants.c.id == orders.c.merchant_id).where(
                merchants.c.user_id == actor.user_id)
        rows = (await uow.session.execute(query.order_by(
            orders.c.created_at.desc(), orders.c.id).limit(limit).offset(offset))).all()
        return [await describe(uow, r) for r in rows]
