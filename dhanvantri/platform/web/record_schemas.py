"""Query strings, request and response bodies of the health record's routes."""

from __future__ import annotations

import uuid
from typing import Any, Literal

from pydantic import Field

from ..record.domain import DocumentKind
from ..record.timeline import MAX_OFFSET
from .schemas import Body, Out, Query

# A 380 KiB file is 506,880 characters of base64 (what record_upload_max_bytes allows at most).
_BASE64_MAX = 4 * (380 * 1024 // 3 + 1)


class TimelineQuery(Query):
    limit: int = Field(20, ge=1, le=100)
    offset: int = Field(0, ge=0, le=MAX_OFFSET)


class DocumentIn(Body):
    """A PDF, JPEG or PNG for the caller's record; its type is read from the bytes."""

    kind: DocumentKind = DocumentKind.OTHER
    title: str = Field("", max_length=120, description="the patient's name for it; the kind's "
                                                         "name when empty")
    dated: str | None = Field(None, max_length=10, description="the date it bears, YYYY-MM-DD")
    content_base64: str = Field(min_length=4, max_length=_BASE64_MAX,
                                description="the file, base64 (at most "
                                            "DHANVANTRI_RECORD_UPLOAD_MAX_BYTES decoded)")


class DocumentOut(Out):
    id: uuid.UUID
    kind: DocumentKind
    title: str
    dated: str | None
    media_type: Literal["application/pdf", "image/jpeg", "image/png"]
    size: int
    sha256: str
    uploaded_at: str
    download: str = Field(description="the API path that returns the file as an attachment")


class TimelineItem(Out):
    """One entry; ``detail`` depends on ``kind`` (a lab report's values, an order's total)."""

    kind: Literal["consultation", "intake", "prescription", "order", "lab_report", "document"]
    id: uuid.UUID
    at: str
    title: str
    status: str | None
    detail: dict[str, Any]


class Timeline(Out):
    items: list[TimelineItem]
    limit: int
    offset: int
    has_more: bool


class FhirBundle(Out):
    """A FHIR R4 ``Bundle`` of type ``collection`` (each entry a validated resource)."""

    resourceType: Literal["Bundle"]  # FHIR's own spelling
    id: str
    type: Literal["collection"]
    timestamp: str
    entry: list[dict[str, Any]] = Field(description="``fullUrl`` (urn:uuid) and ``resource``")
