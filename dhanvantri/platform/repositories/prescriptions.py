"""Prescriptions with their PDF and acknowledgement."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import case, select, union
from sqlalchemy.ext.asyncio import AsyncSession

from ..domain.prescriptions import Acknowledgement, Prescription, PrescriptionDocument, Status
from ..tables.commerce import lab_bookings, merchants, orders
from ..tables.prescriptions import acknowledgements, prescription_documents, prescriptions


class PrescriptionRepository:
    """Prescriptions with their PDF and acknowledgement."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, item: Prescription | PrescriptionDocument | Acknowledgement) -> None:
        """Stage a new prescription, document or acknowledgement."""
        self.session.add(item)

    async def get(self, prescription_id: uuid.UUID, *, lock: bool = False) -> Prescription | None:
        """A prescription that is not deleted; ``lock`` holds it until commit (PostgreSQL)."""
        item = await self.session.get(Prescription, prescription_id, with_for_update=lock)
        return item if item is not None and item.deleted_at is None else None

    async def queue(self, limit: int = 50) -> Sequence[Prescription]:
        """Drafts awaiting review: urgent first, then oldest first."""
        query = (select(Prescription)
                 .where(prescriptions.c.status == Status.PENDING_REVIEW,
                        prescriptions.c.deleted_at.is_(None))
                 .order_by(case((prescriptions.c.urgent, 0), else_=1),
                           prescriptions.c.created_at, prescriptions.c.id)
                 .limit(limit))
        return (await self.session.scalars(query)).all()

    async def list(self, *, patient_id: uuid.UUID | None = None,
                   statuses: Sequence[Status] | None = None, limit: int = 50, offset: int = 0
                   ) -> Sequence[Prescription]:
        """Prescriptions, newest first, optionally for one patient and some states."""
        query = select(Prescription).where(prescriptions.c.deleted_at.is_(None))
        if patient_id is not None:
            query = query.where(prescriptions.c.patient_id == patient_id)
        if statuses:
            query = query.where(prescriptions.c.status.in_(list(statuses)))
        query = query.order_by(prescriptions.c.created_at.desc(), prescriptions.c.id)
        return (await self.session.scalars(query.limit(limit).offset(offset))).all()

    async def document(self, prescription_id: uuid.UUID) -> PrescriptionDocument | None:
        """The signed PDF."""
        query = select(PrescriptionDocument).where(
            prescription_documents.c.prescription_id == prescription_id)
        return (await self.session.scalars(query)).first()

    async def acknowledgement(self, prescription_id: uuid.UUID) -> Acknowledgement | None:
        """The patient's acknowledgement."""
        query = select(Acknowledgement).where(
            acknowledgements.c.prescription_id == prescription_id)
        return (await self.session.scalars(query)).first()

    async def of_merchant_user(self, user_id: uuid.UUID, *,
                               prescription_id: uuid.UUID | None = None,
                               statuses: Sequence[Status] | None = None, limit: int = 50,
                               offset: int = 0) -> Sequence[Prescription]:
        """Prescriptions named by an order or lab booking at a merchant ``user_id`` runs,
        newest first (optionally just one, or of some states)."""
        theirs = select(merchants.c.id).where(merchants.c.user_id == user_id)
        named = union(
            select(orders.c.prescription_id).where(orders.c.merchant_id.in_(theirs)),
            select(lab_bookings.c.prescription_id).where(lab_bookings.c.merchant_id.in_(theirs)))
        query = select(Prescription).where(prescriptions.c.deleted_at.is_(None),
                                           prescriptions.c.id.in_(named))
        if prescription_id is not None:
            query = query.where(prescriptions.c.id == prescription_id)
        if statuses:
            query = query.where(prescriptions.c.status.in_(list(statuses)))
        query = query.order_by(prescriptions.c.created_at.desc(), prescriptions.c.id)
        return (await self.session.scalars(query.limit(limit).offset(offset))).all()
