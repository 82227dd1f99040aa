"""Medicines on sale, the merchants who sell or test (pharmacies, labs) and pharmacy shelves."""

from __future__ import annotations

import math
import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from ...http.errors import Conflict
from .base import Tracked


@dataclass(kw_only=True, eq=False)
class Medicine(Tracked):
    """A catalogue SKU; ``schedule`` and ``rx_required`` come from the knowledge base."""

    sku: str
    brand: str
    generic: str
    strength: str
    form: str
    pack: str
    mrp: Decimal
    price: Decimal
    schedule: str
    rx_required: bool
    search_text: str  # lower-case brand, generic, synonyms, strength and form

    @property
    def label(self) -> str:
        """How an order line names it."""
        return f"{self.brand} {self.strength} ({self.pack})"


class MerchantKind(StrEnum):
    """Who gets paid after delivery; the values match the staff roles that run them."""

    PHARMACY = "pharmacy"
    LAB = "lab"


@dataclass(kw_only=True, eq=False)
class Merchant(Tracked):
    """A pharmacy or partner lab, run by one staff user, serving some PIN codes."""

    kind: MerchantKind
    name: str
    user_id: uuid.UUID
    pin_codes: list[str] = field(default_factory=list)

    def serves(self, pin_code: str) -> bool:
        """Whether it delivers to (or collects at) ``pin_code``."""
        return pin_code in self.pin_codes


@dataclass(kw_only=True, eq=False)
class Stock(Tracked):
    """Packs of one medicine on one pharmacy's shelf; ``reserved`` are held for paid orders."""

    merchant_id: uuid.UUID
    medicine_id: uuid.UUID
    quantity: int = 0
    reserved: int = 0

    @property
    def free(self) -> int:
        """Packs that can still be sold."""
        return self.quantity - self.reserved

    def holds(self, quantity: int) -> bool:
        """Whether the shelf may be set to ``quantity`` (never below what is reserved)."""
        return quantity >= self.reserved

    def set_quantity(self, quantity: int, now: datetime) -> None:
        """The pharmacy counted its shelf."""
        if not self.holds(quantity):
            raise Conflict(f"{self.reserved} packs are reserved", code="INVALID_STATE")
        self.quantity = quantity
        self.touch(now)

    def reserve(self, packs: int) -> None:
        """Hold packs for a paid order (the caller checked ``free``)."""
        if packs > self.free:
            raise Conflict("not enough stock", code="OUT_OF_STOCK")
        self.reserved += packs

    def release(self, packs: int) -> None:
        """Put held packs back on sale (refund or cancellation)."""
        self.reserved -= packs

    def hand_over(self, packs: int) -> None:
        """Held packs leave the shelf with the delivery."""
        self.quantity -= packs
        self.reserved -= packs


_PER_DAY = {"od": 1, "hs": 1, "qd": 1, "once": 1, "bd": 2, "bid": 2, "twice": 2, "tds": 3,
            "tid": 3, "thrice": 3, "qid": 4, "qds": 4}
_DAYS = re.compile(r"(\d+)\s*(day|week|month)", re.IGNORECASE)
_UNITS_IN_PACK = re.compile(r"(\d+)\s*(tablet|capsule|tab|cap)", re.IGNORECASE)
_STRENGTH = re.compile(r"(\d+(?:\.\d+)?)\s*(mg|mcg|g|ml|iu)\b", re.IGNORECASE)


def packs_needed(frequency: str, duration: str, pack: str) -> int:
    """Packs a prescription line needs (``TDS`` for ``5 days`` from strips of 15 -> 1).

    Liquids, creams and unreadable lines default to one pack; the patient can change it.
    """
    per_day = next((n for word, n in _PER_DAY.items()
                    if re.search(rf"\b{word}\b", frequency.lower())), None)
    days_match = _DAYS.search(duration)
    units_match = _UNITS_IN_PACK.search(pack)
    if per_day is None or days_match is None or units_match is None:
        return 1
    days = int(days_match.group(1)) * {"day": 1, "week": 7, "month": 30}[
        days_match.group(2).lower()]
    return max(1, min(10, math.ceil(per_day * days / int(units_match.group(1)))))


def strength_key(value: str) -> str:
    """``"500 mg"``, ``"500mg"`` -> ``"500mg"``; empty when no strength is written."""
    found = _STRENGTH.search(value)
    return f"{found.group(1)}{found.group(2).lower()}" if found else ""
