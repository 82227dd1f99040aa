"""Persistence of cards, family members and shares inside a unit of work's transaction.

Rows are read into the plain domain classes and written back whole: the sharing records are
small and changed one at a time, so no mapper is needed for them.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Sequence
from typing import Any, TypeVar

from sqlalchemy import Table, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ..tables.sharing import emergency_cards, family_members, record_shares
from .domain import EmergencyCard, FamilyMember, Level, MemberStatus, Share

T = TypeVar("T")
_TABLES: dict[type[Any], Table] = {EmergencyCard: emergency_cards, FamilyMember: family_members,
                                   Share: record_shares}


class SharingRepository:
    """Cards, family members and shares, on the unit of work's session."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, item: EmergencyCard | FamilyMember | Share) -> None:
        """Insert a new record."""
        await self.session.execute(insert(_TABLES[type(item)]).values(_values(item)))

    async def save(self, item: EmergencyCard | FamilyMember | Share) -> None:
        """Write back a changed record."""
        table = _TABLES[type(item)]
        values = _values(item)
        del values["id"]
        await self.session.execute(update(table).where(table.c.id == item.id).values(values))

    # ---- cards
    async def card_by_token(self, digest: str) -> EmergencyCard | None:
        """The card a link's token digest names (live or revoked)."""
        return await self._one(EmergencyCard, emergency_cards.c.token_hash == digest)

    async def live_card(self, patient_id: uuid.UUID) -> EmergencyCard | None:
        """The patient's card whose link works, if any."""
        return await self._one(EmergencyCard, emergency_cards.c.patient_id == patient_id,
                               emergency_cards.c.revoked_at.is_(None))

    # ---- family
    async def member(self, member_row_id: uuid.UUID) -> FamilyMember | None:
        """One membership by its own id."""
        return await self._one(FamilyMember, family_members.c.id == member_row_id)

    async def membership(self, owner_id: uuid.UUID, member_id: uuid.UUID
                         ) -> FamilyMember | None:
        """The membership of ``member_id`` in ``owner_id``'s family, whatever its state."""
        return await self._one(FamilyMember, family_members.c.owner_id == owner_id,
                               family_members.c.member_id == member_id)

    async def family_of(self, owner_id: uuid.UUID) -> Sequence[FamilyMember]:
        """Everyone in an owner's family (every state), oldest first."""
        return await self._all(FamilyMember, family_members.c.owner_id == owner_id)

    async def memberships_of(self, member_id: uuid.UUID) -> Sequence[FamilyMember]:
        """The families ``member_id`` is in or invited to (every state)."""
        return await self._all(FamilyMember, family_members.c.member_id == member_id)

    async def dependent_row(self, subject_id: uuid.UUID) -> FamilyMember | None:
        """The active membership that makes ``subject_id`` someone's dependent."""
        return await self._one(FamilyMember, family_members.c.member_id == subject_id,
                               family_members.c.level == Level.DEPENDENT,
                               family_members.c.status == MemberStatus.ACTIVE)

    # ---- shares
    async def share(self, share_id: uuid.UUID) -> Share | None:
        """One share by id."""
        return await self._one(Share, record_shares.c.id == share_id)

    async def share_by_token(self, digest: str) -> Share | None:
        """The share a link's token digest names."""
        return await self._one(Share, record_shares.c.token_hash == digest)

    async def share_by_session(self, digest: str) -> Share | None:
        """The share a recipient's session digest is bound to."""
        return await self._one(Share, record_shares.c.session_hash == digest)

    async def shares_of(self, patient_id: uuid.UUID, limit: int = 50) -> Sequence[Share]:
        """A patient's shares, newest first."""
        rows = await self.session.execute(
            select(record_shares).where(record_shares.c.patient_id == patient_id)
            .order_by(record_shares.c.created_at.desc(), record_shares.c.id).limit(limit))
        return [Share(**row._mapping) for row in rows]

    # ---- rows to records
    async def _one(self, cls: type[T], *where: Any) -> T | None:
        found = await self._all(cls, *where)
        return found[0] if found else None

    async def _all(self, cls: type[T], *where: Any) -> list[T]:
        table = _TABLES[cls]
        rows = await self.session.execute(
            select(table).where(*where).order_by(table.c.created_at, table.c.id))
        return [cls(**row._mapping) for row in rows]


def _values(item: Any) -> dict[str, Any]:
    return {f.name: getattr(item, f.name) for f in dataclasses.fields(item)}
