"""Uploaded documents in and out of ``record_documents``, inside a unit of work's transaction.

Read and written with SQLAlchemy Core rather than a mapped class: a list selects every column
but the content, so paging a record never loads (or unseals) the files themselves.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, insert, select

from ..tables.records import record_documents
from ..uow import UnitOfWork
from .domain import DocumentKind, RecordDocument

_T = record_documents.c
_LISTED = [c for c in record_documents.c if c.name != "content"]


class DocumentStore:
    """The documents of the unit of work's transaction."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._session = uow.session

    async def add(self, document: RecordDocument) -> None:
        """Stage a new document (written at the unit of work's commit)."""
        await self._session.execute(insert(record_documents).values(
            id=document.id, patient_id=document.patient_id, uploaded_by=document.uploaded_by,
            kind=document.kind, title=document.title, dated=document.dated,
            media_type=document.media_type, size=document.size, sha256=document.sha256,
            content=document.content, created_at=document.created_at,
            updated_at=document.updated_at))

    async def get(self, document_id: uuid.UUID, *, content: bool = False
                  ) -> RecordDocument | None:
        """One document, with its bytes when ``content``."""
        columns = list(record_documents.c) if content else _LISTED
        row = (await self._session.execute(
            select(*columns).where(_T.id == document_id))).mappings().first()
        return _document(row) if row is not None else None

    async def of_patient(self, patient_id: uuid.UUID, limit: int = 50, offset: int = 0
                         ) -> Sequence[RecordDocument]:
        """A patient's documents, newest first, without their bytes."""
        rows = (await self._session.execute(
            select(*_LISTED).where(_T.patient_id == patient_id)
            .order_by(_T.created_at.desc(), _T.id).limit(limit).offset(offset))).mappings()
        return [_document(row) for row in rows]

    async def remove(self, document_id: uuid.UUID) -> None:
        """Erase a document (its row and bytes)."""
        await self._session.execute(delete(record_documents).where(_T.id == document_id))


def _document(row: Any) -> RecordDocument:
    return RecordDocument(
        id=row["id"], patient_id=row["patient_id"], uploaded_by=row["uploaded_by"],
        kind=DocumentKind(row["kind"]), title=row["title"], dated=row["dated"],
        media_type=row["media_type"], size=row["size"], sha256=row["sha256"],
        content=bytes(row["content"]) if "content" in row else None,
        created_at=row["created_at"], updated_at=row["updated_at"])
