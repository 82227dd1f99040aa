"""Users, their role profiles, one-time codes, refresh tokens and login lockouts.

Names, contacts, TOTP seeds and the clinical profile are sealed at rest (``types.Sealed``).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Integer,
    String,
    Table,
    Uuid,
)

from ...http.principal import Role
from ..domain.accounts import OtpPurpose
from .base import metadata, stamps
from .types import BlindIndex, Sealed, SealedJSON, UTCDateTime, enum_column

users = Table(
    "users", metadata,
    Column("id", Uuid(), primary_key=True),
    Column("role", enum_column(Role, "role"), nullable=False),
    Column("full_name", Sealed("users.full_name"), nullable=False, default=""),
    Column("email", Sealed("users.email"), nullable=True),
    Column("phone", Sealed("users.phone"), nullable=True),
    # Lookups and uniqueness go through keyed hashes (set with email/phone in mappers.py).
    Column("email_index", BlindIndex("email"), nullable=True, unique=True),
    Column("phone_index", BlindIndex("phone"), nullable=True, unique=True),
    Column("password_hash", String(200), nullable=True),
    Column("mfa_secret", Sealed("users.mfa_secret"), nullable=True),
    Column("mfa_enabled", Boolean(), nullable=False, default=False),
    Column("mfa_last_step", BigInteger(), nullable=True),
    Column("is_active", Boolean(), nullable=False, default=True),
    *stamps(),
)

patients = Table(
    "patients", metadata,
    Column("id", Uuid(), ForeignKey("users.id"), primary_key=True),
    Column("abha_number", Sealed("patients.abha_number"), nullable=True),
    Column("date_of_birth", Sealed("patients.date_of_birth"), nullable=True),
    Column("sex", Sealed("patients.sex"), nullable=True),
    Column("allergies", SealedJSON("patients.allergies"), nullable=False),
    Column("conditions", SealedJSON("patients.conditions"), nullable=False),
    Column("medicines", SealedJSON("patients.medicines"), nullable=False),
    *stamps(),
)

physicians = Table(
    "physicians", metadata,
    Column("id", Uuid(), ForeignKey("users.id"), primary_key=True),
    Column("registration_number", String(64), nullable=False),
    Column("council", String(200), nullable=False),
    Column("qualification", String(200), nullable=False, default=""),
    Column("specialty", String(200), nullable=False, default=""),
    *stamps(),
)

otp_challenges = Table(
    "otp_challenges", metadata,
    Column("id", Uuid(), primary_key=True),
    Column("purpose", enum_column(OtpPurpose, "otp_purpose"), nullable=False),
    Column("destination", Sealed("otp_challenges.destination"), nullable=False),
    Column("subject_id", Uuid(), nullable=True),
    Column("code_hash", String(64), nullable=False),
    Column("expires_at", UTCDateTime(), nullable=False),
    Column("attempts", Integer(), nullable=False, default=0),
    Column("max_attempts", Integer(), nullable=False, default=5),
    Column("consumed_at", UTCDateTime(), nullable=True),
    *stamps(),
)

refresh_tokens = Table(
    "refresh_tokens", metadata,
    Column("id", Uuid(), primary_key=True),
    Column("user_id", Uuid(), ForeignKey("users.id"), nullable=False, index=True),
    Column("family_id", Uuid(), nullable=False, index=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("expires_at", UTCDateTime(), nullable=False),
    Column("revoked_at", UTCDateTime(), nullable=True),
    *stamps(),
)

# Failed login tries per subject (a keyed hash of e.g. a phone), read by ``ratelimit.Lockouts``
# when no Redis is configured. Plain rows, no domain class: they are counters.
login_lockouts = Table(
    "login_lockouts", metadata,
    Column("key", String(64), primary_key=True),
    Column("failures", Integer(), nullable=False),
    Column("locks", Integer(), nullable=False),
    Column("last_try_at", UTCDateTime(), nullable=True),
    Column("locked_until", UTCDateTime(), nullable=True),
)
