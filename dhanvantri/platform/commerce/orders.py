"""Pharmacy orders: place, pay (stock reserved), pack, ship, cancel (stock released).

Dispatch and delivery with the patient's one-time code are in ``delivery.py``.
Prescription-only medicines need the patient's released prescription naming their generic.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from ...http.errors import Conflict, NotFound, ValidationFailed
from ...http.principal import Role
from ...knowledge.medicines import load_medicines
from ..domain.audit import Actor
from ..domain.catalog import MerchantKind
from ..domain.money import ZERO, text
from ..domain.orders import Order, OrderLine, OrderStatus
from ..domain.payments import Payment, PaymentStatus
from ..uow import UnitOfWork
from .payments import Cashier, Purpose
from .pharmacy import released_prescription

ENTITY = "order"
# What the pharmacy may do by itself; dispatch (with its code) is in delivery.py.
STEPS = {"pack": Order.pack, "ship": Order.ship}


async def load(uow: UnitOfWork, actor: Actor, order_id: uuid.UUID, *, lock: bool = False
               ) -> Order:
    """An order the actor may see: the patient's own, the pharmacy's own, or any for staff."""
    order = await uow.orders.get(order_id, lock=lock)
    if order is None:
        raise NotFound("no such order")
    if actor.role == Role.PATIENT.value and order.patient_id != actor.user_id:
        raise NotFound("no such order")
    if actor.role == Role.PHARMACY.value:
        pharmacy = await uow.merchants.get(order.merchant_id)
        if pharmacy is None or pharmacy.user_id != actor.user_id:
            raise NotFound("no such order")
    return order


def describe(order: Order) -> dict[str, Any]:
    """An order with its lines; never the delivery code or its hash."""
    return {"id": str(order.id), "status": order.status.value,
            "patient_id": str(order.patient_id), "pharmacy_id": str(order.merchant_id),
            "prescription_id": str(order.prescription_id) if order.prescription_id else None,
            "pin_code": order.pin_code, "address": order.address, "total": text(order.total),
            "payment_id": str(order.payment_id) if order.payment_id else None,
            "delivery": {"otp_expires_at": order.otp_expires_at.isoformat()
                         if order.otp_expires_at else None,
                         "attempts": order.otp_attempts, "escalated": order.otp_escalated},
            "delivered_at": order.delivered_at.isoformat() if order.delivered_at else None,
            "placed_at": _iso(order.created_at), "updated_at": _iso(order.updated_at),
            "items": [_line(line) for line in sorted(order.lines, key=lambda line: line.name)]}


def _line(line: OrderLine) -> dict[str, Any]:
    return {"medicine_id": str(line.medicine_id), "name": line.name,
            "quantity": line.quantity, "unit_price": text(line.unit_price),
            "line_total": text(line.line_total)}


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def audit(uow: UnitOfWork, actor: Actor, order: Order, action: str, before: OrderStatus,
          payment_id: uuid.UUID | None = None) -> None:
    """Record an order's state change (and the payment it came with)."""
    new: dict[str, Any] = {"status": order.status.value}
    if payment_id is not None:
        new["payment_id"] = str(payment_id)
    uow.record(actor, action, ENTITY, order.id, old={"status": before.value}, new=new)


async def _priced(uow: UnitOfWork, actor: Actor, pharmacy_id: uuid.UUID, pin_code: str,
                  items: list[tuple[uuid.UUID, int]], prescription_id: uuid.UUID | None
                  ) -> list[OrderLine]:
    """The lines of an order as the catalogue prices them, checked as placing checks them."""
    assert actor.user_id is not None
    pharmacy = await uow.merchants.get(pharmacy_id, MerchantKind.PHARMACY)
    if pharmacy is None:
        raise ValidationFailed.field("pharmacy_id", "unknown pharmacy")
    if not pharmacy.serves(pin_code):
        raise ValidationFailed.field("pin_code", "the pharmacy does not deliver here")
    rx_generics: set[str] = set()
    if prescription_id is not None:
        rx = await released_prescription(uow, actor.user_id, prescription_id)
        table = load_medicines()
        rx_generics = {m.generic for med in rx.content.get("medications", [])
                       if (m := table.lookup(str(med.get("name", ""))))}
    lines = []
    for medicine_id, quantity in items:
        medicine = await uow.medicines.get(medicine_id)
        if medicine is None:
            raise ValidationFailed.field("items.medicine_id", "unknown medicine")
        if medicine.rx_required and medicine.generic not in rx_generics:
            raise ValidationFailed(
                f"{medicine.brand} needs a released prescription naming {medicine.generic}",
                code="PRESCRIPTION_REQUIRED",
                details=[{"field": "prescription_id",
                          "message": f"required for {medicine.sku}"}])
        lines.append(OrderLine.of(medicine, quantity))
    return lines


async def place(uow: UnitOfWork, actor: Actor, pharmacy_id: uuid.UUID, pin_code: str,
                address: str, items: list[tuple[uuid.UUID, int]],
                prescription_id: uuid.UUID | None) -> dict[str, Any]:
    """Place an order at one pharmacy; prices come from the catalogue, never the client."""
    assert actor.user_id is not None
    async with uow:
        lines = await _priced(uow, actor, pharmacy_id, pin_code, items, prescription_id)
        order = Order.place(patient_id=actor.user_id, merchant_id=pharmacy_id,
                            prescription_id=prescription_id, pin_code=pin_code,
                            address=address, lines=lines, now=uow.clock())
        uow.orders.add(order)
        uow.record(actor, "order_placed", ENTITY, order.id,
                   new={"status": "placed", "total": text(order.total), "lines": len(lines)})
        await uow.commit()
        return describe(order)


async def quote(uow: UnitOfWork, actor: Actor, pharmacy_id: uuid.UUID, pin_code: str,
                items: list[tuple[uuid.UUID, int]], prescription_id: uuid.UUID | None
                ) -> dict[str, Any]:
    """What an order of ``items`` would cost, priced and checked as placing it would be.

    Nothing is stored: a cart whose quantities the patient changes is totalled here, by the
    catalogue, so no client ever adds money up.
    """
    async with uow:
        lines = await _priced(uow, actor, pharmacy_id, pin_code, items, prescription_id)
        return {"pharmacy_id": str(pharmacy_id), "pin_code": pin_code,
                "items": [_line(line) for line in lines],
                "total": text(sum((line.line_total for line in lines), ZERO))}


async def pay(uow: UnitOfWork, cashier: Cashier, actor: Actor, order_id: uuid.UUID,
              method: str) -> tuple[int, dict[str, Any]]:
    """Start paying an order (inside the idempotency wrapper's unit of work)."""
    order = await load(uow, actor, order_id, lock=True)
    order.ensure_payable()
    if order.payment_id is not None and method == "gateway":
        pending = await uow.payments.get(order.payment_id)
        if pending is not None and pending.status == PaymentStatus.CREATED:
            raise Conflict("a payment for this order is awaiting checkout",
                           code="PAYMENT_PENDING", details={"payment_id": str(pending.id)})
    result = await cashier.start(uow, actor, ENTITY, order.id, order.total, method)
    order.await_payment(uuid.UUID(result["payment"]["id"]))
    result["order"] = describe(await load(uow, actor, order_id))
    return 201, result


async def _captured(uow: UnitOfWork, payment: Payment, actor: Actor) -> bool:
    """Reserve the packs; when the shelf cannot hold them the order is refunded instead."""
    order = await uow.orders.get(payment.reference_id, lock=True)  # type: ignore[arg-type]
    assert order is not None
    if order.status != OrderStatus.PLACED:
        return False
    before, now, packs = order.status, uow.clock(), order.packs()
    shelves = await uow.stock.lock(order.merchant_id, list(packs))
    if any(m not in shelves or shelves[m].free < n for m, n in packs.items()):
        order.refund(now, payment.id)
        audit(uow, actor, order, "order_refunded", before, payment.id)
        return False
    for medicine_id, count in packs.items():
        shelves[medicine_id].reserve(count)
    order.pay(payment.id, now)
    audit(uow, actor, order, "order_paid", before, payment.id)
    return True


async def _refunded(uow: UnitOfWork, payment: Payment, actor: Actor) -> None:
    """All the money went back: release the reserved packs."""
    order = await uow.orders.get(payment.reference_id, lock=True)  # type: ignore[arg-type]
    assert order is not None
    if order.reserves_stock:
        shelves = await uow.stock.lock(order.merchant_id, list(order.packs()))
        for medicine_id, count in order.packs().items():
            if medicine_id in shelves:
                shelves[medicine_id].release(count)
    if order.status != OrderStatus.REFUNDED:
        before = order.status
        order.refund(uow.clock())
        audit(uow, actor, order, "order_refunded", before)


async def _refundable(uow: UnitOfWork, payment: Payment, actor: Actor) -> None:
    order = await uow.orders.get(payment.reference_id)  # type: ignore[arg-type]
    if order is not None:
        order.ensure_refundable()


PURPOSE = Purpose(_captured, _refunded, _refundable)


async def advance(uow: UnitOfWork, actor: Actor, order_id: uuid.UUID, step: str
                  ) -> dict[str, Any]:
    """The pharmacy packs (``step`` "pack") or ships ("ship") an order."""
    async with uow:
        order = await load(uow, actor, order_id, lock=True)
        before = order.status
        STEPS[step](order, uow.clock())
        audit(uow, actor, order, f"order_{step}", before)
        await uow.commit()
        return describe(order)


async def cancel(uow: UnitOfWork, cashier: Cashier, actor: Actor, order_id: uuid.UUID,
                 reason: str) -> dict[str, Any]:
    """Cancel before shipping; a paid order releases its stock and is refunded to its source."""
    async with uow:
        order = await load(uow, actor, order_id, lock=True)
        order.ensure_cancellable()
        if order.status == OrderStatus.PLACED:
            order.cancel(uow.clock())
            audit(uow, actor, order, "order_cancelled", OrderStatus.PLACED)
        else:
            payment = await uow.payments.get(order.payment_id)  # type: ignore[arg-type]
            if payment is None:
                raise NotFound("no such payment")
            await cashier.refund(uow, actor, payment, None, "source",
                                 reason or "order cancelled")
        await uow.commit()
        return describe(order)


async def view(uow: UnitOfWork, actor: Actor, order_id: uuid.UUID) -> dict[str, Any]:
    """One order as the actor may see it."""
    async with uow:
        return describe(await load(uow, actor, order_id))


async def list_orders(uow: UnitOfWork, actor: Actor, limit: int, offset: int
                      ) -> list[dict[str, Any]]:
    """Orders the actor may see, newest first."""
    async with uow:
        found = await uow.orders.list(
            patient_id=actor.user_id if actor.role == Role.PATIENT.value else None,
            merchant_user_id=actor.user_id if actor.role == Role.PHARMACY.value else None,
            limit=limit, offset=offset)
        return [describe(order) for order in found]
