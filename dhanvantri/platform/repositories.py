"""Repositories: load and add domain objects; they never commit (the unit of work does)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import case, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ..http.principal import Role
from .domain.accounts import OtpChallenge, PatientProfile, PhysicianProfile, RefreshToken, User
from .domain.audit import AuditEvent
from .domain.prescriptions import Acknowledgement, Prescription, PrescriptionDocument, Status
from .orm import audit_events, prescriptions, refresh_tokens, users


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
            PrescriptionDocument.prescription_id == prescription_id)  # type: ignore[arg-type]
        return (await self.session.scalars(query)).first()

    async def acknowledgement(self, prescription_id: uuid.UUID) -> Acknowledgement | None:
        """The patient's acknowledgement."""
        query = select(Acknowledgement).where(
            Acknowledgement.prescription_id == prescription_id)  # type: ignore[arg-type]
        return (await self.session.scalars(query)).first()


class AuditRepository:
    """Reads the audit trail; new events go through ``UnitOfWork.record``."""

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
