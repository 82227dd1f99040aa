"""Delivery with a one-time code: the medicines change hands only when the patient gives the code.

When the pharmacy sends an order out, a 6-digit code goes to the patient (through the notifier,
never an HTTP response). The delivery person enters what the patient reads out. The code is
stored as HMAC-SHA256 under a server key, expires after ten minutes and allows three attempts;
after the third wrong one the order is escalated to support, who can issue a fresh code. On the
right code the order is delivered, its stock leaves the shelf and the held amount goes to the
pharmacy less the platform's commission.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from ..http.errors import Conflict, RateLimited, Unauthorized
from ..http.principal import Role
from . import payments
from .commerce_tables import order_items, orders, stock
from .domain.audit import Actor
from .domain.commerce import OrderStatus, order_step
from .notifier import Notifier
from .orders import ENTITY, _set, describe, load
from .settlement import pay_merchant
from .uow import UnitOfWork

PURPOSE = "delivery"


def code_hash(key: bytes, order_id: uuid.UUID, code: str) -> str:
    """The stored form of a delivery code (bound to its order)."""
    return hmac.new(key, f"delivery:{order_id}:{code}".encode(), hashlib.sha256).hexdigest()


async def _issue(uow: UnitOfWork, key: bytes, ttl_seconds: int, row: Any) -> tuple[str, str]:
    code = f"{secrets.randbelow(10**6):06d}"
    await uow.session.execute(orders.update().where(orders.c.id == row.id).values(
        otp_hash=code_hash(key, row.id, code),
        otp_expires_at=uow.clock() + timedelta(seconds=ttl_seconds), otp_attempts=0,
        otp_escalated=False))
    user = await uow.users.get(row.patient_id)
    return code, (user.phone or "") if user else ""


async def dispatch(uow: UnitOfWork, notifier: Notifier, key: bytes, ttl_seconds: int,
                   actor: Actor, order_id: uuid.UUID) -> dict[str, Any]:
    """Out for delivery: issue the code and send it to the patient."""
    async with uow:
        row = await load(uow, actor, order_id, lock=True)
        row = await _set(uow, actor, row, "order_out_for_delivery",
                         status=order_step(row.status, "dispatch"))
        code, phone = await _issue(uow, key, ttl_seconds, row)
        uow.record(actor, "delivery_otp_sent", ENTITY, row.id, new={"ttl": ttl_seconds})
        await uow.commit()
        body = await describe(uow, (await uow.session.execute(
            select(orders).where(orders.c.id == row.id))).one())
    await notifier.send_code(phone, code, PURPOSE)
    return body


async def resend(uow: UnitOfWork, notifier: Notifier, key: bytes, ttl_seconds: int,
                 actor: Actor, order_id: uuid.UUID) -> dict[str, Any]:
    """A fresh code; after escalation only support or an admin may issue it."""
    async with uow:
        row = await load(uow, actor, order_id, lock=True)
        if row.status != OrderStatus.OUT_FOR_DELIVERY.value:
            raise Conflict("the order is not out for delivery", code="INVALID_STATE")
        if row.otp_escalated and actor.role not in (Role.SUPPORT.value, Role.ADMIN.value):
            raise Conflict("escalated to support", code="DELIVERY_ESCALATED")
        code, phone = await _issue(uow, key, ttl_seconds, row)
        uow.record(actor, "delivery_otp_resent", ENTITY, row.id,
                   new={"escalated_before": row.otp_escalated})
        await uow.commit()
        body = await describe(uow, (await uow.session.execute(
            select(orders).where(orders.c.id == row.id))).one())
    await notifier.send_code(phone, code, PURPOSE)
    return body


async def confirm(uow: UnitOfWork, key: bytes, max_attempts: int, commission_percent: Any,
                  actor: Actor, order_id: uuid.UUID, code: str) -> dict[str, Any]:
    """Check the code; on success deliver, take the stock off the shelf and pay the pharmacy.

    Raises:
        Unauthorized: wrong (``DELIVERY_OTP_INVALID``) or expired (``DELIVERY_OTP_EXPIRED``) code.
        RateLimited: attempts are used up; the order is escalated to support.
    """
    async with uow:
        row = await load(uow, actor, order_id, lock=True)
        if row.status != OrderStatus.OUT_FOR_DELIVERY.value or row.otp_hash is None:
            raise Conflict("the order is not out for delivery", code="INVALID_STATE",
                           details={"status": row.status})
        if row.otp_escalated:
            raise RateLimited("too many wrong codes; support has been alerted",
                              code="DELIVERY_ESCALATED", details={"retry_after": 600})
        if uow.clock() >= row.otp_expires_at:
            raise Unauthorized("the delivery code has expired", code="DELIVERY_OTP_EXPIRED")
        if not hmac.compare_digest(code_hash(key, row.id, code), row.otp_hash):
            attempts = row.otp_attempts + 1
            escalated = attempts >= max_attempts
            await uow.session.execute(orders.update().where(orders.c.id == row.id).values(
                otp_attempts=attempts, otp_escalated=escalated, updated_at=uow.clock()))
            uow.record(actor, "delivery_otp_escalated" if escalated else "delivery_otp_failed",
                       ENTITY, row.id, new={"attempts": attempts})
            await uow.commit()  # the count must survive the failed request
            if escalated:
                raise RateLimited("too many wrong codes; support has been alerted",
                                  code="DELIVERY_ESCALATED", details={"retry_after": 600})
            raise Unauthorized("wrong delivery code", code="DELIVERY_OTP_INVALID",
                               details={"attempts_left": max_attempts - attempts})
        now = uow.clock()
        row = await _set(uow, actor, row, "order_delivered",
                         status=order_step(row.status, "deliver"), otp_hash=None,
                         delivered_at=now)
        for item in (await uow.session.execute(select(order_items).where(
                order_items.c.order_id == row.id))).all():
            await uow.session.execute(stock.update().where(
                stock.c.merchant_id == row.merchant_id,
                stock.c.medicine_id == item.medicine_id).values(
                quantity=stock.c.quantity - item.quantity,
                reserved=stock.c.reserved - item.quantity))
        payment = await payments.load(uow, row.payment_id)
        payout = await pay_merchant(uow, actor, row.merchant_id, ENTITY, row.id, payment,
                                    commission_percent)
        await uow.commit()
        body = await describe(uow, row)
        body["payout"] = payout
        return body
