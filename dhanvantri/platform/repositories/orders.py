"""Pharmacy orders with their lines."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ..domain.orders import Order
from ..tables.commerce import merchants, orders


class OrderRepository:
    """Orders; their lines load and save with them."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, order: Order) -> None:
        """Stage a new order (and its lines)."""
        self.session.add(order)

    async def get(self, order_id: uuid.UUID, *, lock: bool = False) -> Order | None:
        """An order; ``lock`` holds it until commit and reads it afresh."""
        return await self.session.get(Order, order_id, with_for_update=lock or None,
                                      populate_existing=lock)

    async def list(self, *, patient_id: uuid.UUID | None = None,
                   merchant_user_id: uuid.UUID | None = None, limit: int = 50, offset: int = 0
                   ) -> Sequence[Order]:
        """Orders newest first: of one patient, of the pharmacies one user runs, or all."""
        query = select(Order)
        if patient_id is not None:
            query = query.where(orders.c.patient_id == patient_id)
        if merchant_user_id is not None:
            query = query.join(merchants, merchants.c.id == orders.c.merchant_id).where(
                merchants.c.user_id == merchant_user_id)
        query = query.order_by(orders.c.created_at.desc(), orders.c.id)
        return (await self.session.scalars(query.limit(limit).offset(offset))).all()
