"""Pharmacies and labs as merchants, pharmacy stock, and the cart built from a prescription.

Matching a prescription line, as a patient would expect:

1. ``exact``: the brand written is in stock;
2. ``generic``: the same generic in the same strength is in stock (the cheapest; also used when
   the written brand is out of stock);
3. ``alternatives``: only other strengths or forms are in stock; listed, not added, because a
   change of strength needs the physician;
4. ``out_of_stock`` (in the catalogue, nowhere in stock) or ``not_in_catalog``.

One pharmacy serving the PIN code fills the whole cart: the one that matches the most lines, then
the cheapest.
"""

from __future__ import annotations

import re
import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.ext.asyncio import AsyncSession

from ..http.errors import NotFound, ValidationFailed
from ..http.principal import Role
from ..knowledge.medicines import load_medicines
from . import catalog
from .commerce_tables import medicines, merchants, stock
from .domain.audit import Actor
from .domain.commerce import packs_needed, text
from .domain.prescriptions import Status
from .uow import UnitOfWork

_STRENGTH = re.compile(r"(\d+(?:\.\d+)?)\s*(mg|mcg|g|ml|iu)\b", re.IGNORECASE)


def strength_key(value: str) -> str:
    """``"500 mg"``, ``"500mg"`` -> ``"500mg"``; empty when no strength is written."""
    found = _STRENGTH.search(value)
    return f"{found.group(1)}{found.group(2).lower()}" if found else ""


async def create_merchant(uow: UnitOfWork, actor: Actor, kind: str, name: str,
                          user_id: uuid.UUID, pin_codes: list[str]) -> dict[str, Any]:
    """Register a pharmacy or partner lab run by a staff user of the matching role."""
    async with uow:
        user = await uow.users.get(user_id)
        if user is None or user.role != Role(kind) or user.deleted_at is not None:
            raise ValidationFailed.field("user_id", f"must be a {kind} user")
        now = uow.clock()
        merchant_id = uuid.uuid4()
        values = {"kind": kind, "name": name, "user_id": user_id,
                  "pin_codes": sorted(set(pin_codes))}
        await uow.session.execute(merchants.insert().values(
            id=merchant_id, created_at=now, updated_at=now, **values))
        uow.record(actor, "merchant_created", "merchant", merchant_id, new=values)
        await uow.commit()
        return {"id": str(merchant_id), **values, "user_id": str(user_id)}


async def merchant_of(session: AsyncSession, actor: Actor, merchant_id: uuid.UUID,
                      kind: str) -> Row[Any]:
    """A merchant the actor may manage: its own staff user, or an admin."""
    row = (await session.execute(select(merchants).where(
        merchants.c.id == merchant_id, merchants.c.kind == kind))).first()
    if row is None or (actor.role != Role.ADMIN.value and row.user_id != actor.user_id):
        raise NotFound(f"no such {kind}")
    return row


async def set_stock(uow: UnitOfWork, actor: Actor, merchant_id: uuid.UUID,
                    items: list[tuple[str, int]]) -> list[dict[str, Any]]:
    """Set shelf quantities by SKU (reserved packs are kept; a shelf cannot drop below them)."""
    async with uow:
        await merchant_of(uow.session, actor, merchant_id, "pharmacy")
        now, out = uow.clock(), []
        for sku, quantity in items:
            medicine_id = await uow.session.scalar(select(medicines.c.id)
                                                   .where(medicines.c.sku == sku))
            if medicine_id is None:
                raise ValidationFailed.field("items.sku", f"unknown SKU {sku}")
            row = (await uow.session.execute(select(stock).where(
                stock.c.merchant_id == merchant_id, stock.c.medicine_id == medicine_id)
                .with_for_update())).first()
            if row is None:
                await uow.session.execute(stock.insert().values(
                    id=uuid.uuid4(), merchant_id=merchant_id, medicine_id=medicine_id,
                    quantity=quantity, reserved=0, created_at=now, updated_at=now))
            elif quantity < row.reserved:
                raise ValidationFailed.field("items.quantity",
                                             f"{sku}: {row.reserved} packs are reserved")
            else:
                await uow.session.execute(stock.update().where(stock.c.id == row.id)
                                          .values(quantity=quantity, updated_at=now))
            out.append({"sku": sku, "quantity": quantity})
        uow.record(actor, "stock_set", "merchant", merchant_id, new={"items": out})
        await uow.commit()
        return out


async def released_prescription(uow: UnitOfWork, patient_id: uuid.UUID,
                                prescription_id: uuid.UUID) -> Any:
    """The patient's own released prescription, or ``NotFound``."""
    rx = await uow.prescriptions.get(prescription_id)
    if rx is None or rx.patient_id != patient_id:
        raise NotFound("no such prescription")
    if rx.status != Status.RELEASED:
        raise ValidationFailed.field("prescription_id", "the prescription is not released")
    return rx


async def cart_from_prescription(uow: UnitOfWork, actor: Actor, prescription_id: uuid.UUID,
                                 pin_code: str) -> dict[str, Any]:
    """Propose a cart for a released prescription at one pharmacy serving ``pin_code``."""
    assert actor.user_id is not None
    async with uow:
        rx = await released_prescription(uow, actor.user_id, prescription_id)
        session = uow.session
        pharmacies = [m for m in (await session.execute(
            select(merchants).where(merchants.c.kind == "pharmacy")
            .order_by(merchants.c.name, merchants.c.id))).all() if pin_code in m.pin_codes]
        options = [await _lines(session, rx.content.get("medications", []), p.id)
                   for p in pharmacies] or [await _lines(session, rx.content.get(
                       "medications", []), None)]
        best = min(range(len(options)), key=lambda i: (
            -sum(1 for line in options[i] if line["item"]), _total(options[i])))
        pharmacy = pharmacies[best] if pharmacies else None
        return {"prescription_id": str(rx.id), "pin_code": pin_code,
                "pharmacy": {"id": str(pharmacy.id), "name": pharmacy.name} if pharmacy else None,
                "lines": options[best], "total": text(_total(options[best]))}


def _total(lines: list[dict[str, Any]]) -> Decimal:
    return sum((Decimal(line["line_total"]) for line in lines if line["item"]), Decimal("0.00"))


async def _free(session: AsyncSession, merchant_id: uuid.UUID | None) -> dict[uuid.UUID, int]:
    if merchant_id is None:
        return {}
    rows = (await session.execute(select(stock.c.medicine_id, stock.c.quantity, stock.c.reserved)
                                  .where(stock.c.merchant_id == merchant_id))).all()
    return {r.medicine_id: r.quantity - r.reserved for r in rows}


async def _lines(session: AsyncSession, medications: list[dict[str, Any]],
                 merchant_id: uuid.UUID | None) -> list[dict[str, Any]]:
    free = await _free(session, merchant_id)
    table = load_medicines()
    lines = []
    for med in medications:
        name = str(med.get("name", ""))
        known = table.lookup(name)
        wanted = strength_key(str(med.get("dose", ""))) or strength_key(name)
        query = select(medicines).order_by(medicines.c.price, medicines.c.sku)
        rows = (await session.execute(query.where(medicines.c.generic == known.generic)
                                      if known else query)).all()
        exact = [r for r in rows if catalog.brand_key(r.brand) == catalog.brand_key(name)]
        line: dict[str, Any] = {"prescribed": name, "dose": med.get("dose", ""),
                                "match": "not_in_catalog", "item": None, "quantity": 0,
                                "line_total": "0.00", "alternatives": []}

        def fill(row: Row[Any], match: str, line: dict[str, Any] = line,
                 med: dict[str, Any] = med) -> None:
            qty = packs_needed(str(med.get("frequency", "")), str(med.get("duration", "")),
                               row.pack)
            line.update(match=match, item=catalog.describe(row), quantity=qty,
                        line_total=text(row.price * qty))

        def stocked(row: Row[Any], med: dict[str, Any] = med) -> bool:
            need = packs_needed(str(med.get("frequency", "")), str(med.get("duration", "")),
                                row.pack)
            return free.get(row.id, 0) >= need

        same = [r for r in rows if not wanted or strength_key(r.strength) == wanted]
        if exact and stocked(exact[0]):
            fill(exact[0], "exact")
        elif known and (hit := next((r for r in same if stocked(r)), None)):
            fill(hit, "generic")
        elif known and (others := [r for r in rows if stocked(r)]):
            line["match"] = "alternatives"
            line["alternatives"] = [catalog.describe(r) for r in others]
        elif exact or (known and rows):
            line["match"] = "out_of_stock"
        lines.append(line)
    return lines
