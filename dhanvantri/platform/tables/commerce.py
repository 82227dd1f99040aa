"""Tables for the medicine catalogue, merchants and their stock, orders and lab bookings.

Money is ``Money`` (exact on both databases); states and kinds are ``EnumText`` over the
``VARCHAR`` columns the migration created; delivery addresses and lab results are sealed.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
)

from ..domain.catalog import MerchantKind
from ..domain.labs import BookingStatus
from ..domain.orders import OrderStatus
from .base import metadata, stamps
from .types import EnumText, Money, Sealed, SealedBytes, SealedJSON, UTCDateTime

medicines = Table(
    "medicines", metadata,
    Column("id", Uuid(), primary_key=True),
    Column("sku", String(64), nullable=False, unique=True),
    Column("brand", String(200), nullable=False),
    Column("generic", String(200), nullable=False, index=True),
    Column("strength", String(64), nullable=False),
    Column("form", String(32), nullable=False),
    Column("pack", String(64), nullable=False),
    Column("mrp", Money(), nullable=False),
    Column("price", Money(), nullable=False),
    Column("schedule", String(8), nullable=False),
    Column("rx_required", Boolean(), nullable=False),
    Column("search_text", Text(), nullable=False),  # lower-case brand, generic, synonyms
    *stamps(deleted=False),
)

# Pharmacies and partner labs: the merchants paid after delivery.
merchants = Table(
    "merchants", metadata,
    Column("id", Uuid(), primary_key=True),
    Column("kind", EnumText(MerchantKind, 16), nullable=False),
    Column("name", String(200), nullable=False),
    Column("user_id", Uuid(), ForeignKey("users.id"), nullable=False, index=True),
    Column("pin_codes", JSON(), nullable=False),
    *stamps(deleted=False),
)

stock = Table(
    "stock", metadata,
    Column("id", Uuid(), primary_key=True),
    Column("merchant_id", Uuid(), ForeignKey("merchants.id"), nullable=False),
    Column("medicine_id", Uuid(), ForeignKey("medicines.id"), nullable=False, index=True),
    Column("quantity", Integer(), nullable=False),  # packs on the shelf
    Column("reserved", Integer(), nullable=False),  # packs held for paid orders
    *stamps(deleted=False),
    UniqueConstraint("merchant_id", "medicine_id", name="uq_stock_merchant_medicine"),
)

orders = Table(
    "orders", metadata,
    Column("id", Uuid(), primary_key=True),
    Column("patient_id", Uuid(), ForeignKey("users.id"), nullable=False, index=True),
    Column("merchant_id", Uuid(), ForeignKey("merchants.id"), nullable=False, index=True),
    Column("prescription_id", Uuid(), ForeignKey("prescriptions.id"), nullable=True),
    Column("status", EnumText(OrderStatus, 32), nullable=False),
    Column("pin_code", String(6), nullable=False),
    Column("address", Sealed("orders.address"), nullable=False),
    Column("total", Money(), nullable=False),
    Column("payment_id", Uuid(), nullable=True),
    Column("otp_hash", String(64), nullable=True),
    Column("delivery_code", Sealed("orders.delivery_code"), nullable=True),  # the patient's own
    Column("otp_expires_at", UTCDateTime(), nullable=True),
    Column("otp_attempts", Integer(), nullable=False),
    Column("otp_escalated", Boolean(), nullable=False),
    Column("delivered_at", UTCDateTime(), nullable=True),
    *stamps(deleted=False),
)

order_items = Table(
    "order_items", metadata,
    Column("id", Uuid(), primary_key=True),
    Column("order_id", Uuid(), ForeignKey("orders.id"), nullable=False, index=True),
    Column("medicine_id", Uuid(), ForeignKey("medicines.id"), nullable=False),
    Column("name", String(300), nullable=False),
    Column("quantity", Integer(), nullable=False),
    Column("unit_price", Money(), nullable=False),
    Column("line_total", Money(), nullable=False),
)

lab_catalog = Table(
    "lab_catalog", metadata,
    Column("code", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("specimen", String(200), nullable=False),
    Column("preparation", Text(), nullable=False),
    Column("price", Money(), nullable=False),
)

lab_slots = Table(
    "lab_slots", metadata,
    Column("id", Uuid(), primary_key=True),
    Column("merchant_id", Uuid(), ForeignKey("merchants.id"), nullable=False, index=True),
    Column("pin_code", String(6), nullable=False, index=True),
    Column("starts_at", UTCDateTime(), nullable=False),
    Column("capacity", Integer(), nullable=False),
    Column("booked", Integer(), nullable=False),
)

lab_bookings = Table(
    "lab_bookings", metadata,
    Column("id", Uuid(), primary_key=True),
    Column("patient_id", Uuid(), ForeignKey("users.id"), nullable=False, index=True),
    Column("merchant_id", Uuid(), ForeignKey("merchants.id"), nullable=False, index=True),
    Column("slot_id", Uuid(), ForeignKey("lab_slots.id"), nullable=False),
    Column("prescription_id", Uuid(), ForeignKey("prescriptions.id"), nullable=True),
    Column("tests", JSON(), nullable=False),  # lab_catalog codes
    Column("address", Sealed("lab_bookings.address"), nullable=False),
    Column("status", EnumText(BookingStatus, 32), nullable=False),
    Column("total", Money(), nullable=False),
    Column("payment_id", Uuid(), nullable=True),
    Column("results", SealedJSON("lab_bookings.results"), nullable=True),
    Column("report_pdf", SealedBytes("lab_bookings.report_pdf"), nullable=True),
    Column("report_sha256", String(64), nullable=True),
    *stamps(deleted=False),
)
