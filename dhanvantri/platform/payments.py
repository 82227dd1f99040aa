"""Payments: pay by gateway or wallet, checkout confirmation, webhooks, full and partial refunds.

What a payment is *for* (an order, a lab booking, a wallet top-up) plugs in through ``PURPOSES``:
the purpose's ``captured`` hook reserves stock or a slot; when it cannot, the money is refunded at
once. Money paid for a service is held in ``escrow`` until delivery (see ``settlement.py``).

Capture is idempotent on the payment's state, so a checkout callback and its webhook, or a
replayed webhook, move money once; webhook events are also remembered by id.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.exc import IntegrityError

from ..http.errors import ApiError, Conflict, NotFound
from . import ledger
from .commerce_tables import payments, refunds, webhook_events
from .domain.audit import SYSTEM, Actor
from .domain.commerce import from_paise, text, to_paise
from .gateways import PaymentGateway
from .ledger import Leg
from .uow import UnitOfWork

ENTITY = "payment"
log = logging.getLogger(__name__)


class InvalidSignature(ApiError):
    """A checkout or webhook signature did not verify."""

    code = "INVALID_SIGNATURE"


Hook = Callable[[UnitOfWork, Row[Any], Actor], Awaitable[Any]]


@dataclass(frozen=True)
class Purpose:
    """What happens to the thing paid for when its payment is captured or fully refunded."""

    captured: Hook  # returns False when it cannot be fulfilled (the money goes back)
    refunded: Hook
    refundable: Hook  # raises Conflict when the money has already been paid out


PURPOSES: dict[str, Purpose] = {}


def describe(row: Row[Any]) -> dict[str, Any]:
    """A payment as JSON (money as strings)."""
    return {"id": str(row.id), "purpose": row.purpose,
            "reference_id": str(row.reference_id) if row.reference_id else None,
            "method": row.method, "gateway": row.gateway,
            "gateway_order_id": row.gateway_order_id,
            "gateway_payment_id": row.gateway_payment_id, "amount": text(row.amount),
            "refunded": text(row.refunded), "status": row.status}


async def load(uow: UnitOfWork, payment_id: uuid.UUID, *, lock: bool = True) -> Row[Any]:
    """A payment row, locked until commit by default."""
    query = select(payments).where(payments.c.id == payment_id)
    row = (await uow.session.execute(query.with_for_update() if lock else query)).first()
    if row is None:
        raise NotFound("no such payment")
    return row


def _source(row: Row[Any]) -> Leg:
    # Where the money came from, as a ledger leg with a zero amount to be filled in.
    if row.method == "wallet":
        return Leg(ledger.WALLET, str(row.user_id), Decimal(0))
    return Leg(ledger.GATEWAY, ledger.SYSTEM_OWNER, Decimal(0))


def _target(row: Row[Any]) -> Leg:
    if row.purpose == "wallet_topup":
        return Leg(ledger.WALLET, str(row.user_id), Decimal(0))
    return Leg(ledger.ESCROW, ledger.SYSTEM_OWNER, Decimal(0))


def _move(frm: Leg, to: Leg, amount: Decimal) -> list[Leg]:
    return [Leg(frm.kind, frm.owner, -amount), Leg(to.kind, to.owner, amount)]


async def _set(uow: UnitOfWork, actor: Actor, row: Row[Any], action: str, **values: Any
               ) -> Row[Any]:
    values["updated_at"] = uow.clock()
    await uow.session.execute(payments.update().where(payments.c.id == row.id).values(**values))
    new = await load(uow, row.id, lock=False)
    uow.record(actor, action, ENTITY, row.id, old={"status": row.status,
                                                  "refunded": text(row.refunded)},
               new={"status": new.status, "refunded": text(new.refunded),
                    "amount": text(new.amount)})
    return new


async def start(uow: UnitOfWork, gateway: PaymentGateway, actor: Actor, purpose: str,
                reference_id: uuid.UUID | None, amount: Decimal, method: str
                ) -> dict[str, Any]:
    """Stage a payment inside an open unit of work (the caller commits).

    ``wallet``: captured at once from the payer's wallet. ``gateway``: an order is created at the
    gateway and the client pays it at checkout; capture follows on confirmation or webhook.
    """
    assert actor.user_id is not None
    now, payment_id = uow.clock(), uuid.uuid4()
    gateway_order = None
    if method == "gateway":
        gateway_order = await gateway.create_order(to_paise(amount), str(payment_id))
        if gateway_order.amount_paise != to_paise(amount):
            raise Conflict("gateway changed the amount", code="GATEWAY_MISMATCH")
    await uow.session.execute(payments.insert().values(
        id=payment_id, user_id=actor.user_id, purpose=purpose, reference_id=reference_id,
        method=method, gateway=gateway.name if gateway_order else None,
        gateway_order_id=gateway_order.id if gateway_order else None, amount=amount,
        refunded=Decimal("0.00"), status="created", created_at=now, updated_at=now))
    row = await load(uow, payment_id)
    uow.record(actor, "payment_created", ENTITY, payment_id,
               new={"purpose": purpose, "method": method, "amount": text(amount),
                    "reference_id": str(reference_id) if reference_id else None})
    if method == "wallet":
        row = await _capture(uow, gateway, actor, row, None)
        if row.status != "captured":
            raise Conflict("could not be fulfilled; nothing was charged", code="OUT_OF_STOCK")
        return {"payment": describe(row)}
    assert gateway_order is not None
    return {"payment": describe(row), "checkout": {
        "gateway": gateway.name, "key_id": gateway.key_id, "order_id": gateway_order.id,
        "amount_paise": gateway_order.amount_paise, "currency": gateway_order.currency}}


async def _capture(uow: UnitOfWork, gateway: PaymentGateway, actor: Actor, row: Row[Any],
                   gateway_payment_id: str | None) -> Row[Any]:
    if row.status != "created":
        return row  # already captured (a replayed webhook or a second confirmation)
    hooks = PURPOSES.get(row.purpose)
    fulfilled = True if hooks is None else await hooks.captured(uow, row, actor)
    if not fulfilled and row.method == "wallet":
        return row  # nothing moved; the caller rolls back
    await ledger.post(uow.session, "payment", row.id,
                      _move(_source(row), _target(row), row.amount), uow.clock())
    row = await _set(uow, actor, row, "payment_captured", status="captured",
                     gateway_payment_id=gateway_payment_id)
    log.info("payment captured id=%s purpose=%s method=%s fulfilled=%s", row.id, row.purpose,
             row.method, fulfilled)
    if not fulfilled:
        row = await _refund(uow, gateway, actor, row, row.amount, "source",
                            "could not be fulfilled", hooks_ok=True)
    return row


async def confirm(uow: UnitOfWork, gateway: PaymentGateway, actor: Actor,
                  payment_id: uuid.UUID, gateway_payment_id: str, signature: str
                  ) -> dict[str, Any]:
    """The client's checkout callback: verify ``order_id|payment_id`` and capture."""
    async with uow:
        row = await load(uow, payment_id)
        if row.user_id != actor.user_id or row.method != "gateway":
            raise NotFound("no such payment")
        if not gateway.verify_checkout(row.gateway_order_id, gateway_payment_id, signature):
            raise InvalidSignature("payment signature does not verify")
        row = await _capture(uow, gateway, actor, row, gateway_payment_id)
        await uow.commit()
        return describe(row)


async def webhook(uow: UnitOfWork, gateway: PaymentGateway, body: bytes, signature: str,
                  event_id: str) -> dict[str, Any]:
    """A gateway webhook: verified on the raw body, remembered by event id, applied once."""
    if not signature or not gateway.verify_webhook(body, signature):
        raise InvalidSignature("webhook signature does not verify")
    try:
        event = json.loads(body)
        kind = str(event["event"])
        entity = event["payload"]["payment"]["entity"]
        order_id, pay_id, paise = str(entity["order_id"]), str(entity["id"]), int(entity["amount"])
    except (ValueError, KeyError, TypeError) as exc:
        raise ApiError("webhook body is not a payment event", code="BAD_WEBHOOK") from exc
    async with uow:
        try:
            async with uow.session.begin_nested():
                await uow.session.execute(webhook_events.insert().values(
                    id=event_id[:128], event=kind[:64], received_at=uow.clock()))
        except IntegrityError:
            return {"status": "duplicate"}
        row = (await uow.session.execute(select(payments).where(
            payments.c.gateway_order_id == order_id).with_for_update())).first()
        outcome = "ignored"
        if row is not None and kind in ("payment.captured", "order.paid"):
            if from_paise(paise) != row.amount:
                raise Conflict("webhook amount differs from the payment", code="AMOUNT_MISMATCH")
            before = row.status
            row = await _capture(uow, gateway, SYSTEM, row, pay_id)
            outcome = "captured" if before == "created" else "already_captured"
        await uow.commit()
        return {"status": outcome}


async def refund(uow: UnitOfWork, gateway: PaymentGateway, actor: Actor, row: Row[Any],
                 amount: Decimal | None, destination: str, reason: str) -> Row[Any]:
    """Refund inside an open unit of work: all that remains (``amount`` None) or part of it."""
    hooks = PURPOSES.get(row.purpose)
    if hooks is not None:
        await hooks.refundable(uow, row, actor)
    return await _refund(uow, gateway, actor, row, amount, destination, reason)


async def _refund(uow: UnitOfWork, gateway: PaymentGateway | None, actor: Actor, row: Row[Any],
                  amount: Decimal | None, destination: str, reason: str, *,
                  hooks_ok: bool = False) -> Row[Any]:
    if row.status not in ("captured", "partially_refunded"):
        raise Conflict(f"cannot refund a payment that is {row.status}", code="INVALID_STATE")
    remaining = row.amount - row.refunded
    amount = remaining if amount is None else amount
    if amount <= 0 or amount > remaining:
        raise Conflict("refund exceeds what remains", code="REFUND_TOO_LARGE",
                       details={"remaining": text(remaining)})
    to_wallet = destination == "wallet" or row.method == "wallet"
    target = Leg(ledger.WALLET, str(row.user_id), Decimal(0)) if to_wallet else _source(row)
    await ledger.post(uow.session, "refund", row.id, _move(_target(row), target, amount),
                      uow.clock())
    gateway_refund = None
    if not to_wallet and gateway is not None and row.gateway_payment_id:
        gateway_refund = await gateway.refund(row.gateway_payment_id, to_paise(amount))
    await uow.session.execute(refunds.insert().values(
        id=uuid.uuid4(), payment_id=row.id, amount=amount,
        destination="wallet" if to_wallet else "source", gateway_refund_id=gateway_refund,
        reason=reason, created_at=uow.clock()))
    refunded = row.refunded + amount
    log.info("payment refunded id=%s destination=%s", row.id,
             "wallet" if to_wallet else "source")
    full = refunded == row.amount
    row = await _set(uow, actor, row, "payment_refunded", refunded=refunded,
                     status="refunded" if full else "partially_refunded")
    hooks = PURPOSES.get(row.purpose)
    if full and hooks is not None and not hooks_ok:
        await hooks.refunded(uow, row, actor)
    return row
