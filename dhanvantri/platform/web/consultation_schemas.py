"""Query strings and response bodies of the stored consultations' routes."""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import Field

from ..domain.consultations import ConsultationStatus, TurnRole
from .schemas import Out, Query


class ConsultationListQuery(Query):
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0, le=100_000)


class ConsultationSummary(Out):
    """A consultation's states and times (no patient words)."""

    id: uuid.UUID
    patient_id: uuid.UUID
    status: ConsultationStatus
    language: str
    started_at: str | None
    ended_at: str | None
    end_reason: str | None
    escalated: bool
    escalation_reason: str | None
    emergency: bool
    turn_count: int
    prescription_id: uuid.UUID | None
    visit: dict[str, str] | None = Field(
        None, description="the booked appointment this consultation was the visit of: "
                          "appointment_id, and mode (video when video flowed both ways, "
                          "else audio); null for an intake")


class ConsultationList(Out):
    items: list[ConsultationSummary]


class TurnOut(Out):
    seq: int
    role: TurnRole
    at: str
    text: str = Field(description="the words as said (opened from the sealed record)")


class ConsultationRecord(ConsultationSummary):
    """One consultation: its turns in order, the structured intake, red flags, escalations and
    the physician's notes; physicians and admins also see the AI draft."""

    turns: list[TurnOut]
    intake: dict[str, Any]
    red_flags: list[str]
    escalations: list[dict[str, Any]]
    physician_notes: list[str]
    draft: dict[str, Any] | None = Field(None, description="physicians and admins only")
