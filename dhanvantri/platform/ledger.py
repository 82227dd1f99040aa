"""Double-entry ledger in Decimal rupees: every movement is a transaction whose entries sum to zero.

Balances are never stored; they are the sum of an account's entries. Accounts that belong to
people and merchants (``wallet``, ``merchant``) may never go below zero: a posting that debits
one first locks its row (``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite runs one unit of work
at a time), then checks the derived balance, so concurrent debits queue instead of overdrawing.

System accounts: ``escrow`` holds what patients paid until delivery, ``platform`` collects
commission, ``gateway`` is the counterpart of money that came in or went out through the payment
gateway (it goes negative as patients pay in; the whole ledger always sums to zero).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from ..http.errors import Conflict
from .clock import utcnow
from .commerce_tables import ledger_accounts, ledger_entries, ledger_transactions
from .domain.commerce import CENT

WALLET, MERCHANT = "wallet", "merchant"
ESCROW, PLATFORM, GATEWAY = "escrow", "platform", "gateway"
NON_NEGATIVE = frozenset({WALLET, MERCHANT})
SYSTEM_OWNER = "system"


@dataclass(frozen=True)
class Leg:
    """One side of a posting: ``amount`` is added to the account (negative: taken from it)."""

    kind: str
    owner: str
    amount: Decimal


class InsufficientFunds(Conflict):
    """A wallet or merchant account would go below zero."""

    code = "INSUFFICIENT_FUNDS"


async def account_id(session: AsyncSession, kind: str, owner: str = SYSTEM_OWNER,
                     now: Any = None) -> uuid.UUID:
    """The id of the ``(kind, owner)`` account, created on first use (race-safe)."""
    found = await session.scalar(select(ledger_accounts.c.id).where(
        ledger_accounts.c.kind == kind, ledger_accounts.c.owner == owner))
    if found is not None:
        return found
    insert = pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert
    await session.execute(insert(ledger_accounts).values(
        id=uuid.uuid4(), kind=kind, owner=owner, created_at=now or utcnow())
        .on_conflict_do_nothing(index_elements=["kind", "owner"]))
    return await session.scalar(select(ledger_accounts.c.id).where(  # type: ignore[return-value]
        ledger_accounts.c.kind == kind, ledger_accounts.c.owner == owner))


async def balance(session: AsyncSession, account: uuid.UUID) -> Decimal:
    """The sum of an account's entries."""
    total = await session.scalar(select(func.coalesce(func.sum(ledger_entries.c.amount), 0))
                                 .where(ledger_entries.c.account_id == account))
    return Decimal(total or 0).quantize(CENT)


async def owner_balance(session: AsyncSession, kind: str, owner: str) -> Decimal:
    """The balance of ``(kind, owner)``; zero when the account does not exist yet."""
    found = await session.scalar(select(ledger_accounts.c.id).where(
        ledger_accounts.c.kind == kind, ledger_accounts.c.owner == owner))
    return Decimal("0.00") if found is None else await balance(session, found)


async def post(session: AsyncSession, kind: str, reference: Any, legs: Sequence[Leg],
               now: Any) -> uuid.UUID:
    """Record one balanced transaction.

    Raises:
        ValueError: the legs do not sum to zero or carry sub-paisa amounts (a programming error).
        InsufficientFunds: a wallet or merchant account would end below zero.
    """
    if sum((leg.amount for leg in legs), Decimal(0)) != 0:
        raise ValueError("ledger legs must sum to zero")
    if any(leg.amount != leg.amount.quantize(CENT) for leg in legs):
        raise ValueError("ledger amounts are whole paise")
    ids = [await account_id(session, leg.kind, leg.owner, now) for leg in legs]
    debited = sorted({ids[i] for i, leg in enumerate(legs)
                      if leg.kind in NON_NEGATIVE and leg.amount < 0})
    if debited:
        # Sorted, so two transfers in opposite directions lock in the same order (no deadlock).
        await session.execute(select(ledger_accounts.c.id)
                              .where(ledger_accounts.c.id.in_(debited))
                              .order_by(ledger_accounts.c.id).with_for_update())
    for account in debited:
        change = sum((leg.amount for i, leg in enumerate(legs) if ids[i] == account),
                     Decimal(0))
        current = await balance(session, account)
        if current + change < 0:
            raise InsufficientFunds("not enough balance",
                                    details={"balance": str(current), "needed": str(-change)})
    txn = uuid.uuid4()
    await session.execute(ledger_transactions.insert().values(
        id=txn, kind=kind, reference=str(reference), created_at=now))
    await session.execute(ledger_entries.insert(), [
        {"id": uuid.uuid4(), "transaction_id": txn, "account_id": ids[i], "amount": leg.amount,
         "created_at": now} for i, leg in enumerate(legs)])
    return txn


async def entries(session: AsyncSession, account: uuid.UUID, limit: int = 50
                  ) -> list[dict[str, Any]]:
    """An account's newest entries with their transaction kind and reference."""
    rows = (await session.execute(
        select(ledger_entries.c.amount, ledger_entries.c.created_at,
               ledger_transactions.c.kind, ledger_transactions.c.reference)
        .join(ledger_transactions,
              ledger_transactions.c.id == ledger_entries.c.transaction_id)
        .where(ledger_entries.c.account_id == account)
        .order_by(ledger_entries.c.created_at.desc(), ledger_entries.c.id)
        .limit(limit))).all()
    return [{"amount": str(r.amount), "kind": r.kind, "reference": r.reference,
             "created_at": r.created_at.isoformat()} for r in rows]


async def total(session: AsyncSession) -> Decimal:
    """The sum of every entry in the ledger: always zero unless money was created or lost."""
    value = await session.scalar(select(func.coalesce(func.sum(ledger_entries.c.amount), 0)))
    return Decimal(value or 0).quantize(CENT)
