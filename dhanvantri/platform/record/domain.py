"""A document the patient brings to their record: what it is, its verified type and its bytes.

A plain class with no ORM import; :mod:`.document_store` reads and writes it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from ..domain.base import Tracked


class DocumentKind(StrEnum):
    """What the patient says the document is (FHIR ``DocumentReference.type`` as text)."""

    LAB_REPORT = "lab_report"
    PRESCRIPTION = "prescription"
    DISCHARGE_SUMMARY = "discharge_summary"
    IMAGING = "imaging"
    VACCINATION = "vaccination"
    OTHER = "other"


KIND_TEXT = {
    DocumentKind.LAB_REPORT: "Lab report", DocumentKind.PRESCRIPTION: "Prescription",
    DocumentKind.DISCHARGE_SUMMARY: "Discharge summary", DocumentKind.IMAGING: "Scan or X-ray",
    DocumentKind.VACCINATION: "Vaccination record", DocumentKind.OTHER: "Other document",
}


@dataclass(kw_only=True, eq=False)
class RecordDocument(Tracked):
    """One uploaded document. ``content`` is None when read for a list (it stays in the table).

    Attributes:
        patient_id: whose record it is in.
        uploaded_by: who sent it (the patient today; a family member or a lab later).
        kind: what the patient says it is.
        title: the patient's own name for it (PHI: sealed at rest, never logged).
        dated: the ISO date the document bears, when the patient gave one.
        media_type: the type its bytes were found to be (``sniff.media_type``).
        size: bytes.
        sha256: hex digest of the bytes, for the audit trail and integrity checks.
    """

    patient_id: uuid.UUID
    uploaded_by: uuid.UUID
    kind: DocumentKind
    title: str
    dated: str | None = None
    media_type: str
    size: int
    sha256: str
    content: bytes | None = None

    def snapshot(self) -> dict[str, Any]:
        """What the audit trail keeps (kind and digest plain; the title hashed by the trail)."""
        return {"kind": self.kind.value, "title": self.title, "media_type": self.media_type,
                "size": self.size, "document_sha256": self.sha256}
