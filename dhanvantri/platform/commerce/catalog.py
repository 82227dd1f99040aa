"""Medicine catalogue: seeding, search, generic alternatives and stock by PIN code.

Schedules and "prescription required" come from the knowledge base's medicine table
(``dhanvantri.knowledge.medicines``), so the catalogue and the clinical checks agree.
"""

from __future__ import annotations

import json
import re
import uuid
from importlib import resources
from typing import Any

from ...http.errors import NotFound
from ...knowledge.medicines import load_medicines, name_key
from ..domain.audit import SYSTEM, Actor
from ..domain.catalog import Medicine
from ..domain.money import money, text
from ..uow import UnitOfWork

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
            known = table.get(row["generic"])
            if known is None:
                raise ValueError(f"catalogue generic {row['generic']!r} is not in the "
                                 "knowledge base")
            values = {**row, "mrp": money(row["mrp"]), "price": money(row["price"]),
                      "schedule": known.schedule, "rx_required": known.schedule != OTC,
                      "search_text": _search_text(row, known.synonyms)}
            medicine = await uow.medicines.by_sku(row["sku"])
            if medicine is None:
                medicine = Medicine(**values)
                uow.medicines.add(medicine)
            else:
                for name, value in values.items():
                    setattr(medicine, name, value)
            medicine.touch(now)
        uow.record(actor, "catalog_seeded", "medicine_catalog", "sample", new={"skus": len(rows)})
        await uow.commit()
    return len(rows)


def describe(medicine: Medicine) -> dict[str, Any]:
    """A catalogue entry as JSON (money as strings)."""
    return {"id": str(medicine.id), "sku": medicine.sku, "brand": medicine.brand,
            "generic": medicine.generic, "strength": medicine.strength, "form": medicine.form,
            "pack": medicine.pack, "mrp": text(medicine.mrp), "price": text(medicine.price),
            "schedule": medicine.schedule, "rx_required": medicine.rx_required}


def _terms(query: str) -> list[str]:
    return [t for t in re.findall(r"[a-z0-9]+", query.lower()) if t][:8]


async def search(uow: UnitOfWork, query: str, limit: int = 20) -> list[dict[str, Any]]:
    """Medicines matching every word of ``query`` (brand, generic, synonym, strength).

    A brand the knowledge base knows (``"Crocin"``) also finds its generic's SKUs.
    """
    terms = _terms(query)
    if not terms:
        return []
    known = load_medicines().lookup(query)
    async with uow:
        found = await uow.medicines.search(terms, known.generic if known else None, limit)
        return [describe(m) for m in found]


async def alternatives(uow: UnitOfWork, medicine: Medicine) -> list[Medicine]:
    """Other SKUs of the same generic, same strength first, then cheapest."""
    others = [m for m in await uow.medicines.list(medicine.generic) if m.id != medicine.id]
    return sorted(others, key=lambda m: (m.strength != medicine.strength, m.price))


async def available(uow: UnitOfWork, medicine_id: uuid.UUID, pin_code: str
                    ) -> list[dict[str, Any]]:
    """Pharmacies serving ``pin_code`` with unreserved packs of a medicine."""
    return [{"pharmacy_id": str(merchant.id), "name": merchant.name, "available": shelf.free}
            for merchant, shelf in await uow.stock.offers(medicine_id)
            if merchant.serves(pin_code) and shelf.free > 0]


async def view(uow: UnitOfWork, medicine_id: uuid.UUID, pin_code: str | None
               ) -> dict[str, Any]:
    """One medicine with its generic alternatives and, given a PIN code, where it is in stock."""
    async with uow:
        medicine = await uow.medicines.get(medicine_id)
        if medicine is None:
            raise NotFound("no such medicine")
        body = describe(medicine)
        body["alternatives"] = [describe(m) for m in await alternatives(uow, medicine)]
        if pin_code:
            body["stock"] = await available(uow, medicine.id, pin_code)
        return body


def brand_key(name: str) -> str:
    """The comparison key for a brand as written on a prescription line."""
    return name_key(re.sub(r"\b(tab|tablet|tablets|cap|capsule|capsules|syrup)\b", "",
                           name.lower()))
