"""Family links between wallets."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ..domain.accounts import User
from ..domain.wallet import FamilyLink
from ..tables.accounts import users
from ..tables.money import family_links


class FamilyRepository:
    """Who may send money to whom."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, link: FamilyLink) -> None:
        """Stage a new link."""
        self.session.add(link)

    async def link(self, owner_id: uuid.UUID, member_id: uuid.UUID) -> FamilyLink | None:
        """The link from ``owner_id`` to ``member_id``, if they added them."""
        return (await self.session.scalars(select(FamilyLink).where(
            family_links.c.owner_id == owner_id, family_links.c.member_id == member_id))).first()

    async def members(self, owner_id: uuid.UUID) -> list[tuple[FamilyLink, User]]:
        """The members ``owner_id`` added, oldest link first, with their accounts."""
        rows = (await self.session.execute(
            select(FamilyLink, User).join(users, users.c.id == family_links.c.member_id)
            .where(family_links.c.owner_id == owner_id)
            .order_by(family_links.c.created_at, family_links.c.id))).all()
        return [(link, user) for link, user in rows]
