"""Delivery with a one-time code: the medicines change hands only when the patient gives the code.

When the pharmacy sends an order out, a 6-digit code goes to the patient through the notifier;
the patient's own screen may show it too (``code_for_patient``), but no staff response carries
it. The delivery person enters what the patient reads out. The code is checked against a keyed
hash (``otp.CodeHasher`` under a key of its own) and kept for the patient sealed at rest like
other PHI; it expires after ten minutes and allows three attempts; after the third wrong one the
order is escalated to support, who can issue a fresh code. On the right code the order is
delivered, its stock leaves the shelf and the held amount goes to the pharmacy less the
platform's commission.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from ...http.errors import NotFound
from ...http.principal import Role
from ..domain.audit import Actor
from ..domain.orders import Order
from ..notifier import Notifier
from ..otp import CodeHasher
from ..uow import UnitOfWork
from .orders import ENTITY, audit, describe, load
from .settlement import pay_merchant

PURPOSE = "delivery"
SUPPORT_ROLES = frozenset({Role.SUPPORT.value, Role.ADMIN.value})


@dataclass(frozen=True)
class DeliveryCodes:
    """How delivery codes are made and checked (from settings, built by the bootstrap)."""

    hasher: CodeHasher
    ttl_seconds: int
    max_attempts: int

    def _fresh(self, order: Order, now: datetime) -> tuple[str, str, datetime]:
        code = self.hasher.new_code()
        return code, self.hasher.hash(_subject(order.id), code), now + timedelta(
            seconds=self.ttl_seconds)

    def issue(self, order: Order, now: datetime) -> str:
        """Give ``order`` its first code; returns the plain code to send (the order keeps it
        sealed, for its patient's screen only)."""
        code, code_hash, expires_at = self._fresh(order, now)
        order.issue_code(code_hash, expires_at, code)
        return code

    def reissue(self, order: Order, now: datetime, *, by_support: bool) -> str:
        """Replace the code of an order out for delivery; returns the plain code."""
        code, code_hash, expires_at = self._fresh(order, now)
        order.reissue_code(code_hash, expires_at, by_support=by_support, code=code)
        return code

    def matches(self, order: Order, code: str) -> bool:
        """Whether ``code`` is the order's current code."""
        return order.otp_hash is not None and self.hasher.matches(
            _subject(order.id), code, order.otp_hash)


def _subject(order_id: uuid.UUID) -> str:
    return f"delivery:{order_id}"  # a code is bound to its order


async def _phone(uow: UnitOfWork, order: Order) -> str:
    patient = await uow.users.get(order.patient_id)
    return (patient.phone or "") if patient else ""


async def dispatch(uow: UnitOfWork, notifier: Notifier, codes: DeliveryCodes, actor: Actor,
                   order_id: uuid.UUID) -> dict[str, Any]:
    """Out for delivery: issue the code and send it to the patient."""
    async with uow:
        order = await load(uow, actor, order_id, lock=True)
        before = order.status
        order.dispatch(uow.clock())
        audit(uow, actor, order, "order_out_for_delivery", before)
        code = codes.issue(order, uow.clock())
        phone = await _phone(uow, order)
        uow.record(actor, "delivery_otp_sent", ENTITY, order.id,
                   new={"ttl": codes.ttl_seconds})
        await uow.commit()
        body = describe(order)
    await notifier.send_code(phone, code, PURPOSE)
    return body


async def resend(uow: UnitOfWork, notifier: Notifier, codes: DeliveryCodes, actor: Actor,
                 order_id: uuid.UUID) -> dict[str, Any]:
    """A fresh code; after escalation only support or an admin may issue it."""
    async with uow:
        order = await load(uow, actor, order_id, lock=True)
        escalated_before = order.otp_escalated
        code = codes.reissue(order, uow.clock(), by_support=actor.role in SUPPORT_ROLES)
        phone = await _phone(uow, order)
        uow.record(actor, "delivery_otp_resent", ENTITY, order.id,
                   new={"escalated_before": escalated_before})
        await uow.commit()
        body = describe(order)
    await notifier.send_code(phone, code, PURPOSE)
    return body


async def code_for_patient(uow: UnitOfWork, actor: Actor, order_id: uuid.UUID
                           ) -> dict[str, Any]:
    """The current delivery code, for the order's own patient only (an audited read).

    The patient reads it out at the door, as from the SMS; nobody else, staff included, is
    given it (the pharmacy must hear it from the patient).
    """
    async with uow:
        order = await load(uow, actor, order_id)
        if actor.role != Role.PATIENT.value or order.patient_id != actor.user_id:
            raise NotFound("no such order")
        code = order.code_for_patient(uow.clock())
        uow.record(actor, "delivery_code_viewed", ENTITY, order.id)
        await uow.commit()
        return {"order_id": str(order.id), "code": code,
                "expires_at": order.otp_expires_at.isoformat() if order.otp_expires_at
                else None}


async def confirm(uow: UnitOfWork, codes: DeliveryCodes, commission_percent: Decimal,
                  actor: Actor, order_id: uuid.UUID, code: str) -> dict[str, Any]:
    """Check the code; on success deliver, take the stock off the shelf and pay the pharmacy.

    Raises:
        Unauthorized: wrong (``DELIVERY_OTP_INVALID``) or expired (``DELIVERY_OTP_EXPIRED``) code.
        RateLimited: attempts are used up; the order is escalated to support.
    """
    async with uow:
        order = await load(uow, actor, order_id, lock=True)
        now = uow.clock()
        order.ensure_awaiting_code(now)
        if not codes.matches(order, code):
            error = order.wrong_code(codes.max_attempts, now)
            uow.record(actor, "delivery_otp_escalated" if order.otp_escalated
                       else "delivery_otp_failed", ENTITY, order.id,
                       new={"attempts": order.otp_attempts})
            await uow.commit()  # the count must survive the failed request
            raise error
        before = order.status
        order.deliver(now)
        audit(uow, actor, order, "order_delivered", before)
        packs = order.packs()
        shelves = await uow.stock.lock(order.merchant_id, list(packs))
        for medicine_id, count in packs.items():
            if medicine_id in shelves:
                shelves[medicine_id].hand_over(count)
        payout = await pay_merchant(uow, actor, ENTITY, order, commission_percent)
        await uow.commit()
        return {**describe(order), "payout": payout}
