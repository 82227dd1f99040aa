"""Paying merchants after delivery, and the settlement report per merchant.

On delivery (pharmacy) or report (lab) the amount held in escrow for it, less refunds, is split:
the platform's commission to ``platform`` and the rest to the merchant's ledger account. A
payout per order or booking (unique) makes a second payout impossible.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any, Protocol

from ...http.principal import Role
from ..domain.audit import Actor
from ..domain.ledger import MERCHANT
from ..domain.money import text
from ..domain.settlement import Payout
from ..uow import UnitOfWork
from .payments import load


class Delivered(Protocol):
    """An order or booking whose service has been delivered."""

    id: uuid.UUID
    merchant_id: uuid.UUID
    payment_id: uuid.UUID | None


async def pay_merchant(uow: UnitOfWork, actor: Actor, reference_type: str, item: Delivered,
                       percent: Decimal) -> dict[str, str]:
    """Release what the item's payment holds to its merchant, less commission (inside an open
    unit of work); returns the split as JSON."""
    payment = await load(uow, item.payment_id)
    now = uow.clock()
    payout = Payout.split(merchant_id=item.merchant_id, reference_type=reference_type,
                          reference_id=item.id, gross=payment.held, percent=percent, now=now)
    payout.transaction_id = await uow.ledger.post("payout", item.id, payout.legs(), now)
    uow.payouts.add(payout)
    uow.record(actor, "merchant_paid", reference_type, item.id, new={
        "merchant_id": payout.merchant_id, "reference_type": reference_type,
        "reference_id": item.id, "gross": payout.gross, "commission": payout.commission,
        "net": payout.net, "percent": str(percent)})
    return {"gross": text(payout.gross), "commission": text(payout.commission),
            "net": text(payout.net)}


async def report(uow: UnitOfWork, actor: Actor, merchant_id: uuid.UUID | None
                 ) -> list[dict[str, Any]]:
    """Per merchant: payouts count, gross, commission, net and the ledger balance.

    Admins see every merchant (or one); a pharmacy or lab user sees only its own.
    """
    async with uow:
        found = await uow.merchants.list(
            user_id=None if actor.role == Role.ADMIN.value else actor.user_id,
            merchant_id=merchant_id)
        out = []
        for merchant in found:
            count, gross, fee, net = await uow.payouts.totals(merchant.id)
            out.append({
                "merchant_id": str(merchant.id), "name": merchant.name,
                "kind": merchant.kind.value, "payouts": count, "gross": text(gross),
                "commission": text(fee), "net": text(net),
                "balance": text(await uow.ledger.owner_balance(MERCHANT, str(merchant.id))),
                "items": [{"reference_type": p.reference_type,
                           "reference_id": str(p.reference_id), "gross": text(p.gross),
                           "commission": text(p.commission), "net": text(p.net),
                           "created_at": p.created_at.isoformat()}
                          for p in await uow.payouts.list(merchant.id)]})
        return out
