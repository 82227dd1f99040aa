"""Documents a patient brings to their record: upload, download, erase; each one audited.

The type is read from the bytes (:mod:`.sniff`) and the bytes are sealed at rest by the column
type (``SealedBytes``: AES-GCM under the data keyring, bound to the column). A document is only
ever handed back as the type it was found to be, as an attachment, never inline as a page.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from datetime import date
from typing import Any

from ...http.errors import NotFound, PayloadTooLarge, ValidationFailed
from ...http.principal import Role
from ..domain.audit import Actor
from ..domain.text import visible
from ..uow import UnitOfWork
from .document_store import DocumentStore
from .domain import KIND_TEXT, DocumentKind, RecordDocument
from .sniff import EXTENSIONS, media_type

log = logging.getLogger(__name__)
ENTITY = "record_document"
TITLE_MAX = 120


def clean_title(raw: str, kind: DocumentKind) -> str:
    """One line of at most 120 visible characters; the kind's name when left empty."""
    title = " ".join(visible(raw, single_line=True).split())
    if len(title) > TITLE_MAX:
        raise ValidationFailed.field("title", f"at most {TITLE_MAX} characters")
    return title or KIND_TEXT[kind]


def clean_date(raw: str | None, today: date) -> str | None:
    """The ISO date a document bears: not after ``today``, not before 1900."""
    if not raw:
        return None
    try:
        day = date.fromisoformat(raw)
    except ValueError as exc:
        raise ValidationFailed.field("dated", "not a date (YYYY-MM-DD)") from exc
    if not date(1900, 1, 1) <= day <= today:
        raise ValidationFailed.field("dated", "must be between 1900 and today")
    return day.isoformat()


async def upload(uow: UnitOfWork, actor: Actor, *, kind: DocumentKind, title: str,
                 dated: str | None, data: bytes, max_bytes: int) -> dict[str, Any]:
    """Store a PDF, JPEG or PNG in the caller's own record.

    Raises:
        PayloadTooLarge: over ``max_bytes``.
        ValidationFailed: empty, or not one of the three types (field ``file``), or a bad
            ``title``/``dated``.
    """
    if len(data) > max_bytes:
        raise PayloadTooLarge(f"the file is over {max_bytes // 1024} KiB",
                              details=[{"field": "file", "message": "too large"}])
    found = media_type(data)
    if found is None:
        raise ValidationFailed.field("file", "must be a PDF, JPEG or PNG file")
    assert actor.user_id is not None
    async with uow:
        now = uow.clock()
        document = RecordDocument(
            patient_id=actor.user_id, uploaded_by=actor.user_id, kind=kind,
            title=clean_title(title, kind), dated=clean_date(dated, now.date()),
            media_type=found, size=len(data), sha256=hashlib.sha256(data).hexdigest(),
            content=data)
        document.touch(now)
        await DocumentStore(uow).add(document)
        uow.record(actor, "record_document_uploaded", ENTITY, document.id,
                   new=document.snapshot())
        await uow.commit()
    log.info("record document uploaded id=%s type=%s bytes=%d request_id=%s", document.id,
             found, len(data), actor.request_id)
    return describe(document)


async def download(uow: UnitOfWork, actor: Actor, document_id: uuid.UUID) -> RecordDocument:
    """A document with its bytes, for its patient; the read is audited."""
    async with uow:
        document = await _own(DocumentStore(uow), actor, document_id, content=True)
        uow.record(actor, "record_document_downloaded", ENTITY, document.id,
                   new={"document_sha256": document.sha256})
        await uow.commit()
        return document


async def erase(uow: UnitOfWork, actor: Actor, document_id: uuid.UUID) -> None:
    """Delete a document from the caller's record: the bytes go; the audit keeps its digest."""
    async with uow:
        store = DocumentStore(uow)
        document = await _own(store, actor, document_id)
        await store.remove(document.id)
        uow.record(actor, "record_document_deleted", ENTITY, document.id,
                   old=document.snapshot())
        await uow.commit()


def file_name(document: RecordDocument) -> str:
    """A safe download name from the id and the verified type (never the patient's title)."""
    return f"document-{document.id}.{EXTENSIONS[document.media_type]}"


def describe(document: RecordDocument) -> dict[str, Any]:
    """A document as the API shows it (no bytes)."""
    assert document.created_at is not None
    return {"id": str(document.id), "kind": document.kind.value, "title": document.title,
            "dated": document.dated, "media_type": document.media_type, "size": document.size,
            "sha256": document.sha256, "uploaded_at": document.created_at.isoformat(),
            "download": f"/api/v1/me/record/documents/{document.id}"}


async def _own(store: DocumentStore, actor: Actor, document_id: uuid.UUID, *,
               content: bool = False) -> RecordDocument:
    document = await store.get(document_id, content=content)
    # Someone else's document is reported as missing: its existence is not theirs to learn.
    if document is None or Role(actor.role) != Role.PATIENT or document.patient_id != actor.user_id:
        raise NotFound("no such document")
    return document
