"""Success bodies of the pharmacy, order, lab, payment and wallet endpoints (for OpenAPI).

They describe what the use cases return: money as strings with two places, ids as UUID strings,
times as ISO 8601. Unknown fields are refused, so the tests, which validate every commerce
response against these, notice a body that grew without its description.
"""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import ConfigDict

from ..domain.catalog import MerchantKind
from ..domain.labs import BookingStatus
from ..domain.orders import OrderStatus
from ..domain.payments import PaymentStatus
from .schemas import Out

Money = str  # "37.44": never a float
Id = uuid.UUID


class Strict(Out):
    """A commerce response body: no field beyond those listed."""

    model_config = ConfigDict(extra="forbid")


class MedicineOut(Strict):
    id: Id
    sku: str
    brand: str
    generic: str
    strength: str
    form: str
    pack: str
    mrp: Money
    price: Money
    schedule: str
    rx_required: bool


class MedicinesOut(Strict):
    items: list[MedicineOut]


class StockOfferOut(Strict):
    pharmacy_id: Id
    name: str
    available: int


class MedicineViewOut(MedicineOut):
    alternatives: list[MedicineOut]
    stock: list[StockOfferOut] | None = None  # only when a PIN code was given


class MerchantOut(Strict):
    id: Id
    kind: MerchantKind
    name: str
    user_id: Id
    pin_codes: list[str]


class StockLevelOut(Strict):
    sku: str
    quantity: int


class StockOut(Strict):
    items: list[StockLevelOut]


class PharmacyRefOut(Strict):
    id: Id
    name: str


class CartLineOut(Strict):
    prescribed: str
    dose: str
    match: Literal["exact", "generic", "alternatives", "out_of_stock", "not_in_catalog"]
    item: MedicineOut | None
    quantity: int
    line_total: Money
    alternatives: list[MedicineOut]


class CartOut(Strict):
    prescription_id: Id
    pin_code: str
    pharmacy: PharmacyRefOut | None
    lines: list[CartLineOut]
    total: Money


class OrderItemOut(Strict):
    medicine_id: Id
    name: str
    quantity: int
    unit_price: Money
    line_total: Money


class DeliveryOut(Strict):
    otp_expires_at: str | None
    attempts: int
    escalated: bool


class OrderOut(Strict):
    id: Id
    status: OrderStatus
    patient_id: Id
    pharmacy_id: Id
    prescription_id: Id | None
    pin_code: str
    address: str
    total: Money
    payment_id: Id | None
    delivery: DeliveryOut
    delivered_at: str | None
    placed_at: str | None
    updated_at: str | None  # the last change of any kind
    items: list[OrderItemOut]


class OrdersOut(Strict):
    items: list[OrderOut]


class QuoteOut(Strict):
    pharmacy_id: Id
    pin_code: str
    items: list[OrderItemOut]
    total: Money


class DeliveryCodeOut(Strict):
    order_id: Id
    code: str
    expires_at: str | None


class PayoutOut(Strict):
    gross: Money
    commission: Money
    net: Money


class DeliveredOrderOut(OrderOut):
    payout: PayoutOut


class PaymentOut(Strict):
    id: Id
    purpose: Literal["order", "lab_booking", "wallet_topup", "appointment"]
    reference_id: Id | None
    method: Literal["gateway", "wallet"]
    gateway: str | None
    gateway_order_id: str | None
    gateway_payment_id: str | None
    amount: Money
    refunded: Money
    status: PaymentStatus


class CheckoutOut(Strict):
    gateway: str
    key_id: str
    order_id: str
    amount_paise: int
    currency: str


class PaymentStartOut(Strict):
    payment: PaymentOut
    checkout: CheckoutOut | None = None  # gateway payments: what the client's checkout needs


class OrderPaymentOut(PaymentStartOut):
    order: OrderOut


class LabTestOut(Strict):
    code: str
    name: str
    specimen: str
    preparation: str
    price: Money


class LabTestsOut(Strict):
    items: list[LabTestOut]


class SlotOut(Strict):
    id: Id
    lab_id: Id
    pin_code: str
    starts_at: str
    capacity: int
    booked: int


class OpenSlotOut(Strict):
    id: Id
    lab_id: Id
    lab: str
    starts_at: str
    free: int


class OpenSlotsOut(Strict):
    items: list[OpenSlotOut]


class ReportRefOut(Strict):
    sha256: str


class ResultOut(Strict):
    analyte: str
    value: float
    unit: str
    low: float | None
    high: float | None
    population: str
    flag: Literal["low", "normal", "high"]


class BookingOut(Strict):
    id: Id
    status: BookingStatus
    lab_id: Id
    slot_id: Id
    tests: list[str]
    total: Money
    payment_id: Id | None
    report: ReportRefOut | None
    results: list[ResultOut]
    # When, where and by whom (one booking, or the patient's list):
    starts_at: str | None = None
    lab: str | None = None
    address: str | None = None
    prescription_id: Id | None = None
    created_at: str | None = None


class BookingsOut(Strict):
    items: list[BookingOut]  # results are read one booking at a time (an audited access)


class PrescribedTestsOut(Strict):
    prescription_id: Id
    items: list[LabTestOut]  # the ordered tests on sale, with prices
    unmatched: list[str]  # ordered tests not on sale here


class ReportedBookingOut(BookingOut):
    payout: PayoutOut


class BookingPaymentOut(PaymentStartOut):
    booking: BookingOut


class GatewayErrorOut(Strict):
    code: str
    reason: str
    description: str


class SandboxCheckoutOut(Strict):
    razorpay_order_id: str
    razorpay_payment_id: str | None = None  # paid: with the signature, for /confirm
    razorpay_signature: str | None = None
    error: GatewayErrorOut | None = None  # declined: what failed, and no signature


class WebhookOut(Strict):
    status: Literal["captured", "already_captured", "ignored", "duplicate"]


class SettlementItemOut(Strict):
    reference_type: str
    reference_id: Id
    gross: Money
    commission: Money
    net: Money
    created_at: str


class SettlementOut(Strict):
    merchant_id: Id
    name: str
    kind: MerchantKind
    payouts: int
    gross: Money
    commission: Money
    net: Money
    balance: Money
    items: list[SettlementItemOut]


class SettlementsOut(Strict):
    items: list[SettlementOut]


class WalletEntryOut(Strict):
    amount: Money  # signed: negative when money left the wallet
    kind: str
    reference: str
    created_at: str


class WalletOut(Strict):
    balance: Money
    entries: list[WalletEntryOut]
    topup_max: Money | None = None  # the most one top-up may be


class FamilyMemberOut(Strict):
    member_id: Id
    full_name: str
    phone_hint: str | None  # "••••6655"
    linked_at: str


class FamilyMembersOut(Strict):
    items: list[FamilyMemberOut]


class FamilyAskedOut(Strict):
    """The same answer whoever the number belongs to."""

    challenge_id: Id
    expires_at: str
    message: str


class MemberOut(Strict):
    member_id: Id
    full_name: str


class TransferOut(Strict):
    transaction_id: Id
    amount: Money
    to: Id
