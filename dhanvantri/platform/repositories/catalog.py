"""Medicines, merchants (pharmacies and labs) and pharmacy stock."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import ColumnElement, and_, case, func, literal_column, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from ..domain.catalog import Medicine, Merchant, MerchantKind, Stock
from ..tables.commerce import medicines, merchants, stock


class MedicineRepository:
    """The medicine catalogue."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, medicine: Medicine) -> None:
        """Stage a new SKU."""
        self.session.add(medicine)

    async def get(self, medicine_id: uuid.UUID) -> Medicine | None:
        """A medicine by id."""
        return await self.session.get(Medicine, medicine_id)

    async def by_sku(self, sku: str) -> Medicine | None:
        """A medicine by SKU."""
        return (await self.session.scalars(
            select(Medicine).where(medicines.c.sku == sku))).first()

    async def list(self, generic: str | None = None) -> Sequence[Medicine]:
        """Every medicine (or every SKU of one generic), cheapest first."""
        query = select(Medicine).order_by(medicines.c.price, medicines.c.sku)
        if generic is not None:
            query = query.where(medicines.c.generic == generic)
        return (await self.session.scalars(query)).all()

    async def search(self, terms: Sequence[str], generic: str | None, limit: int
                     ) -> Sequence[Medicine]:
        """Medicines matching every term (prefixes), or of ``generic``; matches come first.

        PostgreSQL uses full-text search with prefix matching; SQLite falls back to ``LIKE`` on
        each term.
        """
        matches: ColumnElement[bool]
        if self.session.get_bind().dialect.name == "postgresql":
            tsquery = " & ".join(f"{t}:*" for t in terms)
            matches = func.to_tsvector(literal_column("'simple'"), medicines.c.search_text).op(
                "@@")(func.to_tsquery(literal_column("'simple'"), tsquery))
        else:
            matches = and_(*[medicines.c.search_text.like(f"%{t}%") for t in terms])
        condition = or_(matches, medicines.c.generic == generic) if generic else matches
        # What the words matched comes first; the generic's other brands follow, cheapest first.
        return (await self.session.scalars(
            select(Medicine).where(condition)
            .order_by(case((matches, 0), else_=1), medicines.c.generic, medicines.c.price,
                      medicines.c.sku)
            .limit(limit))).all()


class MerchantRepository:
    """Pharmacies and partner labs."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, merchant: Merchant) -> None:
        """Stage a new merchant."""
        self.session.add(merchant)

    async def get(self, merchant_id: uuid.UUID, kind: MerchantKind | None = None
                  ) -> Merchant | None:
        """A merchant by id (of one kind, when given)."""
        merchant = await self.session.get(Merchant, merchant_id)
        return None if merchant is None or (kind and merchant.kind != kind) else merchant

    async def list(self, *, kind: MerchantKind | None = None, user_id: uuid.UUID | None = None,
                   merchant_id: uuid.UUID | None = None) -> Sequence[Merchant]:
        """Merchants by name, optionally of one kind, run by one user, or just one."""
        query = select(Merchant).order_by(merchants.c.name, merchants.c.id)
        if kind is not None:
            query = query.where(merchants.c.kind == kind)
        if user_id is not None:
            query = query.where(merchants.c.user_id == user_id)
        if merchant_id is not None:
            query = query.where(merchants.c.id == merchant_id)
        return (await self.session.scalars(query)).all()


class StockRepository:
    """Packs on pharmacy shelves."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, item: Stock) -> None:
        """Stage a new shelf entry."""
        self.session.add(item)

    async def get(self, merchant_id: uuid.UUID, medicine_id: uuid.UUID) -> Stock | None:
        """One shelf entry, locked until commit (a count is read, then changed)."""
        return (await self.session.scalars(
            select(Stock).where(stock.c.merchant_id == merchant_id,
                                stock.c.medicine_id == medicine_id)
            .with_for_update().execution_options(populate_existing=True))).first()

    async def lock(self, merchant_id: uuid.UUID, medicine_ids: Sequence[uuid.UUID]
                   ) -> dict[uuid.UUID, Stock]:
        """Shelf entries of some medicines, locked until commit, by medicine.

        Locked in id order, so two orders of the same medicines never wait on each other.
        """
        found = await self.session.scalars(
            select(Stock).where(stock.c.merchant_id == merchant_id,
                                stock.c.medicine_id.in_(list(medicine_ids)))
            .order_by(stock.c.id).with_for_update()
            .execution_options(populate_existing=True))
        return {item.medicine_id: item for item in found}

    async def free(self, merchant_id: uuid.UUID) -> dict[uuid.UUID, int]:
        """Unreserved packs per medicine at one pharmacy."""
        found = await self.session.scalars(select(Stock).where(stock.c.merchant_id == merchant_id))
        return {item.medicine_id: item.free for item in found}

    async def offers(self, medicine_id: uuid.UUID) -> list[tuple[Merchant, Stock]]:
        """The pharmacies that keep a medicine, with their shelf entry."""
        rows = (await self.session.execute(
            select(Merchant, Stock).join(Stock, stock.c.merchant_id == merchants.c.id)
            .where(stock.c.medicine_id == medicine_id,
                   merchants.c.kind == MerchantKind.PHARMACY))).all()
        return [(merchant, item) for merchant, item in rows]
