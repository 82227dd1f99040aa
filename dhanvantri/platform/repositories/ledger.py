"""The double-entry ledger in Decimal rupees: balanced postings and derived balances.

Balances are never stored; they are the sum of an account's entries. Accounts that belong to
people and merchants may never go below zero: a posting that debits one first locks its row
(``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite runs one unit of work at a time), then checks
the derived balance, so concurrent debits queue instead of overdrawing.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from ..domain.ledger import (
    NON_NEGATIVE,
    SYSTEM_OWNER,
    Entry,
    InsufficientFunds,
    Leg,
    check_balanced,
)
from ..domain.money import CENT
from ..tables.money import ledger_accounts, ledger_entries, ledger_transactions


class LedgerRepository:
    """Postings and balances (ledger rows are plain records, not domain objects)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self._posted: list[Leg] = []  # since the last take_posted(): wallets to announce

    async def account_id(self, kind: str, owner: str, now: datetime) -> uuid.UUID:
        """The id of the ``(kind, owner)`` account, created on first use (race-safe)."""
        found = await self._find(kind, owner)
        if found is not None:
            return found
        postgres = self.session.get_bind().dialect.name == "postgresql"
        insert = pg_insert if postgres else sqlite_insert
        await self.session.execute(insert(ledger_accounts).values(
            id=uuid.uuid4(), kind=kind, owner=owner, created_at=now)
            .on_conflict_do_nothing(index_elements=["kind", "owner"]))
        return await self._find(kind, owner)  # type: ignore[return-value]

    async def _find(self, kind: str, owner: str) -> uuid.UUID | None:
        return await self.session.scalar(select(ledger_accounts.c.id).where(
            ledger_accounts.c.kind == kind, ledger_accounts.c.owner == owner))

    async def balance(self, account: uuid.UUID) -> Decimal:
        """The sum of an account's entries."""
        total = await self.session.scalar(
            select(func.coalesce(func.sum(ledger_entries.c.amount), 0))
            .where(ledger_entries.c.account_id == account))
        return Decimal(total or 0).quantize(CENT)

    async def owner_balance(self, kind: str, owner: str = SYSTEM_OWNER) -> Decimal:
        """The balance of ``(kind, owner)``; zero when the account does not exist yet."""
        found = await self._find(kind, owner)
        return Decimal("0.00") if found is None else await self.balance(found)

    async def post(self, kind: str, reference: Any, legs: Sequence[Leg], now: datetime
                   ) -> uuid.UUID:
        """Record one balanced transaction; returns its id.

        Raises:
            ValueError: the legs do not sum to zero or carry sub-paisa amounts (a bug).
            InsufficientFunds: a wallet or merchant account would end below zero.
        """
        check_balanced(legs)
        ids = [await self.account_id(leg.kind, leg.owner, now) for leg in legs]
        debited = sorted({ids[i] for i, leg in enumerate(legs)
                          if leg.kind in NON_NEGATIVE and leg.amount < 0})
        if debited:
            # Sorted, so two transfers in opposite directions lock in the same order (no deadlock).
            await self.session.execute(select(ledger_accounts.c.id)
                                       .where(ledger_accounts.c.id.in_(debited))
                                       .order_by(ledger_accounts.c.id).with_for_update())
        for account in debited:
            change = sum((leg.amount for i, leg in enumerate(legs) if ids[i] == account),
                         Decimal(0))
            current = await self.balance(account)
            if current + change < 0:
                raise InsufficientFunds("not enough balance",
                                        details={"balance": str(current), "needed": str(-change)})
        txn = uuid.uuid4()
        await self.session.execute(ledger_transactions.insert().values(
            id=txn, kind=kind, reference=str(reference), created_at=now))
        await self.session.execute(ledger_entries.insert(), [
            {"id": uuid.uuid4(), "transaction_id": txn, "account_id": ids[i],
             "amount": leg.amount, "created_at": now} for i, leg in enumerate(legs)])
        self._posted.extend(legs)
        return txn

    def take_posted(self) -> list[Leg]:
        """The legs posted since the last call (the unit of work announces moved wallets)."""
        posted, self._posted = self._posted, []
        return posted

    async def entries(self, account: uuid.UUID, limit: int = 50) -> list[Entry]:
        """An account's newest entries with their transaction kind and reference."""
        rows = (await self.session.execute(
            select(ledger_entries.c.amount, ledger_entries.c.created_at,
                   ledger_transactions.c.kind, ledger_transactions.c.reference)
            .join(ledger_transactions,
                  ledger_transactions.c.id == ledger_entries.c.transaction_id)
            .where(ledger_entries.c.account_id == account)
            .order_by(ledger_entries.c.created_at.desc(), ledger_entries.c.id)
            .limit(limit))).all()
        return [Entry(r.amount, r.kind, r.reference, r.created_at) for r in rows]

    async def total(self) -> Decimal:
        """The sum of every entry: always zero unless money was created or lost."""
        value = await self.session.scalar(
            select(func.coalesce(func.sum(ledger_entries.c.amount), 0)))
        return Decimal(value or 0).quantize(CENT)

    async def unbalanced(self) -> list[uuid.UUID]:
        """Transactions whose entries do not sum to zero (there should be none)."""
        return list((await self.session.scalars(
            select(ledger_entries.c.transaction_id).group_by(ledger_entries.c.transaction_id)
            .having(func.sum(ledger_entries.c.amount) != 0))).all())
