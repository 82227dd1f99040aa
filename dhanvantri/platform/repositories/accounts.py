"""Users with their role profiles, one-time codes, refresh tokens and login lockouts."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, exists, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from ...http.principal import Role
from ..domain.accounts import (
    OtpChallenge,
    PatientProfile,
    PhysicianProfile,
    RefreshToken,
    Strikes,
    User,
)
from ..tables.accounts import login_lockouts, refresh_tokens, users


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
        """A staff user by e-mail (case-insensitive), found by its blind index."""
        return await self._one(select(User).where(users.c.email_index == email))

    async def by_phone(self, phone: str) -> User | None:
        """A user by E.164 phone number, found by its blind index."""
        return await self._one(select(User).where(users.c.phone_index == phone))

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

    async def claim_totp_step(self, user_id: uuid.UUID, step: int) -> bool:
        """Record ``step`` as the user's last TOTP step unless it (or a later one) was used.

        One conditional UPDATE, so two logins racing with the same code cannot both win.
        """
        result = await self.session.execute(
            update(users)
            .where(users.c.id == user_id,
                   (users.c.mfa_last_step.is_(None)) | (users.c.mfa_last_step < step))
            .values(mfa_last_step=step)
            .execution_options(synchronize_session=False))
        return bool(result.rowcount)  # type: ignore[attr-defined]

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

    async def session_alive(self, family_id: uuid.UUID) -> bool:
        """Whether a refresh-token family still has an unrevoked token (a live session).

        Rotation revokes one token and adds its successor in one transaction; logout, reuse
        and deactivation revoke them all.
        """
        query = select(exists().where(refresh_tokens.c.family_id == family_id,
                                      refresh_tokens.c.revoked_at.is_(None)))
        return bool(await self.session.scalar(query))

    async def revoke_user(self, user_id: uuid.UUID, now: datetime) -> None:
        """Revoke every refresh token of a user (deactivation)."""
        await self.session.execute(
            update(refresh_tokens)
            .where(refresh_tokens.c.user_id == user_id, refresh_tokens.c.revoked_at.is_(None))
            .values(revoked_at=now, updated_at=now))


class LockoutRepository:
    """Failed login tries per hashed subject (``ratelimit.Lockouts``' database store)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, key: str) -> Strikes | None:
        """The subject's strikes, without locking."""
        row = (await self.session.execute(
            select(login_lockouts).where(login_lockouts.c.key == key))).first()
        return _strikes(row)

    async def hold(self, key: str) -> Strikes:
        """The subject's strikes, its row locked until the transaction ends (created empty if
        new, so that concurrent first tries also wait on it)."""
        dialect = self.session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        await self.session.execute(
            insert(login_lockouts).values(key=key, failures=0, locks=0)
            .on_conflict_do_nothing(index_elements=["key"]))
        row = (await self.session.execute(
            select(login_lockouts).where(login_lockouts.c.key == key).with_for_update())).first()
        return _strikes(row) or Strikes()

    async def put(self, key: str, strikes: Strikes) -> None:
        """Store the subject's strikes (after ``hold``)."""
        await self.session.execute(
            update(login_lockouts).where(login_lockouts.c.key == key)
            .values(failures=strikes.failures, locks=strikes.locks,
                    last_try_at=strikes.last_try_at, locked_until=strikes.locked_until))

    async def delete(self, key: str) -> None:
        """Forget the subject (a successful login)."""
        await self.session.execute(delete(login_lockouts).where(login_lockouts.c.key == key))


def _strikes(row: Any) -> Strikes | None:
    if row is None:
        return None
    return Strikes(row.failures, row.locks, row.last_try_at, row.locked_until)
