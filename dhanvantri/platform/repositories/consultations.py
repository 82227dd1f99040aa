"""Consultations and their turns."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ..domain.consultations import Consultation, ConsultationStatus, Turn
from ..tables.consultations import consultation_turns, consultations


class ConsultationRepository:
    """Consultations with their turns."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, item: Consultation | Turn) -> None:
        """Stage a new consultation or turn."""
        self.session.add(item)

    async def get(self, consultation_id: uuid.UUID, *, lock: bool = False
                  ) -> Consultation | None:
        """A consultation that is not deleted; ``lock`` holds it until commit (PostgreSQL)."""
        item = await self.session.get(Consultation, consultation_id, with_for_update=lock)
        return item if item is not None and item.deleted_at is None else None

    async def list(self, *, patient_id: uuid.UUID | None = None, limit: int = 50,
                   offset: int = 0) -> Sequence[Consultation]:
        """Consultations, newest first, optionally one patient's."""
        query = select(Consultation).where(consultations.c.deleted_at.is_(None))
        if patient_id is not None:
            query = query.where(consultations.c.patient_id == patient_id)
        query = query.order_by(consultations.c.started_at.desc(), consultations.c.id)
        return (await self.session.scalars(query.limit(limit).offset(offset))).all()

    async def active_ids(self) -> Sequence[uuid.UUID]:
        """Ids of consultations still marked active."""
        query = select(consultations.c.id).where(
            consultations.c.status == ConsultationStatus.ACTIVE,
            consultations.c.deleted_at.is_(None)).order_by(consultations.c.started_at)
        return (await self.session.scalars(query)).all()

    async def turns(self, consultation_id: uuid.UUID) -> Sequence[Turn]:
        """A consultation's turns in the order they were said."""
        query = (select(Turn).where(consultation_turns.c.consultation_id == consultation_id)
                 .order_by(consultation_turns.c.seq))
        return (await self.session.scalars(query)).all()
