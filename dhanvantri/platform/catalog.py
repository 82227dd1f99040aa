"""Medicine catalogue: seeding, search, generic alternatives and stock by PIN code.

Schedules and "prescription required" come from the knowledge base's medicine table
(``dhanvantri.knowledge.medicines``), so the catalogue and the clinical checks agree.
"""

from __future__ import annotations

import json
import re
import uuid
from decimal import Decimal
from importlib import resources
from typing import Any

from sqlalchemy import Row, and_, case, func, literal_column, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from ..http.errors import NotFound
from ..knowledge.medicines import load_medicines, name_key
from .commerce_tables import medicines, merchants, stock
from .domain.audit import SYSTEM, Actor
from .domain.commerce import money, text
from .uow import UnitOfWork

OTC = "OTC"


def _seed_rows() -> list[dict[str, Any]]:
    raw = resources.files("dhanvantri.platform").joinpath("data/medicine_catalog.json")
    return list(json.loads(raw.read_text(encoding="utf-8"))["medicines"])


def _search_text(row: dict[str, Any], synonyms: tuple[str, ...]) -> str:
    return " ".join([row["brand"], row["generic"], *synonyms, row["strength"], row["form"]]
                    ).lower()


async def seed_catalog(uow: UnitOfWork, actor: Actor = SYSTEM) -> int:
    """Insert or update the shipped sample catalogue (by SKU); returns the number of SKUs."""
    table = load_medicines()
    rows = _seed_rows()
    async with uow:
        now = uow.clock()
        for row in rows:
            medicine = table.get(row["generic"])
            if medicine is None:
                raise ValueError(f"catalogue generic {row['generic']!r} is not in the "
                                 "knowledge base")
            values = {**row, "mrp": money(row["mrp"]), "price": money(row["price"]),
                      "schedule": medicine.schedule, "rx_required": medicine.schedule != OTC,
                      "search_text": _search_text(row, medicine.synonyms), "updated_at": now}
            existing = await uow.session.scalar(select(medicines.c.id)
                                                .where(medicines.c.sku == row["sku"]))
            if existing is None:
                await uow.session.execute(medicines.insert().values(
                    id=uuid.uuid4(), created_at=now, **values))
            else:
                await uow.session.execute(medicines.update()
                                          .where(medicines.c.id == existing).values(**values))
        uow.record(actor, "catalog_seeded", "medicine_catalog", "sample", new={"skus": len(rows)})
        await uow.commit()
    return len(rows)


def describe(row: Row[Any]) -> dict[str, Any]:
    """A catalogue row as JSON (money as strings)."""
    return {"id": str(row.id), "sku": row.sku, "brand": row.brand, "generic": row.generic,
            "strength": row.strength, "form": row.form, "pack": row.pack,
            "mrp": text(row.mrp), "price": text(row.price), "schedule": row.schedule,
            "rx_required": row.rx_required}


def _terms(query: str) -> list[str]:
    return [t for t in re.findall(r"[a-z0-9]+", query.lower()) if t][:8]


async def search(uow: UnitOfWork, query: str, limit: int = 20) -> list[dict[str, Any]]:
    """Medicines matching every word of ``query`` (brand, generic, synonym, strength).

    PostgreSQL uses full-text search with prefix matching; SQLite falls back to ``LIKE`` on
    each word. A brand the knowledge base knows (``"Crocin"``) also finds its generic's SKUs.
    """
    terms = _terms(query)
    if not terms:
        return []
    known = load_medicines().lookup(query)
    async with uow:
        session = uow.session
        if session.bind.dialect.name == "postgresql":
            tsquery = " & ".join(f"{t}:*" for t in terms)
            matches = func.to_tsvector(literal_column("'simple'"), medicines.c.search_text).op(
                "@@")(func.to_tsquery(literal_column("'simple'"), tsquery))
        else:
            matches = and_(*[medicines.c.search_text.like(f"%{t}%") for t in terms])
        condition = or_(matches, medicines.c.generic == known.generic) if known else matches
        # What the words matched comes first; the generic's other brands follow, cheapest first.
        rows = (await session.execute(
            select(medicines).where(condition)
            .order_by(case((matches, 0), else_=1), medicines.c.generic, medicines.c.price,
                      medicines.c.sku)
            .limit(limit))).all()
        return [describe(r) for r in rows]


async def alternatives(session: AsyncSession, row: Row[Any]) -> list[Row[Any]]:
    """Other SKUs of the same generic, same strength first, then cheapest."""
    rows = (await session.execute(
        select(medicines).where(medicines.c.generic == row.generic, medicines.c.id != row.id)
        .order_by(medicines.c.price, medicines.c.sku))).all()
    return sorted(rows, key=lambda r: (r.strength != row.strength, r.price))


async def available(session: AsyncSession, medicine_id: uuid.UUID, pin_code: str
                    ) -> list[dict[str, Any]]:
    """Pharmacies serving ``pin_code`` with unreserved packs of a medicine."""
    rows = (await session.execute(
        select(merchants.c.id, merchants.c.name, merchants.c.pin_codes,
               (stock.c.quantity - stock.c.reserved).label("free"))
        .join(stock, stock.c.merchant_id == merchants.c.id)
        .where(stock.c.medicine_id == medicine_id, merchants.c.kind == "pharmacy"))).all()
    return [{"pharmacy_id": str(r.id), "name": r.name, "available": r.free}
            for r in rows if pin_code in r.pin_codes and r.free > 0]


async def view(uow: UnitOfWork, medicine_id: uuid.UUID, pin_code: str | None
               ) -> dict[str, Any]:
    """One medicine with its generic alternatives and, given a PIN code, where it is in stock."""
    async with uow:
        row = (await uow.session.execute(
            select(medicines).where(medicines.c.id == medicine_id))).first()
        if row is None:
            raise NotFound("no such medicine")
        body = describe(row)
        body["alternatives"] = [describe(r) for r in await alternatives(uow.session, row)]
        if pin_code:
            body["stock"] = await available(uow.session, row.id, pin_code)
        return body


def cheaper(row: Row[Any], other: Row[Any]) -> Decimal:
    """What switching from ``row`` to ``other`` saves per pack."""
    return Decimal(row.price - other.price)


def brand_key(name: str) -> str:
    """The comparison key for a brand as written on a prescription line."""
    return name_key(re.sub(r"\b(tab|tablet|tablets|cap|capsule|capsules|syrup)\b", "",
                           name.lower()))
