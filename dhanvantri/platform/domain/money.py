"""Money rules: ``Decimal`` rupees with two places, paise at a gateway, commission."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from ...http.errors import ValidationFailed

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
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
