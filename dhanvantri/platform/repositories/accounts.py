"""Users with their role profiles, one-time codes and refresh tokens."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ...http.principal import Role
from ..domain.accounts import OtpChallenge, PatientProfile, PhysicianProfile, RefreshToken, User
from ..tables.accounts import refresh_tokens, users


class UserRepository:
    """Users and their role profiles."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, item: User | PatientProfile | PhysicianProfile) -> None:
        """Stage a new user or profile."""
        self.session.add(item)

    async def get(self, user_id: uuid.UUID) -> User | None:
        """A user by id, deleted ones included (callers decide)."""
        return await self.session.get(User, user_id)

    async def by_email(self, email: str) -> User | None:
        """A staff user by e-mail (case-insensitive; stored lower-case)."""
        return await self._one(select(User).where(users.c.email == email.lower()))

    async def by_phone(self, phone: str) -> User | None:
        """A user by E.164 phone number."""
        return await self._one(select(User).where(users.c.phone == phone))

    async def list(self, role: Role | None = None, limit: int = 50, offset: int = 0
                   ) -> Sequence[User]:
        """Users not deleted, oldest first."""
        query = select(User).where(users.c.deleted_at.is_(None))
        if role is not None:
            query = query.where(users.c.role == role)
        query = query.order_by(users.c.created_at, users.c.id).limit(limit).offset(offset)
        return (await self.session.scalars(query)).all()

    async def patient(self, user_id: uuid.UUID) -> PatientProfile | None:
        """The patient profile of a user."""
        return await self.session.get(PatientProfile, user_id)

    async def physician(self, user_id: uuid.UUID) -> PhysicianProfile | None:
        """The physician profile of a user."""
        return await self.session.get(PhysicianProfile, user_id)

    async def _one(self, query: object) -> User | None:
        return (await self.session.scalars(query)).first()  # type: ignore[call-overload]


class CredentialRepository:
    """One-time codes and refresh tokens."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, item: OtpChallenge | RefreshToken) -> None:
        """Stage a new challenge or token."""
        self.session.add(item)

    async def otp(self, challenge_id: uuid.UUID) -> OtpChallenge | None:
        """A one-time-code challenge."""
        return await self.session.get(OtpChallenge, challenge_id, with_for_update=True)

    async def refresh_token(self, token_hash: str) -> RefreshToken | None:
        """A refresh token by the hash of its value."""
        query = select(RefreshToken).where(refresh_tokens.c.token_hash == token_hash)
        return (await self.session.scalars(query.with_for_update())).first()

    async def revoke_family(self, family_id: uuid.UUID, now: datetime) -> None:
        """Revoke every token of a family (logout, or reuse of a rotated token)."""
        await self.session.execute(
            update(refresh_tokens)
            .where(refresh_tokens.c.family_id == family_id, refresh_tokens.c.revoked_at.is_(None))
            .values(revoked_at=now, updated_at=now))

    async def revoke_user(self, user_id: uuid.UUID, now: datetime) -> None:
        """Revoke every refresh token of a user (deactivation)."""
        await self.session.execute(
            update(refresh_tokens)
            .where(refresh_tokens.c.user_id == user_id, refresh_tokens.c.revoked_at.is_(None))
            .values(revoked_at=now, updated_at=now))
