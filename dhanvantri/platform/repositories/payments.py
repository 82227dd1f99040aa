"""Payments, their refunds, and the gateway webhook events already applied."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ..domain.payments import Payment, Refund
from ..tables.money import payments, webhook_events


class PaymentRepository:
    """Payments are read locked by default: capture and refund change money."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, item: Payment | Refund) -> None:
        """Stage a new payment or refund."""
        self.session.add(item)

    async def get(self, payment_id: uuid.UUID, *, lock: bool = True) -> Payment | None:
        """A payment, held until commit unless ``lock`` is False."""
        return await self.session.get(Payment, payment_id, with_for_update=lock or None,
                                      populate_existing=lock)

    async def by_gateway_order(self, order_id: str) -> Payment | None:
        """The payment a gateway order belongs to, held until commit."""
        return (await self.session.scalars(
            select(Payment).where(payments.c.gateway_order_id == order_id)
            .with_for_update().execution_options(populate_existing=True))).first()

    async def remember_webhook(self, event_id: str, event: str, now: datetime) -> bool:
        """Note a webhook event by id; False when it was seen before (a replay)."""
        try:
            async with self.session.begin_nested():
                await self.session.execute(webhook_events.insert().values(
                    id=event_id[:128], event=event[:64], received_at=now))
        except IntegrityError:
            return False
        return True
