"""Merchant payouts and their sums."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ..domain.settlement import Payout
from ..tables.money import payouts


class PayoutRepository:
    """Payouts (one per order or booking: the unique reference makes a second one fail)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, payout: Payout) -> None:
        """Stage a payout."""
        self.session.add(payout)

    async def totals(self, merchant_id: uuid.UUID) -> tuple[int, Decimal, Decimal, Decimal]:
        """How many payouts a merchant had, and their gross, commission and net sums."""
        count, gross, fee, net = (await self.session.execute(
            select(func.count(payouts.c.id), func.coalesce(func.sum(payouts.c.gross), 0),
                   func.coalesce(func.sum(payouts.c.commission), 0),
                   func.coalesce(func.sum(payouts.c.net), 0))
            .where(payouts.c.merchant_id == merchant_id))).one()
        return count, Decimal(gross), Decimal(fee), Decimal(net)

    async def list(self, merchant_id: uuid.UUID, limit: int = 200) -> Sequence[Payout]:
        """A merchant's payouts, oldest first."""
        return (await self.session.scalars(
            select(Payout).where(payouts.c.merchant_id == merchant_id)
            .order_by(payouts.c.created_at, payouts.c.id).limit(limit))).all()
