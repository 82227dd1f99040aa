"""Tables and the imperative mapping of the plain domain classes onto them.

The domain never imports this module; ``start_mappers()`` is called once by the bootstrap.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    Uuid,
)
from sqlalchemy.orm import registry
from sqlalchemy.types import TypeDecorator

from ..http.principal import Role
from .domain.accounts import (
    OtpChallenge,
    OtpPurpose,
    PatientProfile,
    PhysicianProfile,
    RefreshToken,
    User,
)
from .domain.audit import AuditEvent
from .domain.prescriptions import Acknowledgement, Prescription, PrescriptionDocument, Status

metadata = MetaData(naming_convention={
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
})
mapper_registry = registry(metadata=metadata)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC in and out, on SQLite (which drops the zone) as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime; use timezone-aware UTC")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _enum(enum_cls: type, name: str) -> Enum:
    # Stored as plain strings (no native enum type) so adding a role or state needs no ALTER TYPE.
    return Enum(enum_cls, name=name, native_enum=False, create_constraint=False, length=32,
                values_callable=lambda e: [m.value for m in e])


def _stamps() -> list[Column[Any]]:
    return [
        Column("created_at", UTCDateTime(), nullable=False),
        Column("updated_at", UTCDateTime(), nullable=False),
        Column("deleted_at", UTCDateTime(), nullable=True),
    ]


users = Table(
    "users", metadata,
    Column("id", Uuid(), primary_key=True),
    Column("role", _enum(Role, "role"), nullable=False),
    Column("full_name", String(200), nullable=False, default=""),
    Column("email", String(320), nullable=True, unique=True),
    Column("phone", String(20), nullable=True, unique=True),
    Column("password_hash", String(200), nullable=True),
    Column("mfa_secret", String(64), nullable=True),
    Column("mfa_enabled", Boolean(), nullable=False, default=False),
    Column("is_active", Boolean(), nullable=False, default=True),
    *_stamps(),
)

patients = Table(
    "patients", metadata,
    Column("id", Uuid(), ForeignKey("users.id"), primary_key=True),
    Column("abha_number", String(14), nullable=True),
    Column("date_of_birth", String(10), nullable=True),
    Column("sex", String(16), nullable=True),
    Column("allergies", JSON(), nullable=False),
    Column("conditions", JSON(), nullable=False),
    Column("medicines", JSON(), nullable=False),
    *_stamps(),
)

physicians = Table(
    "physicians", metadata,
    Column("id", Uuid(), ForeignKey("users.id"), primary_key=True),
    Column("registration_number", String(64), nullable=False),
    Column("council", String(200), nullable=False),
    Column("qualification", String(200), nullable=False, default=""),
    Column("specialty", String(200), nullable=False, default=""),
    *_stamps(),
)

otp_challenges = Table(
    "otp_challenges", metadata,
    Column("id", Uuid(), primary_key=True),
    Column("purpose", _enum(OtpPurpose, "otp_purpose"), nullable=False),
    Column("destination", String(320), nullable=False),
    Column("subject_id", Uuid(), nullable=True),
    Column("code_hash", String(64), nullable=False),
    Column("expires_at", UTCDateTime(), nullable=False),
    Column("attempts", Integer(), nullable=False, default=0),
    Column("max_attempts", Integer(), nullable=False, default=5),
    Column("consumed_at", UTCDateTime(), nullable=True),
    *_stamps(),
)

refresh_tokens = Table(
    "refresh_tokens", metadata,
    Column("id", Uuid(), primary_key=True),
    Column("user_id", Uuid(), ForeignKey("users.id"), nullable=False, index=True),
    Column("family_id", Uuid(), nullable=False, index=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("expires_at", UTCDateTime(), nullable=False),
    Column("revoked_at", UTCDateTime(), nullable=True),
    *_stamps(),
)

prescriptions = Table(
    "prescriptions", metadata,
    Column("id", Uuid(), primary_key=True),
    Column("consultation_id", Uuid(), nullable=False, index=True),
    Column("patient_id", Uuid(), ForeignKey("users.id"), nullable=False, index=True),
    Column("physician_id", Uuid(), ForeignKey("users.id"), nullable=True),
    Column("status", _enum(Status, "prescription_status"), nullable=False),
    Column("urgent", Boolean(), nullable=False, default=False),
    Column("content", JSON(), nullable=False),
    Column("ai_draft", JSON(), nullable=False),
    Column("ai_reasoning", Text(), nullable=False, default=""),
    Column("transcript", JSON(), nullable=False),
    Column("safety", JSON(), nullable=False),
    Column("version", Integer(), nullable=False, default=1),
    Column("rejection_reason", Text(), nullable=True),
    Column("approved_at", UTCDateTime(), nullable=True),
    Column("signed_at", UTCDateTime(), nullable=True),
    Column("signature", JSON(), nullable=True),
    Column("acknowledged_at", UTCDateTime(), nullable=True),
    Column("released_at", UTCDateTime(), nullable=True),
    *_stamps(),
    Index("ix_prescriptions_queue", "status", "urgent", "created_at"),
)

prescription_documents = Table(
    "prescription_documents", metadata,
    Column("id", Uuid(), primary_key=True),
    Column("prescription_id", Uuid(), ForeignKey("prescriptions.id"), nullable=False,
           unique=True),
    Column("sha256", String(64), nullable=False),
    Column("content", LargeBinary(), nullable=False),
    *_stamps(),
)

acknowledgements = Table(
    "acknowledgements", metadata,
    Column("id", Uuid(), primary_key=True),
    Column("prescription_id", Uuid(), ForeignKey("prescriptions.id"), nullable=False,
           unique=True),
    Column("patient_id", Uuid(), ForeignKey("users.id"), nullable=False),
    Column("consent_text", Text(), nullable=False),
    Column("consent_sha256", String(64), nullable=False),
    Column("signature_png", LargeBinary(), nullable=False),
    Column("signature_sha256", String(64), nullable=False),
    Column("ip_address", String(64), nullable=False),
    Column("device_info", String(500), nullable=False),
    Column("record_sha256", String(64), nullable=False),
    *_stamps(),
)

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

_started = False


def start_mappers() -> None:
    """Map the domain classes onto the tables (idempotent)."""
    global _started
    if _started:
        return
    mapper_registry.map_imperatively(User, users)
    mapper_registry.map_imperatively(PatientProfile, patients)
    mapper_registry.map_imperatively(PhysicianProfile, physicians)
    mapper_registry.map_imperatively(OtpChallenge, otp_challenges)
    mapper_registry.map_imperatively(RefreshToken, refresh_tokens)
    mapper_registry.map_imperatively(Prescription, prescriptions)
    mapper_registry.map_imperatively(PrescriptionDocument, prescription_documents)
    mapper_registry.map_imperatively(Acknowledgement, acknowledgements)
    mapper_registry.map_imperatively(AuditEvent, audit_events)
    _started = True


# Commerce tables live in their own module on the same metadata (imported here so that
# migrations and ``metadata.create_all`` always see them).
from . import commerce_tables as _commerce_tables  # noqa: E402, F401
