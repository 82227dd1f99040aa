"""A prescription's life: AI draft, physician review, e-signature, patient acknowledgement, release.

States::

    pending_review ──approve──> approved ──sign──> signed ──acknowledge──> acknowledged
       │  ▲ edit       │                                                    │ release
       └──reject───────┴──> rejected                                        └──> released

Only ``pending_review`` content can be edited; from ``signed`` on the content is frozen because the
signature covers it.
"""

from __future__ import annotations

import copy
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from ...http.errors import Conflict, Forbidden
from .base import Entity


class Status(StrEnum):
    """Where a prescription is in its life."""

    PENDING_REVIEW = "pending_review"
    APPROVED = "approved"
    REJECTED = "rejected"
    SIGNED = "signed"
    ACKNOWLEDGED = "acknowledged"
    RELEASED = "released"


# What a patient may see: a draft is not a prescription until a physician has signed it.
VISIBLE_TO_PATIENT = frozenset({Status.SIGNED, Status.ACKNOWLEDGED, Status.RELEASED})
FROZEN = frozenset({Status.SIGNED, Status.ACKNOWLEDGED, Status.RELEASED, Status.REJECTED})


@dataclass(kw_only=True, eq=False)
class Prescription(Entity):
    """A prescription. ``content`` is the clinical part the physician signs."""

    consultation_id: uuid.UUID
    patient_id: uuid.UUID
    status: Status = Status.PENDING_REVIEW
    urgent: bool = False
    content: dict[str, Any] = field(default_factory=dict)
    ai_draft: dict[str, Any] = field(default_factory=dict)  # as produced; never edited
    ai_reasoning: str = ""
    transcript: list[dict[str, Any]] = field(default_factory=list)
    safety: dict[str, Any] = field(default_factory=dict)
    version: int = 1
    physician_id: uuid.UUID | None = None
    rejection_reason: str | None = None
    approved_at: datetime | None = None
    signed_at: datetime | None = None
    signature: dict[str, Any] | None = None
    acknowledged_at: datetime | None = None
    released_at: datetime | None = None

    def _require(self, *allowed: Status, action: str) -> None:
        if self.status not in allowed:
            # "Locked": the content or decision is final; otherwise the step is just out of order.
            review = action in ("edit", "approve", "reject")
            code = "PRESCRIPTION_LOCKED" if review and self.status in FROZEN else "INVALID_STATE"
            raise Conflict(f"cannot {action} a prescription that is {self.status.value}",
                           code=code, details={"status": self.status.value})

    def edit(self, content: dict[str, Any], safety: dict[str, Any], now: datetime) -> None:
        """Replace the clinical content (physician's edit) with a fresh safety result."""
        self._require(Status.PENDING_REVIEW, action="edit")
        self.content = copy.deepcopy(content)
        self.safety = copy.deepcopy(safety)
        self.version += 1
        self.touch(now)

    def approve(self, physician_id: uuid.UUID, now: datetime) -> None:
        """A physician accepts the content; refused while the safety gate blocks it."""
        self._require(Status.PENDING_REVIEW, action="approve")
        if self.safety.get("blocked"):
            raise Conflict("the safety check blocks this prescription; edit it first",
                           code="SAFETY_BLOCKED", details={"issues": self.safety.get("issues", [])})
        self.status = Status.APPROVED
        self.physician_id = physician_id
        self.approved_at = now
        self.touch(now)

    def reject(self, physician_id: uuid.UUID, reason: str, now: datetime) -> None:
        """A physician refuses the draft; the reason is kept."""
        self._require(Status.PENDING_REVIEW, Status.APPROVED, action="reject")
        self.status = Status.REJECTED
        self.physician_id = physician_id
        self.rejection_reason = reason
        self.touch(now)

    def ensure_signer(self, physician_id: uuid.UUID) -> None:
        """Only the approving physician may sign (the registered doctor issues it)."""
        self._require(Status.APPROVED, action="sign")
        if self.physician_id != physician_id:
            raise Forbidden("only the approving physician can sign", code="NOT_SIGNER")

    def mark_signed(self, physician_id: uuid.UUID, signature: dict[str, Any],
                    now: datetime) -> None:
        """Attach the e-signature; the content is frozen from here on."""
        self.ensure_signer(physician_id)
        self.status = Status.SIGNED
        self.signature = dict(signature)
        self.signed_at = now
        self.touch(now)

    def acknowledge(self, patient_id: uuid.UUID, now: datetime) -> None:
        """The patient has read, consented and signed."""
        self._require(Status.SIGNED, action="acknowledge")
        self._require_patient(patient_id)
        self.status = Status.ACKNOWLEDGED
        self.acknowledged_at = now
        self.touch(now)

    def release(self, now: datetime) -> None:
        """Make the prescription usable (pharmacy, lab, patient download)."""
        self._require(Status.ACKNOWLEDGED, action="release")
        self.status = Status.RELEASED
        self.released_at = now
        self.touch(now)

    def _require_patient(self, patient_id: uuid.UUID) -> None:
        if patient_id != self.patient_id:
            raise Forbidden("not your prescription", code="NOT_OWNER")

    def canonical(self) -> dict[str, Any]:
        """The fields a signature covers, as plain JSON-ready values."""
        return {
            "id": str(self.id),
            "consultation_id": str(self.consultation_id),
            "patient_id": str(self.patient_id),
            "physician_id": str(self.physician_id) if self.physician_id else None,
            "version": self.version,
            "content": self.content,
            "approved_at": self.approved_at.isoformat() if self.approved_at else None,
        }

    def snapshot(self) -> dict[str, Any]:
        """State for audit old/new values (no transcript: the audit log is not a PHI store)."""
        return {"status": self.status.value, "version": self.version,
                "content": copy.deepcopy(self.content),
                "safety_blocked": bool(self.safety.get("blocked")),
                "physician_id": str(self.physician_id) if self.physician_id else None,
                "rejection_reason": self.rejection_reason}


@dataclass(kw_only=True, eq=False)
class PrescriptionDocument(Entity):
    """The rendered PDF whose SHA-256 the signature covers."""

    prescription_id: uuid.UUID
    sha256: str
    content: bytes


@dataclass(kw_only=True, eq=False)
class Acknowledgement(Entity):
    """The patient's consent, drawn signature and context, hashed before release."""

    prescription_id: uuid.UUID
    patient_id: uuid.UUID
    consent_text: str
    consent_sha256: str
    signature_png: bytes
    signature_sha256: str
    ip_address: str
    device_info: str
    record_sha256: str
