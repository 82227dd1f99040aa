"""Paying merchants after delivery, and the settlement report per merchant.

On delivery (pharmacy) or report (lab) the amount held in escrow for it, less refunds, is split:
the platform's commission to ``platform`` and the rest to the merchant's ledger account. A
``payouts`` row per order or booking (unique) makes a second payout impossible.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import Row, func, select

from ..http.principal import Role
from . import ledger
from .commerce_tables import merchants, payouts
from .domain.audit import Actor
from .domain.commerce import commission, text
from .ledger import Leg
from .uow import UnitOfWork


async def pay_merchant(uow: UnitOfWork, actor: Actor, merchant_id: uuid.UUID,
                       reference_type: str, reference_id: uuid.UUID, payment: Row[Any],
                       percent: Decimal) -> dict[str, Any]:
    """Release the held amount to the merchant minus commission (inside an open unit of work)."""
    gross = payment.amount - payment.refunded
    fee = commission(gross, percent)
    net = gross - fee
    txn = await ledger.post(uow.session, "payout", reference_id, [
        Leg(ledger.ESCROW, ledger.SYSTEM_OWNER, -gross),
        Leg(ledger.MERCHANT, str(merchant_id), net),
        Leg(ledger.PLATFORM, ledger.SYSTEM_OWNER, fee)], uow.clock())
    values = {"merchant_id": merchant_id, "reference_type": reference_type,
              "reference_id": reference_id, "gross": gross, "commission": fee, "net": net}
    await uow.session.execute(payouts.insert().values(
        id=uuid.uuid4(), transaction_id=txn, created_at=uow.clock(), **values))
    uow.record(actor, "merchant_paid", reference_type, reference_id,
               new={**values, "percent": str(percent)})
    return {"gross": text(gross), "commission": text(fee), "net": text(net)}


async def report(uow: UnitOfWork, actor: Actor, merchant_id: uuid.UUID | None
                 ) -> list[dict[str, Any]]:
    """Per merchant: payouts count, gross, commission, net and the ledger balance.

    Admins see every merchant (or one); a pharmacy or lab user sees only its own.
    """
    async with uow:
        query = select(merchants).order_by(merchants.c.name, merchants.c.id)
        if actor.role != Role.ADMIN.value:
            query = query.where(merchants.c.user_id == actor.user_id)
        if merchant_id is not None:
            query = query.where(merchants.c.id == merchant_id)
        out = []
        for merchant in (await uow.session.execute(query)).all():
            sums = (await uow.session.execute(
                select(func.count(payouts.c.id), func.coalesce(func.sum(payouts.c.gross), 0),
                       func.coalesce(func.sum(payouts.c.commission), 0),
                       func.coalesce(func.sum(payouts.c.net), 0))
                .where(payouts.c.merchant_id == merchant.id))).one()
            items = (await uow.session.execute(
                select(payouts).where(payouts.c.merchant_id == merchant.id)
                .order_by(payouts.c.created_at, payouts.c.id).limit(200))).all()
            out.append({
                "merchant_id": str(merchant.id), "name": merchant.name, "kind": merchant.kind,
                "payouts": sums[0], "gross": text(Decimal(sums[1])),
                "commission": text(Decimal(sums[2])), "net": text(Decimal(sums[3])),
                "balance": text(await ledger.owner_balance(uow.session, ledger.MERCHANT,
                                                           str(merchant.id))),
                "items": [{"reference_type": p.reference_type,
                           "reference_id": str(p.reference_id), "gross": text(p.gross),
                           "commission": text(p.commission), "net": text(p.net),
                           "created_at": p.created_at.isoformat()} for p in items]})
        return out
