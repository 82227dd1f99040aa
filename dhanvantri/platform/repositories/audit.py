"""The audit trail: its events in chain order and the head that seals it."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ..domain.audit import AuditEvent
from ..tables.audit import audit_events, audit_head


class AuditRepository:
    """Reads the trail and moves its head; new events go through ``UnitOfWork.record``."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def events(self, *, entity_type: str | None = None, entity_id: str | None = None,
                     after_seq: int = 0, limit: int | None = None) -> Sequence[AuditEvent]:
        """Events in chain order, optionally for one entity."""
        query = select(AuditEvent).where(audit_events.c.seq > after_seq)
        if entity_type:
            query = query.where(audit_events.c.entity_type == entity_type)
        if entity_id:
            query = query.where(audit_events.c.entity_id == entity_id)
        query = query.order_by(audit_events.c.seq)
        if limit is not None:
            query = query.limit(limit)
        return (await self.session.scalars(query)).all()

    async def head(self, *, lock: bool = False) -> tuple[int, str]:
        """The chain's last sequence number and hash; ``lock`` holds the head until commit,
        so concurrent appenders queue up behind it."""
        query = select(audit_head.c.seq, audit_head.c.hash).where(audit_head.c.id == 1)
        row = (await self.session.execute(query.with_for_update() if lock else query)).one()
        return row.seq, row.hash

    async def append(self, events: Sequence[AuditEvent], seq: int, hash_: str) -> None:
        """Store sealed events and move the head to the last of them."""
        self.session.add_all(events)
        await self.session.flush()
        await self.session.execute(
            update(audit_head).where(audit_head.c.id == 1).values(seq=seq, hash=hash_))
