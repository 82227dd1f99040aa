"""A consultation's record: who, when, how it ended, and what was said, turn by turn.

States::

    active ──close──> completed        (hang-up, disconnect, a physician ends it, shutdown)
       └────abandon──> abandoned        (the process holding it died; closed at the next start)

The transition out of ``active`` happens once: it is what guards "exactly one review record per
consultation". Turn text and the clinical notes are patient data: the domain only carries them
sealed (bytes); the use cases seal and open them (``platform/record_cipher.py``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from ...http.errors import Conflict
from .base import Entity, Identified

# Live consultations are named by an unguessable token (their URLs are the capability to join);
# the record's UUID is derived from it one way, so knowing the record id never lets anyone join.
_RECORD_NAMESPACE = uuid.UUID("6d3c1a9e-5b0f-4c27-9a43-2f1e8d7c6b5a")


def record_id(consultation_id: str | uuid.UUID) -> uuid.UUID:
    """The stored record's id for a live consultation id (a UUID stays itself)."""
    if isinstance(consultation_id, uuid.UUID):
        return consultation_id
    try:
        return uuid.UUID(consultation_id)
    except ValueError:
        return uuid.uuid5(_RECORD_NAMESPACE, consultation_id)


class ConsultationStatus(StrEnum):
    """Where a consultation is in its life."""

    ACTIVE = "active"
    COMPLETED = "completed"
    ABANDONED = "abandoned"


class TurnRole(StrEnum):
    """Who spoke."""

    PATIENT = "patient"
    ASSISTANT = "assistant"
    PHYSICIAN = "physician"


@dataclass(kw_only=True, eq=False)
class Consultation(Entity):
    """One consultation of a signed-in patient.

    Attributes:
        patient_id: the patient (guest consultations are never stored).
        language: the language the call was held in (the speech recogniser's).
        escalated: a physician was called (red flag or the patient asked).
        escalation_reason: why (``red_flag``, ``patient_request``), no patient words.
        emergency: the escalation was an emergency.
        notes_sealed: the clinical notes (intake, red flags, draft, physician notes), sealed.
        turns: how many turns were written (the next turn's sequence number).
        prescription_id: the review record made when it closed.
    """

    patient_id: uuid.UUID
    language: str = "en"
    status: ConsultationStatus = ConsultationStatus.ACTIVE
    started_at: datetime | None = None
    ended_at: datetime | None = None
    end_reason: str | None = None
    escalated: bool = False
    escalation_reason: str | None = None
    emergency: bool = False
    notes_sealed: bytes | None = None
    turns: int = 0
    prescription_id: uuid.UUID | None = None

    @property
    def active(self) -> bool:
        """Whether the consultation is still going on."""
        return self.status is ConsultationStatus.ACTIVE

    def escalate(self, reason: str, emergency: bool, now: datetime) -> None:
        """Remember that a physician was called; an emergency is never downgraded."""
        self.escalated = True
        self.escalation_reason = self.escalation_reason if self.emergency else reason
        self.emergency = self.emergency or emergency
        self.touch(now)

    def next_turn(self, now: datetime) -> int:
        """The sequence number of a new turn (0, 1, 2 ...)."""
        seq, self.turns = self.turns, self.turns + 1
        self.touch(now)
        return seq

    def close(self, reason: str, now: datetime, *, abandoned: bool = False) -> None:
        """End the consultation; a consultation that already ended is a conflict."""
        if not self.active:
            raise Conflict(f"the consultation is already {self.status.value}",
                           details={"status": self.status.value})
        self.status = ConsultationStatus.ABANDONED if abandoned else ConsultationStatus.COMPLETED
        self.end_reason = reason
        self.ended_at = now
        self.touch(now)

    def snapshot(self) -> dict[str, Any]:
        """State for audit old/new values (no patient words: the audit log is not a PHI store)."""
        return {"status": self.status.value, "end_reason": self.end_reason,
                "escalated": self.escalated, "emergency": self.emergency, "turns": self.turns,
                "prescription_id": str(self.prescription_id) if self.prescription_id else None}


@dataclass(kw_only=True, eq=False)
class Turn(Identified):
    """One thing said in a consultation, in order (``seq``).

    ``text_sealed`` is the words as said (the clinical record); ``tokens_sealed`` the same words
    with identifiers replaced by tokens (the Redactor's form), for everything that is not the
    clinical record. Each is sealed under its own key.
    """

    consultation_id: uuid.UUID
    seq: int
    role: TurnRole
    said_at: datetime
    text_sealed: bytes
    tokens_sealed: bytes
