"""Idempotency keys: the first answer to a money-moving request, stored under its key."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ..tables.money import idempotency_keys


@dataclass(frozen=True)
class StoredAnswer:
    """What a key holds: the request's fingerprint and the answer given to it."""

    fingerprint: str
    status: int
    response: dict[str, Any]


class IdempotencyRepository:
    """Keys are claimed before the work, in the same transaction, and answered after it."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def stored(self, user_id: uuid.UUID, key: str) -> StoredAnswer | None:
        """The answer stored under a caller's key."""
        row = (await self.session.execute(
            select(idempotency_keys.c.fingerprint, idempotency_keys.c.status,
                   idempotency_keys.c.response)
            .where(idempotency_keys.c.user_id == user_id, idempotency_keys.c.key == key))
               ).first()
        return None if row is None else StoredAnswer(row.fingerprint, row.status, row.response)

    async def claim(self, user_id: uuid.UUID, key: str, fingerprint: str, now: datetime
                    ) -> uuid.UUID | None:
        """Insert the key; None when a concurrent request committed it first.

        A concurrent duplicate blocks on the unique index until the first commits, then fails
        here. The transaction is then spoiled: the caller starts a fresh unit of work.
        """
        claim_id = uuid.uuid4()
        try:
            await self.session.execute(idempotency_keys.insert().values(
                id=claim_id, user_id=user_id, key=key, fingerprint=fingerprint, status=0,
                response={}, created_at=now))
        except IntegrityError:
            return None
        return claim_id

    async def answer(self, claim_id: uuid.UUID, status: int, response: dict[str, Any]) -> None:
        """Store the answer the claimed key replays from now on."""
        await self.session.execute(update(idempotency_keys)
                                   .where(idempotency_keys.c.id == claim_id)
                                   .values(status=status, response=response))
