"""Consultations and their turns (turn text and clinical notes are stored sealed)."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Table,
    UniqueConstraint,
    Uuid,
)

from ..domain.consultations import ConsultationStatus, TurnRole
from .base import metadata, stamps
from .types import UTCDateTime, enum_column

consultations = Table(
    "consultations", metadata,
    Column("id", Uuid(), primary_key=True),
    Column("patient_id", Uuid(), ForeignKey("users.id"), nullable=False, index=True),
    Column("language", String(16), nullable=False),
    Column("status", enum_column(ConsultationStatus, "consultation_status"), nullable=False,
           index=True),
    Column("started_at", UTCDateTime(), nullable=False),
    Column("ended_at", UTCDateTime(), nullable=True),
    Column("end_reason", String(32), nullable=True),
    Column("escalated", Boolean(), nullable=False),
    Column("escalation_reason", String(32), nullable=True),
    Column("emergency", Boolean(), nullable=False),
    Column("notes_sealed", LargeBinary(), nullable=True),
    Column("turns", Integer(), nullable=False),
    Column("prescription_id", Uuid(), nullable=True),
    *stamps(),
)

consultation_turns = Table(
    "consultation_turns", metadata,
    Column("id", Uuid(), primary_key=True),
    Column("consultation_id", Uuid(), ForeignKey("consultations.id"), nullable=False),
    Column("seq", Integer(), nullable=False),
    Column("role", enum_column(TurnRole, "turn_role"), nullable=False),
    Column("said_at", UTCDateTime(), nullable=False),
    Column("text_sealed", LargeBinary(), nullable=False),
    Column("tokens_sealed", LargeBinary(), nullable=False),
    # One turn per place in the conversation: a replayed write cannot duplicate a turn.
    UniqueConstraint("consultation_id", "seq", name="uq_consultation_turns_consultation_seq"),
)
