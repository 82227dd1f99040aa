"""The hash-chained audit trail and its head."""

from __future__ import annotations

from sqlalchemy import JSON, BigInteger, Column, Index, Integer, String, Table, Uuid

from .base import metadata
from .types import UTCDateTime

audit_events = Table(
    "audit_events", metadata,
    Column("id", Uuid(), primary_key=True),
    Column("seq", BigInteger(), nullable=False, unique=True),
    Column("actor_id", Uuid(), nullable=True, index=True),
    Column("actor_role", String(32), nullable=False),
    Column("action", String(64), nullable=False),
    Column("entity_type", String(64), nullable=False),
    Column("entity_id", String(64), nullable=False),
    Column("old_values", JSON(), nullable=True),
    Column("new_values", JSON(), nullable=True),
    Column("request_id", String(64), nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("prev_hash", String(64), nullable=False, unique=True),
    Column("hash", String(64), nullable=False, unique=True),
    Index("ix_audit_events_entity", "entity_type", "entity_id"),
)

# One row: the chain's last sequence number and hash. Appenders lock it, so the chain never forks,
# and removing the newest events is caught because the head still points past them.
audit_head = Table(
    "audit_head", metadata,
    Column("id", Integer(), primary_key=True),
    Column("seq", BigInteger(), nullable=False),
    Column("hash", String(64), nullable=False),
)
