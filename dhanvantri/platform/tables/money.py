"""Tables for payments and refunds, idempotency keys, gateway webhooks, the ledger, payouts and
family links."""

from __future__ import annotations

from sqlalchemy import (
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
)

from ..domain.payments import PaymentStatus
from .base import metadata, stamps
from .types import EnumText, Money, SealedJSON, UTCDateTime

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
    Column("status", EnumText(PaymentStatus, 24), nullable=False),
    *stamps(deleted=False),
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
    Column("response", SealedJSON("idempotency_keys.response"), nullable=False),  # may hold PHI
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
