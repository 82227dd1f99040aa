"""Commerce rules with no database: money, order and lab-booking states, result flags.

Order states::

    placed ─pay─> paid ─pack─> packed ─ship─> shipped ─dispatch─> out_for_delivery ─OTP─> delivered
      │              │               │
      └──cancel──> cancelled         └──cancel (paid: refund to source)──> refunded

Lab booking states::

    placed ──pay──> paid ──collect──> sample_collected ──report──> reported
      └──cancel──> cancelled   paid/sample_collected ──cancel──> refunded
"""

from __future__ import annotations

import math
import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from enum import StrEnum

from ...http.errors import Conflict, ValidationFailed

CENT = Decimal("0.01")
MAX_AMOUNT = Decimal("9999999999.99")  # what Numeric(12, 2) holds


def money(value: object, field: str = "amount") -> Decimal:
    """A rupee amount as ``Decimal`` with two places; floats are refused (they are inexact)."""
    if isinstance(value, float | bool):
        raise ValidationFailed.field(field, "money must be a string or integer, not a float")
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError) as exc:
        raise ValidationFailed.field(field, "not a decimal amount") from exc
    if not amount.is_finite() or amount != amount.quantize(CENT) or abs(amount) > MAX_AMOUNT:
        raise ValidationFailed.field(field, "must have at most two decimal places")
    return amount.quantize(CENT)


def to_paise(amount: Decimal) -> int:
    """Rupees to integer paise for a gateway."""
    return int((amount * 100).to_integral_exact())


def from_paise(paise: int) -> Decimal:
    """Integer paise from a gateway to rupees."""
    return (Decimal(paise) / 100).quantize(CENT)


def commission(gross: Decimal, percent: Decimal) -> Decimal:
    """The platform's share of ``gross``, rounded half-up to the paisa."""
    return (gross * percent / 100).quantize(CENT, rounding=ROUND_HALF_UP)


def text(amount: Decimal) -> str:
    """Money in JSON: a string with two places, never a float."""
    return str(amount.quantize(CENT))


class OrderStatus(StrEnum):
    """Where a pharmacy order is."""

    PLACED = "placed"
    PAID = "paid"
    PACKED = "packed"
    SHIPPED = "shipped"
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"


ORDER_STEPS: dict[str, tuple[OrderStatus, OrderStatus]] = {
    "pay": (OrderStatus.PLACED, OrderStatus.PAID),
    "pack": (OrderStatus.PAID, OrderStatus.PACKED),
    "ship": (OrderStatus.PACKED, OrderStatus.SHIPPED),
    "dispatch": (OrderStatus.SHIPPED, OrderStatus.OUT_FOR_DELIVERY),
    "deliver": (OrderStatus.OUT_FOR_DELIVERY, OrderStatus.DELIVERED),
}
# Once shipped the medicines are out of the pharmacy's hands: cancelling needs support.
CANCELLABLE = frozenset({OrderStatus.PLACED, OrderStatus.PAID, OrderStatus.PACKED})


def order_step(status: str, step: str) -> OrderStatus:
    """The state after ``step`` from ``status``; ``Conflict`` when the step is out of order."""
    before, after = ORDER_STEPS[step]
    if OrderStatus(status) != before:
        raise Conflict(f"cannot {step} an order that is {status}", code="INVALID_STATE",
                       details={"status": status})
    return after


class BookingStatus(StrEnum):
    """Where a lab booking is."""

    PLACED = "placed"
    PAID = "paid"
    SAMPLE_COLLECTED = "sample_collected"
    REPORTED = "reported"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"


def flag(value: float, low: float | None, high: float | None) -> str:
    """``"low"``, ``"high"`` or ``"normal"`` against a reference range (open ends allowed)."""
    if low is not None and value < low:
        return "low"
    if high is not None and value > high:
        return "high"
    return "normal"


_PER_DAY = {"od": 1, "hs": 1, "qd": 1, "once": 1, "bd": 2, "bid": 2, "twice": 2, "tds": 3,
            "tid": 3, "thrice": 3, "qid": 4, "qds": 4}
_DAYS = re.compile(r"(\d+)\s*(day|week|month)", re.IGNORECASE)
_UNITS_IN_PACK = re.compile(r"(\d+)\s*(tablet|capsule|tab|cap)", re.IGNORECASE)


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
