"""Prescriptions, their signed PDF and the patient's acknowledgement (clinical content, the
PDF and the patient's signature sealed at rest)."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    Uuid,
)

from ..domain.prescriptions import Status
from .base import metadata, stamps
from .types import Sealed, SealedBytes, SealedJSON, UTCDateTime, enum_column

prescriptions = Table(
    "prescriptions", metadata,
    Column("id", Uuid(), primary_key=True),
    Column("consultation_id", Uuid(), nullable=False, index=True),
    Column("patient_id", Uuid(), ForeignKey("users.id"), nullable=False, index=True),
    Column("physician_id", Uuid(), ForeignKey("users.id"), nullable=True),
    Column("status", enum_column(Status, "prescription_status"), nullable=False),
    Column("urgent", Boolean(), nullable=False, default=False),
    Column("content", SealedJSON("prescriptions.content"), nullable=False),
    Column("ai_draft", SealedJSON("prescriptions.ai_draft"), nullable=False),
    Column("ai_reasoning", Sealed("prescriptions.ai_reasoning"), nullable=False, default=""),
    Column("transcript", SealedJSON("prescriptions.transcript"), nullable=False),
    Column("safety", SealedJSON("prescriptions.safety"), nullable=False),
    Column("version", Integer(), nullable=False, default=1),
    Column("rejection_reason", Sealed("prescriptions.rejection_reason"), nullable=True),
    Column("approved_at", UTCDateTime(), nullable=True),
    Column("signed_at", UTCDateTime(), nullable=True),
    Column("signature", JSON(), nullable=True),
    Column("acknowledged_at", UTCDateTime(), nullable=True),
    Column("released_at", UTCDateTime(), nullable=True),
    *stamps(),
    Index("ix_prescriptions_queue", "status", "urgent", "created_at"),
)

prescription_documents = Table(
    "prescription_documents", metadata,
    Column("id", Uuid(), primary_key=True),
    Column("prescription_id", Uuid(), ForeignKey("prescriptions.id"), nullable=False,
           unique=True),
    Column("sha256", String(64), nullable=False),
    Column("content", SealedBytes("prescription_documents.content"), nullable=False),
    *stamps(),
)

acknowledgements = Table(
    "acknowledgements", metadata,
    Column("id", Uuid(), primary_key=True),
    Column("prescription_id", Uuid(), ForeignKey("prescriptions.id"), nullable=False,
           unique=True),
    Column("patient_id", Uuid(), ForeignKey("users.id"), nullable=False),
    Column("consent_text", Text(), nullable=False),
    Column("consent_sha256", String(64), nullable=False),
    Column("signature_png", SealedBytes("acknowledgements.signature_png"), nullable=False),
    Column("signature_sha256", String(64), nullable=False),
    Column("ip_address", Sealed("acknowledgements.ip_address"), nullable=False),
    Column("device_info", Sealed("acknowledgements.device_info"), nullable=False),
    Column("record_sha256", String(64), nullable=False),
    *stamps(),
)
