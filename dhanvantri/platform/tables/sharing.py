"""Emergency cards, family access and record shares (``platform/sharing``).

Tokens of QR links are kept only as SHA-256 digests (they are 256-bit random, so a digest is
enough: nothing to brute-force); share codes as keyed hashes. What a card shows that the
profile does not hold (blood group, emergency contacts) is sealed at rest.
"""

from __future__ import annotations

from sqlalchemy import JSON, Column, ForeignKey, Integer, String, Table, UniqueConstraint, Uuid

from ..sharing.domain import Level, MemberStatus, ShareKind
from .base import metadata, stamps
from .types import EnumText, Sealed, SealedJSON, UTCDateTime

emergency_cards = Table(
    "emergency_cards", metadata,
    Column("id", Uuid(), primary_key=True),
    Column("patient_id", Uuid(), ForeignKey("users.id"), nullable=False, index=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("fields", JSON(), nullable=False),  # names of what the card shows, never values
    Column("blood_group", Sealed("emergency_cards.blood_group"), nullable=True),
    Column("contacts", SealedJSON("emergency_cards.contacts"), nullable=False),
    Column("revoked_at", UTCDateTime(), nullable=True),
    *stamps(deleted=False),
)

family_members = Table(
    "family_members", metadata,
    Column("id", Uuid(), primary_key=True),
    Column("owner_id", Uuid(), ForeignKey("users.id"), nullable=False),
    Column("member_id", Uuid(), ForeignKey("users.id"), nullable=False, index=True),
    Column("level", EnumText(Level, 16), nullable=False),
    Column("status", EnumText(MemberStatus, 16), nullable=False),
    Column("relation", Sealed("family_members.relation"), nullable=True),
    Column("challenge_id", Uuid(), nullable=True),  # the invitation's code
    Column("consented_at", UTCDateTime(), nullable=True),
    *stamps(deleted=False),
    UniqueConstraint("owner_id", "member_id", name="uq_family_members_owner_member"),
)

record_shares = Table(
    "record_shares", metadata,
    Column("id", Uuid(), primary_key=True),
    Column("patient_id", Uuid(), ForeignKey("users.id"), nullable=False, index=True),
    Column("kind", EnumText(ShareKind, 16), nullable=False),
    Column("reference_id", Uuid(), nullable=True),  # the prescription or lab booking shared
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("code_hash", String(64), nullable=False),
    Column("attempts", Integer(), nullable=False),
    Column("session_hash", String(64), nullable=True, unique=True),
    Column("expires_at", UTCDateTime(), nullable=False),
    Column("unlocked_at", UTCDateTime(), nullable=True),
    Column("locked_at", UTCDateTime(), nullable=True),
    Column("revoked_at", UTCDateTime(), nullable=True),
    *stamps(deleted=False),
)
