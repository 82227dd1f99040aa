"""Unit of work: one transaction, its repositories, and the audit events it appends on commit."""

from __future__ import annotations

import asyncio
import json
from types import TracebackType
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from .clock import Clock, utcnow
from .domain.audit import Actor, AuditEvent, canonical_json
from .orm import audit_head
from .repositories import (
    AuditRepository,
    CredentialRepository,
    PrescriptionRepository,
    UserRepository,
)


class UnitOfWork:
    """Open with ``async with``; nothing is saved unless ``commit()`` is called.

    Audit events recorded with ``record()`` are sealed into the hash chain inside the same
    transaction as the change they describe, so a change never lands without its event.
    """

    users: UserRepository
    credentials: CredentialRepository
    prescriptions: PrescriptionRepository
    audit: AuditRepository
    session: AsyncSession

    def __init__(self, sessions: async_sessionmaker[AsyncSession], *, clock: Clock = utcnow,
                 serialize: asyncio.Lock | None = None) -> None:
        self._sessions = sessions
        self.clock = clock
        # SQLite has one writer and snapshot reads: units of work there run one at a time, or a
        # stale snapshot would fail at commit. PostgreSQL passes None and locks the chain head.
        self._serialize = serialize
        self._pending: list[AuditEvent] = []

    async def __aenter__(self) -> UnitOfWork:
        if self._serialize is not None:
            await self._serialize.acquire()
        self.session = self._sessions()
        self.users = UserRepository(self.session)
        self.credentials = CredentialRepository(self.session)
        self.prescriptions = PrescriptionRepository(self.session)
        self.audit = AuditRepository(self.session)
        self._pending = []
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        try:
            # close() rolls back anything uncommitted and detaches objects without expiring
            # them, so results read inside the unit of work stay readable after it.
            self._pending = []
            await self.session.close()
        finally:
            if self._serialize is not None:
                self._serialize.release()

    def record(self, actor: Actor, action: str, entity_type: str, entity_id: Any, *,
               old: dict[str, Any] | None = None, new: dict[str, Any] | None = None) -> None:
        """Queue an audit event for this transaction."""
        self._pending.append(AuditEvent(
            actor_id=actor.user_id, actor_role=actor.role, action=action,
            entity_type=entity_type, entity_id=str(entity_id),
            old_values=_plain(old), new_values=_plain(new), request_id=actor.request_id,
            created_at=self.clock()))

    async def commit(self) -> None:
        """Seal queued audit events onto the chain and commit everything atomically."""
        if self._pending:
            await self._append_audit()
        await self.session.commit()

    async def rollback(self) -> None:
        """Discard everything not committed (also done on exit)."""
        self._pending = []
        await self.session.rollback()

    async def _append_audit(self) -> None:
        # The head row is locked until commit, so concurrent appenders queue up behind it.
        head = (await self.session.execute(
            select(audit_head.c.seq, audit_head.c.hash).where(audit_head.c.id == 1)
            .with_for_update())).one()
        seq, prev = head.seq, head.hash
        for event in self._pending:
            seq += 1
            event.seal(seq, prev)
            prev = event.hash
            self.session.add(event)
        await self.session.flush()
        await self.session.execute(
            update(audit_head).where(audit_head.c.id == 1).values(seq=seq, hash=prev))
        self._pending = []


def _plain(values: dict[str, Any] | None) -> dict[str, Any] | None:
    # Store exactly what is hashed: JSON-normalised (UUIDs, datetimes and Decimals as strings).
    return None if values is None else json.loads(canonical_json(values))
