"""Request bodies and query strings for pharmacy, orders, labs, payments and the wallet."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import AfterValidator, AwareDatetime, Field

from .schemas import Body, Code6, Query, Text

Pin = Annotated[str, Field(pattern=r"^[1-9][0-9]{5}$")]


def _above_zero(value: str) -> str:
    if Decimal(value) <= 0:
        raise ValueError("must be more than zero")
    return value


# Money arrives as a string ("250.00") so no float ever touches it (a Decimal field would
# take 0.1 as a float first); paying, topping up, moving or refunding nothing is refused.
Amount = Annotated[str, Field(pattern=r"^[0-9]{1,10}(\.[0-9]{1,2})?$"),
                   AfterValidator(_above_zero)]
Method = Literal["gateway", "wallet"]


class MedicineSearchQuery(Query):
    q: Text(100, 1)  # type: ignore[valid-type]
    limit: int = Field(20, ge=1, le=100)


class MedicineQuery(Query):
    pin_code: Pin | None = None


class MerchantIn(Body):
    name: Text(200, 1)  # type: ignore[valid-type]
    user_id: uuid.UUID
    pin_codes: list[Pin] = Field(min_length=1, max_length=500)


class StockItemIn(Body):
    sku: Text(64, 1)  # type: ignore[valid-type]
    quantity: int = Field(ge=0, le=1_000_000)


class StockIn(Body):
    items: list[StockItemIn] = Field(min_length=1, max_length=500)


class CartIn(Body):
    prescription_id: uuid.UUID
    pin_code: Pin


class OrderItemIn(Body):
    medicine_id: uuid.UUID
    quantity: int = Field(ge=1, le=50)


class OrderIn(Body):
    pharmacy_id: uuid.UUID
    pin_code: Pin
    address: Text(500, 5)  # type: ignore[valid-type]
    items: list[OrderItemIn] = Field(min_length=1, max_length=30)
    prescription_id: uuid.UUID | None = None


class QuoteIn(Body):
    """An order not yet placed, to be priced (the cart after the patient's changes)."""

    pharmacy_id: uuid.UUID
    pin_code: Pin
    items: list[OrderItemIn] = Field(min_length=1, max_length=30)
    prescription_id: uuid.UUID | None = None


class PayIn(Body):
    method: Method


class DeliverIn(Body):
    otp: Annotated[str, Field(pattern=r"^[0-9]{6}$")]


class CancelIn(Body):
    reason: Text(500) = ""  # type: ignore[valid-type]


class ListQuery(Query):
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0, le=1_000_000)


class SlotIn(Body):
    pin_code: Pin
    starts_at: AwareDatetime
    capacity: int = Field(ge=1, le=100)


class SlotQuery(Query):
    pin_code: Pin


class BookingIn(Body):
    slot_id: uuid.UUID
    tests: list[Text(64, 1)] = Field(min_length=1, max_length=20)  # type: ignore[valid-type]
    address: Text(500, 5)  # type: ignore[valid-type]
    prescription_id: uuid.UUID | None = None


class ResultIn(Body):
    analyte: Text(100, 1)  # type: ignore[valid-type]
    value: float = Field(ge=-1e6, le=1e9, allow_inf_nan=False)  # a measurement, not money


class ReportIn(Body):
    pdf_base64: Annotated[str, Field(min_length=8, max_length=500_000)]
    results: list[ResultIn] = Field(default_factory=list, max_length=100)


class ConfirmIn(Body):
    razorpay_order_id: Text(64, 1)  # type: ignore[valid-type]
    razorpay_payment_id: Text(64, 1)  # type: ignore[valid-type]
    razorpay_signature: Text(128, 1)  # type: ignore[valid-type]


class SandboxCheckoutIn(Body):
    """What the patient does at the sandbox checkout: pay, or decline (a failed payment)."""

    outcome: Literal["paid", "failed"] = "paid"


class RefundIn(Body):
    amount: Amount | None = None  # None: everything that remains
    destination: Literal["source", "wallet"] = "source"
    reason: Text(500, 1)  # type: ignore[valid-type]


class TopUpIn(Body):
    amount: Amount


class FamilyIn(Body):
    phone: Text(20, 6)  # type: ignore[valid-type]


class FamilyConfirmIn(Body):
    """The code the family member received (and read out to the one adding them)."""

    challenge_id: uuid.UUID
    code: Code6


class TransferIn(Body):
    member_id: uuid.UUID
    amount: Amount


class SettlementQuery(Query):
    merchant_id: uuid.UUID | None = None

