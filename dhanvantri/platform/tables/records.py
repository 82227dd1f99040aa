"""The patient's own health record: documents they upload (content and title sealed at rest).

Consultations, prescriptions, orders and lab reports already have their tables; the record
reads those. Only what the patient brings from elsewhere (a discharge summary, an old report, a
scan) is stored here. ``media_type`` is the type found in the content, never the one the client
claimed.
"""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Index, Integer, String, Table, Uuid

from ..record.domain import DocumentKind
from .base import metadata, stamps
from .types import Sealed, SealedBytes, enum_column

record_documents = Table(
    "record_documents", metadata,
    Column("id", Uuid(), primary_key=True),
    Column("patient_id", Uuid(), ForeignKey("users.id"), nullable=False),
    Column("uploaded_by", Uuid(), ForeignKey("users.id"), nullable=False),
    Column("kind", enum_column(DocumentKind, "record_document_kind"), nullable=False),
    Column("title", Sealed("record_documents.title"), nullable=False),
    Column("dated", String(10), nullable=True),  # ISO date the document bears, when given
    Column("media_type", String(32), nullable=False),
    Column("size", Integer(), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("content", SealedBytes("record_documents.content"), nullable=False),
    # Deleting a document the patient brought erases it (DPDP): no deleted_at, the row goes;
    # the audit trail keeps its digest.
    *stamps(deleted=False),
    # The timeline pages a patient's documents newest first.
    Index("ix_record_documents_patient_created", "patient_id", "created_at"),
)
