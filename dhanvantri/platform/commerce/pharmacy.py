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

import uuid
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from ...http.errors import NotFound, ValidationFailed
from ...http.principal import Role
from ...knowledge.medicines import load_medicines
from ..domain.audit import Actor
from ..domain.catalog import Medicine, Merchant, MerchantKind, Stock, packs_needed, strength_key
from ..domain.money import ZERO, text
from ..domain.prescriptions import Prescription, Status
from ..uow import UnitOfWork
from .catalog import brand_key, describe


async def create_merchant(uow: UnitOfWork, actor: Actor, kind: MerchantKind, name: str,
                          user_id: uuid.UUID, pin_codes: list[str]) -> dict[str, Any]:
    """Register a pharmacy or partner lab run by a staff user of the matching role."""
    async with uow:
        user = await uow.users.get(user_id)
        if user is None or user.role != Role(kind) or user.deleted_at is not None:
            raise ValidationFailed.field("user_id", f"must be a {kind} user")
        merchant = Merchant(kind=kind, name=name, user_id=user_id,
                            pin_codes=sorted(set(pin_codes)))
        merchant.touch(uow.clock())
        uow.merchants.add(merchant)
        values = {"kind": kind.value, "name": name, "user_id": user_id,
                  "pin_codes": merchant.pin_codes}
        uow.record(actor, "merchant_created", "merchant", merchant.id, new=values)
        await uow.commit()
        return {"id": str(merchant.id), **values, "user_id": str(user_id)}


async def merchant_of(uow: UnitOfWork, actor: Actor, merchant_id: uuid.UUID,
                      kind: MerchantKind) -> Merchant:
    """A merchant the actor may manage: its own staff user, or an admin."""
    merchant = await uow.merchants.get(merchant_id, kind)
    if merchant is None or (actor.role != Role.ADMIN.value and merchant.user_id != actor.user_id):
        raise NotFound(f"no such {kind}")
    return merchant


async def set_stock(uow: UnitOfWork, actor: Actor, merchant_id: uuid.UUID,
                    items: list[tuple[str, int]]) -> list[dict[str, Any]]:
    """Set shelf quantities by SKU (reserved packs are kept; a shelf cannot drop below them)."""
    async with uow:
        await merchant_of(uow, actor, merchant_id, MerchantKind.PHARMACY)
        now, out = uow.clock(), []
        for sku, quantity in items:
            medicine = await uow.medicines.by_sku(sku)
            if medicine is None:
                raise ValidationFailed.field("items.sku", f"unknown SKU {sku}")
            shelf = await uow.stock.get(merchant_id, medicine.id)
            if shelf is None:
                shelf = Stock(merchant_id=merchant_id, medicine_id=medicine.id)
                uow.stock.add(shelf)
            elif not shelf.holds(quantity):
                raise ValidationFailed.field("items.quantity",
                                             f"{sku}: {shelf.reserved} packs are reserved")
            shelf.set_quantity(quantity, now)
            out.append({"sku": sku, "quantity": quantity})
        uow.record(actor, "stock_set", "merchant", merchant_id, new={"items": out})
        await uow.commit()
        return out


async def released_prescription(uow: UnitOfWork, patient_id: uuid.UUID,
                                prescription_id: uuid.UUID) -> Prescription:
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
        medications = rx.content.get("medications", [])
        pharmacies = [m for m in await uow.merchants.list(kind=MerchantKind.PHARMACY)
                      if m.serves(pin_code)]
        options = [await _lines(uow, medications, await uow.stock.free(p.id))
                   for p in pharmacies] or [await _lines(uow, medications, {})]
        best = min(range(len(options)), key=lambda i: (
            -sum(1 for line in options[i] if line["item"]), _total(options[i])))
        pharmacy = pharmacies[best] if pharmacies else None
        return {"prescription_id": str(rx.id), "pin_code": pin_code,
                "pharmacy": {"id": str(pharmacy.id), "name": pharmacy.name} if pharmacy else None,
                "lines": options[best], "total": text(_total(options[best]))}


def _total(lines: list[dict[str, Any]]) -> Decimal:
    return sum((Decimal(line["line_total"]) for line in lines if line["item"]), ZERO)


async def _lines(uow: UnitOfWork, medications: list[dict[str, Any]],
                 free: dict[uuid.UUID, int]) -> list[dict[str, Any]]:
    table = load_medicines()
    lines = []
    for med in medications:
        name = str(med.get("name", ""))
        known = table.lookup(name)
        candidates = await uow.medicines.list(known.generic if known else None)
        lines.append(_match(med, name, known is not None, candidates, free))
    return lines


def _match(med: dict[str, Any], name: str, known: bool, candidates: Sequence[Medicine],
           free: dict[uuid.UUID, int]) -> dict[str, Any]:
    """One cart line for a prescribed medicine (see the module docstring for the rules)."""
    def packs(medicine: Medicine) -> int:
        return packs_needed(str(med.get("frequency", "")), str(med.get("duration", "")),
                            medicine.pack)

    def stocked(medicine: Medicine) -> bool:
        return free.get(medicine.id, 0) >= packs(medicine)

    line: dict[str, Any] = {"prescribed": name, "dose": med.get("dose", ""),
                            "match": "not_in_catalog", "item": None, "quantity": 0,
                            "line_total": "0.00", "alternatives": []}

    def fill(medicine: Medicine, match: str) -> dict[str, Any]:
        quantity = packs(medicine)
        return line | {"match": match, "item": describe(medicine), "quantity": quantity,
                       "line_total": text(medicine.price * quantity)}

    wanted = strength_key(str(med.get("dose", ""))) or strength_key(name)
    exact = [m for m in candidates if brand_key(m.brand) == brand_key(name)]
    same = [m for m in candidates if not wanted or strength_key(m.strength) == wanted]
    if exact and stocked(exact[0]):
        return fill(exact[0], "exact")
    if known and (hit := next((m for m in same if stocked(m)), None)):
        return fill(hit, "generic")
    if known and (others := [m for m in candidates if stocked(m)]):
        return line | {"match": "alternatives", "alternatives": [describe(m) for m in others]}
    if exact or (known and candidates):
        return line | {"match": "out_of_stock"}
    return line
