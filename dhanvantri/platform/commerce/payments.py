"""Payments: pay by gateway or wallet, checkout confirmation, webhooks, full and partial refunds.

What a payment is *for* plugs in through ``Purpose``: its ``captured`` hook reserves stock or a
slot, and when it cannot, the money goes back at once. The ``Cashier`` is given the purposes when
it is built (``bootstrap.py``), so nothing registers itself at import time.

Capture is idempotent on the payment's state, so a checkout callback and its webhook, or a
replayed webhook, move money once; webhook events are also remembered by id.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ...http.errors import ApiError, Conflict, NotFound, ValidationFailed
from ..domain.audit import SYSTEM, Actor
from ..domain.ledger import move
from ..domain.money import from_paise, text, to_paise
from ..domain.payments import Payment, PaymentStatus, Refund
from ..gateways import PaymentGateway
from ..uow import UnitOfWork

ENTITY = "payment"
log = logging.getLogger(__name__)


class InvalidSignature(ApiError):
    """A checkout or webhook signature did not verify."""

    code = "INVALID_SIGNATURE"


Hook = Callable[[UnitOfWork, Payment, Actor], Awaitable[Any]]


@dataclass(frozen=True)
class Purpose:
    """What happens to the thing paid for when its payment is captured or fully refunded."""

    captured: Hook  # returns False when it cannot be fulfilled (the money goes back)
    refunded: Hook
    refundable: Hook  # raises Conflict when the money has already been paid out


def describe(payment: Payment) -> dict[str, Any]:
    """A payment as JSON (money as strings)."""
    return {"id": str(payment.id), "purpose": payment.purpose,
            "reference_id": str(payment.reference_id) if payment.reference_id else None,
            "method": payment.method, "gateway": payment.gateway,
            "gateway_order_id": payment.gateway_order_id,
            "gateway_payment_id": payment.gateway_payment_id, "amount": text(payment.amount),
            "refunded": text(payment.refunded), "status": payment.status.value}


async def load(uow: UnitOfWork, payment_id: uuid.UUID | None, *, lock: bool = True) -> Payment:
    """A payment, locked until commit by default; ``NotFound`` when there is none."""
    payment = None if payment_id is None else await uow.payments.get(payment_id, lock=lock)
    if payment is None:
        raise NotFound("no such payment")
    return payment


def _audit(uow: UnitOfWork, actor: Actor, payment: Payment, action: str,
           before: dict[str, Any]) -> None:
    uow.record(actor, action, ENTITY, payment.id, old=before,
               new={**payment.snapshot(), "amount": text(payment.amount)})


class Cashier:
    """Takes payments through one gateway (or the wallet) for the purposes it was given."""

    def __init__(self, gateway: PaymentGateway, purposes: Mapping[str, Purpose]) -> None:
        self.gateway = gateway
        self.purposes = dict(purposes)

    async def start(self, uow: UnitOfWork, actor: Actor, purpose: str,
                    reference_id: uuid.UUID | None, amount: Decimal, method: str
                    ) -> dict[str, Any]:
        """Stage a payment inside an open unit of work (the caller commits).

        ``wallet``: captured at once from the payer's wallet. ``gateway``: an order is created
        at the gateway and the client pays it at checkout; capture follows on confirmation or
        webhook.
        """
        assert actor.user_id is not None
        if amount <= 0:  # the schemas refuse it too; a use case calling in must not slip by
            raise ValidationFailed.field("amount", "must be more than zero")
        payment = Payment(user_id=actor.user_id, purpose=purpose, reference_id=reference_id,
                          method=method, amount=amount)
        gateway_order = None
        if method == "gateway":
            gateway_order = await self.gateway.create_order(to_paise(amount), str(payment.id))
            if gateway_order.amount_paise != to_paise(amount):
                raise Conflict("gateway changed the amount", code="GATEWAY_MISMATCH")
            payment.gateway, payment.gateway_order_id = self.gateway.name, gateway_order.id
        payment.touch(uow.clock())
        uow.payments.add(payment)
        uow.record(actor, "payment_created", ENTITY, payment.id,
                   new={"purpose": purpose, "method": method, "amount": text(amount),
                        "reference_id": str(reference_id) if reference_id else None})
        if gateway_order is None:
            await self._capture(uow, actor, payment, None)
            if payment.status != PaymentStatus.CAPTURED:
                raise Conflict("could not be fulfilled; nothing was charged", code="OUT_OF_STOCK")
            return {"payment": describe(payment)}
        return {"payment": describe(payment), "checkout": {
            "gateway": self.gateway.name, "key_id": self.gateway.key_id,
            "order_id": gateway_order.id, "amount_paise": gateway_order.amount_paise,
            "currency": gateway_order.currency}}

    async def _capture(self, uow: UnitOfWork, actor: Actor, payment: Payment,
                       gateway_payment_id: str | None) -> None:
        if payment.status != PaymentStatus.CREATED:
            return  # already captured (a replayed webhook or a second confirmation)
        hooks = self.purposes.get(payment.purpose)
        fulfilled = True if hooks is None else await hooks.captured(uow, payment, actor)
        if not fulfilled and payment.method == "wallet":
            return  # nothing moved; the caller rolls back
        await uow.ledger.post("payment", payment.id,
                              move(payment.source(), payment.target(), payment.amount),
                              uow.clock())
        before = payment.snapshot()
        payment.capture(gateway_payment_id, uow.clock())
        _audit(uow, actor, payment, "payment_captured", before)
        log.info("payment captured id=%s purpose=%s method=%s fulfilled=%s", payment.id,
                 payment.purpose, payment.method, fulfilled)
        if not fulfilled:
            await self._refund(uow, actor, payment, None, "source", "could not be fulfilled",
                               notify=False)

    async def confirm(self, uow: UnitOfWork, actor: Actor, payment_id: uuid.UUID,
                      gateway_payment_id: str, signature: str) -> dict[str, Any]:
        """The client's checkout callback: verify ``order_id|payment_id`` and capture."""
        async with uow:
            payment = await load(uow, payment_id)
            if payment.user_id != actor.user_id or payment.method != "gateway":
                raise NotFound("no such payment")
            if not self.gateway.verify_checkout(payment.gateway_order_id or "",
                                                gateway_payment_id, signature):
                raise InvalidSignature("payment signature does not verify")
            await self._capture(uow, actor, payment, gateway_payment_id)
            await uow.commit()
            return describe(payment)

    async def decline(self, uow: UnitOfWork, actor: Actor, payment_id: uuid.UUID,
                      reason: str) -> dict[str, Any]:
        """The patient's checkout failed (declined): the payment is over and nothing moved.

        The thing paid for stays as it was, so the patient can start a new payment for it.
        """
        async with uow:
            payment = await load(uow, payment_id)
            if payment.user_id != actor.user_id or payment.method != "gateway":
                raise NotFound("no such payment")
            before = payment.snapshot()
            payment.fail(uow.clock())
            uow.record(actor, "payment_failed", ENTITY, payment.id, old=before,
                       new={**payment.snapshot(), "reason": reason})
            await uow.commit()
            log.info("payment failed id=%s purpose=%s", payment.id, payment.purpose)
            return describe(payment)

    async def webhook(self, uow: UnitOfWork, body: bytes, signature: str, event_id: str
                      ) -> dict[str, Any]:
        """A gateway webhook: verified on the raw body, remembered by event id, applied once."""
        if not signature or not self.gateway.verify_webhook(body, signature):
            raise InvalidSignature("webhook signature does not verify")
        try:
            event = json.loads(body)
            kind = str(event["event"])
            entity = event["payload"]["payment"]["entity"]
            order_id, pay_id = str(entity["order_id"]), str(entity["id"])
            paise = int(entity["amount"])
        except (ValueError, KeyError, TypeError) as exc:
            raise ApiError("webhook body is not a payment event", code="BAD_WEBHOOK") from exc
        async with uow:
            if not await uow.payments.remember_webhook(event_id, kind, uow.clock()):
                return {"status": "duplicate"}
            payment = await uow.payments.by_gateway_order(order_id)
            outcome = "ignored"
            if payment is not None and kind in ("payment.captured", "order.paid"):
                if from_paise(paise) != payment.amount:
                    raise Conflict("webhook amount differs from the payment",
                                   code="AMOUNT_MISMATCH")
                before = payment.status
                await self._capture(uow, SYSTEM, payment, pay_id)
                outcome = "captured" if before == PaymentStatus.CREATED else "already_captured"
            await uow.commit()
            return {"status": outcome}

    async def refund(self, uow: UnitOfWork, actor: Actor, payment: Payment,
                     amount: Decimal | None, destination: str, reason: str) -> Payment:
        """Refund inside an open unit of work: all that remains (``amount`` None) or part."""
        hooks = self.purposes.get(payment.purpose)
        if hooks is not None:
            await hooks.refundable(uow, payment, actor)
        await self._refund(uow, actor, payment, amount, destination, reason, notify=True)
        return payment

    async def _refund(self, uow: UnitOfWork, actor: Actor, payment: Payment,
                      amount: Decimal | None, destination: str, reason: str, *,
                      notify: bool) -> None:
        # notify: tell the purpose when the money is all back (not when its own capture hook
        # refused, which already settled the thing paid for).
        before, now = payment.snapshot(), uow.clock()
        to_wallet = payment.refunds_to_wallet(destination)
        target = payment.refund_target(destination)
        amount = payment.refund(amount, now)
        await uow.ledger.post("refund", payment.id, move(payment.target(), target, amount), now)
        gateway_refund = None
        if not to_wallet and payment.gateway_payment_id:
            gateway_refund = await self.gateway.refund(payment.gateway_payment_id,
                                                       to_paise(amount))
        uow.payments.add(Refund(payment_id=payment.id, amount=amount,
                                destination="wallet" if to_wallet else "source",
                                gateway_refund_id=gateway_refund, reason=reason,
                                created_at=now))
        log.info("payment refunded id=%s destination=%s", payment.id,
                 "wallet" if to_wallet else "source")
        _audit(uow, actor, payment, "payment_refunded", before)
        hooks = self.purposes.get(payment.purpose)
        if notify and payment.fully_refunded and hooks is not None:
            await hooks.refunded(uow, payment, actor)
