"""Unit of work: one transaction, its repositories, and the audit events it appends on commit."""

from __future__ import annotations

import asyncio
import json
from types import TracebackType
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from .changes import Change, ChangeFeed
from .clock import Clock, utcnow
from .domain.audit import Actor, AuditEvent, AuditKeys, canonical_json, mask_values
from .repositories.accounts import CredentialRepository, UserRepository
from .repositories.appointments import AppointmentRepository
from .repositories.audit import AuditRepository
from .repositories.catalog import MedicineRepository, MerchantRepository, StockRepository
from .repositories.consultations import ConsultationRepository
from .repositories.idempotency import IdempotencyRepository
from .repositories.labs import LabRepository
from .repositories.ledger import LedgerRepository
from .repositories.orders import OrderRepository
from .repositories.payments import PaymentRepository
from .repositories.prescriptions import PrescriptionRepository
from .repositories.settlement import PayoutRepository
from .repositories.wallet import FamilyRepository


class UnitOfWork:
    """Open with ``async with``; nothing is saved unless ``commit()`` is called.

    Audit events recorded with ``record()`` are sealed into the HMAC chain (under ``audit_keys``)
    inside the same transaction as the change they describe, so a change never lands without its
    event. The same events (and the wallets the ledger moved) are what ``changes`` announces to
    the people concerned, after a successful commit only.
    """

    users: UserRepository
    credentials: CredentialRepository
    prescriptions: PrescriptionRepository
    audit: AuditRepository
    medicines: MedicineRepository
    merchants: MerchantRepository
    stock: StockRepository
    orders: OrderRepository
    labs: LabRepository
    payments: PaymentRepository
    ledger: LedgerRepository
    payouts: PayoutRepository
    family: FamilyRepository
    idempotency: IdempotencyRepository
    consultations: ConsultationRepository
    appointments: AppointmentRepository
    session: AsyncSession

    def __init__(self, sessions: async_sessionmaker[AsyncSession], *, audit_keys: AuditKeys,
                 clock: Clock = utcnow, serialize: asyncio.Lock | None = None,
                 changes: ChangeFeed | None = None) -> None:
        self._sessions = sessions
        self.audit_keys = audit_keys
        self.clock = clock
        self._changes = changes or ChangeFeed()  # a feed nobody listens to gathers nothing
        # SQLite has one writer and snapshot reads: units of work there run one at a time, or a
        # stale snapshot would fail at commit. PostgreSQL passes None and locks the chain head.
        self._serialize = serialize
        self._pending: list[AuditEvent] = []
        self._committed: list[Change] = []  # announced on exit

    async def __aenter__(self) -> UnitOfWork:
        if self._serialize is not None:
            await self._serialize.acquire()
        session = self.session = self._sessions()
        self.users, self.credentials = UserRepository(session), CredentialRepository(session)
        self.prescriptions, self.audit = PrescriptionRepository(session), AuditRepository(session)
        self.medicines, self.merchants = MedicineRepository(session), MerchantRepository(session)
        self.stock, self.orders = StockRepository(session), OrderRepository(session)
        self.labs, self.payments = LabRepository(session), PaymentRepository(session)
        self.ledger, self.payouts = LedgerRepository(session), PayoutRepository(session)
        self.family, self.idempotency = FamilyRepository(session), IdempotencyRepository(session)
        self.consultations = ConsultationRepository(session)
        self.appointments = AppointmentRepository(session)
        self._pending, self._committed = [], []
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
        # Once the lock is free: a listener reaching another process must not hold up the
        # next writer. Pages refetch on a change, so its order matters less than its arrival.
        committed, self._committed = self._committed, []
        await self._changes.announce(committed)

    def record(self, actor: Actor, action: str, entity_type: str, entity_id: Any, *,
               old: dict[str, Any] | None = None, new: dict[str, Any] | None = None) -> None:
        """Queue an audit event for this transaction.

        Values are masked here, for every use case at once: only ``PLAIN_FIELDS`` (states, codes,
        amounts, ids) keep their values; every other field becomes a keyed hash.
        """
        old_values, new_values = mask_values(_plain(old), _plain(new), self.audit_keys.values)
        self._pending.append(AuditEvent(
            actor_id=actor.user_id, actor_role=actor.role, action=action,
            entity_type=entity_type, entity_id=str(entity_id),
            old_values=old_values, new_values=new_values, request_id=actor.request_id,
            created_at=self.clock()))

    async def flush(self) -> None:
        """Write staged objects now (e.g. a row others' foreign keys point to)."""
        await self.session.flush()

    async def commit(self) -> None:
        """Seal queued audit events onto the chain and commit everything atomically.

        What changed (``changes.py``) is announced when the unit of work closes, and never
        fails it.
        """
        events = self._pending
        if events:
            await self._append_audit()
        # Read before commit, inside the transaction that made the change.
        changes = await self._changes.gather(self, events, self.ledger.take_posted())
        await self.session.commit()
        self._committed.extend(changes)

    async def rollback(self) -> None:
        """Discard everything not committed (also done on exit)."""
        self._pending = []
        self.ledger.take_posted()
        await self.session.rollback()

    async def _append_audit(self) -> None:
        seq, prev = await self.audit.head(lock=True)
        for event in self._pending:
            seq += 1
            event.seal(seq, prev, self.audit_keys.chain)
            prev = event.hash
        await self.audit.append(self._pending, seq, prev)
        self._pending = []


def _plain(values: dict[str, Any] | None) -> dict[str, Any] | None:
    # Store exactly what is sealed: JSON-normalised (UUIDs, datetimes and Decimals as strings).
    return None if values is None else json.loads(canonical_json(values))
