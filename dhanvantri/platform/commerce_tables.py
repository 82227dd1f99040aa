"""Tables for pharmacy orders, labs, payments and the wallet ledger (SQLAlchemy Core).

They share ``orm.metadata`` so migrations see them. Money is ``Money``: ``Numeric(12, 2)`` on
PostgreSQL and integer paise on SQLite, whose NUMERIC affinity would otherwise store floats.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.types import TypeDecorator, TypeEngine

from .orm import UTCDateTime, metadata


class Money(TypeDecorator[Decimal]):
    """Exact rupees in and out, on both databases."""

    impl = Numeric(12, 2)
    cache_ok = True

    def load_dialect_impl(self, dialect: Any) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(Numeric(12, 2, asdecimal=True))

    def process_bind_param(self, value: Any, dialect: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, float):
            raise TypeError("money must be Decimal, not float")
        amount = Decimal(value).quantize(Decimal("0.01"))
        return int(amount * 100) if dialect.name == "sqlite" else amount

    def process_result_value(self, value: Any, dialect: Any) -> Decimal | None:
        if value is None:
            return None
        if dialect.name == "sqlite":
            return (Decimal(int(value)) / 100).quantize(Decimal("0.01"))
        return Decimal(value).quantize(Decimal("0.01"))


def _stamps() -> list[Column[Any]]:
    return [Column("created_at", UTCDateTime(), nullable=False),
            Column("updated_at", UTCDateTime(), nullable=False)]


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
    *_stamps(),
)

# Pharmacies and partner labs: the merchants paid after delivery.
merchants = Table(
    "merchants", metadata,
    Column("id", Uuid(), primary_key=True),
    Column("kind", String(16), nullable=False),  # "pharmacy" or "lab"
    Column("name", String(200), nullable=False),
    Column("user_id", Uuid(), ForeignKey("users.id"), nullable=False, index=True),
    Column("pin_codes", JSON(), nullable=False),
    *_stamps(),
)

stock = Table(
    "stock", metadata,
    Column("id", Uuid(), primary_key=True),
    Column("merchant_id", Uuid(), ForeignKey("merchants.id"), nullable=False),
    Column("medicine_id", Uuid(), ForeignKey("medicines.id"), nullable=False, index=True),
    Column("quantity", Integer(), nullable=False),  # packs on the shelf
    Column("reserved", Integer(), nullable=False),  # packs held for paid orders
    *_stamps(),
    UniqueConstraint("merchant_id", "medicine_id", name="uq_stock_merchant_medicine"),
)

orders = Table(
    "orders", metadata,
    Column("id", Uuid(), primary_key=True),
    Column("patient_id", Uuid(), ForeignKey("users.id"), nullable=False, index=True),
    Column("merchant_id", Uuid(), ForeignKey("merchants.id"), nullable=False, index=True),
    Column("prescription_id", Uuid(), ForeignKey("prescriptions.id"), nullable=True),
    Column("status", String(32), nullable=False),
    Column("pin_code", String(6), nullable=False),
    Column("address", Text(), nullable=False),
    Column("total", Money(), nullable=False),
    Column("payment_id", Uuid(), nullable=True),
    Column("otp_hash", String(64), nullable=True),
    Column("otp_expires_at", UTCDateTime(), nullable=True),
    Column("otp_attempts", Integer(), nullable=False),
    Column("otp_escalated", Boolean(), nullable=False),
    Column("delivered_at", UTCDateTime(), nullable=True),
    *_stamps(),
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
    Column("address", Text(), nullable=False),
    Column("status", String(32), nullable=False),
    Column("total", Money(), nullable=False),
    Column("payment_id", Uuid(), nullable=True),
    Column("results", JSON(), nullable=True),
    Column("report_pdf", LargeBinary(), nullable=True),
    Column("report_sha256", String(64), nullable=True),
    *_stamps(),
)

payments = Table(
    "payments", metadata,
    Column("id", Uuid(), primary_key=True),
    Column("user_id", Uuid(), ForeignKey("users.id"), nullable=False, index=True),
    Column("purpose", String(16), nullable=False),  # order, lab_booking, wallet_topup
    Column("reference_id", Uuid(), nullable=True),
    Column("method", String(16), nullable=False),  # gateway or wallet
    Column("gateway", String(16), nullable=True),
    Column("gateway_order_id", String(64), nullable=True, unique=True),
    Column("gateway_payment_id", String(64), nullable=True),
    Column("amount", Money(), nullable=False),
    Column("refunded", Money(), nullable=False),
    Column("status", String(24), nullable=False),  # created, captured, refunded, failed
    *_stamps(),
)

refunds = Table(
    "refunds", metadata,
    Column("id", Uuid(), primary_key=True),
    Column("payment_id", Uuid(), ForeignKey("payments.id"), nullable=False, index=True),
    Column("amount", Money(), nullable=False),
    Column("destination", String(16), nullable=False),  # source or wallet
    Column("gateway_refund_id", String(64), nullable=True),
    Column("reason", Text(), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
)

idempotency_keys = Table(
    "idempotency_keys", metadata,
    Column("id", Uuid(), primary_key=True),
    Column("user_id", Uuid(), nullable=False),
    Column("key", String(128), nullable=False),
    Column("fingerprint", String(64), nullable=False),  # SHA-256 of operation and body
    Column("status", Integer(), nullable=False),
    Column("response", JSON(), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    UniqueConstraint("user_id", "key", name="uq_idempotency_keys_user_key"),
)

webhook_events = Table(
    "webhook_events", metadata,
    Column("id", String(128), primary_key=True),  # the gateway's event id (or body hash)
    Column("event", String(64), nullable=False),
    Column("received_at", UTCDateTime(), nullable=False),
)

ledger_accounts = Table(
    "ledger_accounts", metadata,
    Column("id", Uuid(), primary_key=True),
    Column("kind", String(24), nullable=False),  # wallet, merchant, escrow, platform, gateway
    Column("owner", String(64), nullable=False),  # user or merchant id; "system" otherwise
    Column("created_at", UTCDateTime(), nullable=False),
    UniqueConstraint("kind", "owner", name="uq_ledger_accounts_kind_owner"),
)

ledger_transactions = Table(
    "ledger_transactions", metadata,
    Column("id", Uuid(), primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("reference", String(64), nullable=False, index=True),
    Column("created_at", UTCDateTime(), nullable=False),
)

ledger_entries = Table(
    "ledger_entries", metadata,
    Column("id", Uuid(), primary_key=True),
    Column("transaction_id", Uuid(), ForeignKey("ledger_transactions.id"), nullable=False,
           index=True),
    Column("account_id", Uuid(), ForeignKey("ledger_accounts.id"), nullable=False),
    Column("amount", Money(), nullable=False),  # signed; a transaction's entries sum to zero
    Column("created_at", UTCDateTime(), nullable=False),
    Index("ix_ledger_entries_account", "account_id", "created_at"),
)

payouts = Table(
    "payouts", metadata,
    Column("id", Uuid(), primary_key=True),
    Column("merchant_id", Uuid(), ForeignKey("merchants.id"), nullable=False, index=True),
    Column("reference_type", String(16), nullable=False),
    Column("reference_id", Uuid(), nullable=False, unique=True),
    Column("gross", Money(), nullable=False),
    Column("commission", Money(), nullable=False),
    Column("net", Money(), nullable=False),
    Column("transaction_id", Uuid(), ForeignKey("ledger_transactions.id"), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
)

family_links = Table(
    "family_links", metadata,
    Column("id", Uuid(), primary_key=True),
    Column("owner_id", Uuid(), ForeignKey("users.id"), nullable=False),
    Column("member_id", Uuid(), ForeignKey("users.id"), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    UniqueConstraint("owner_id", "member_id", name="uq_family_links_owner_member"),
)
