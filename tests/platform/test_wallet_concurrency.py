"""Wallet ledger under load on PostgreSQL: 100 concurrent debits and transfers against one
wallet lose or double no money, and the balance never goes below zero."""

from __future__ import annotations

import asyncio
import uuid
from decimal import Decimal

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select

from dhanvantri.platform import ledger, wallet
from dhanvantri.platform.bootstrap import Services
from dhanvantri.platform.commerce_tables import ledger_entries
from dhanvantri.platform.domain.audit import Actor
from dhanvantri.platform.idempotency import run_once
from dhanvantri.platform.ledger import InsufficientFunds, Leg
from dhanvantri.platform.notifier import OutboxNotifier

from .helpers import login_patient

START = Decimal("5000.00")
AMOUNT = Decimal("100.00")
CALLS = 100


async def _fund(services: Services, owner: uuid.UUID, amount: Decimal) -> None:
    async with services.uow() as uow:
        await ledger.post(uow.session, "topup", "test", [
            Leg(ledger.GATEWAY, ledger.SYSTEM_OWNER, -amount),
            Leg(ledger.WALLET, str(owner), amount)], uow.clock())
        await uow.commit()


async def _balance(services: Services, owner: uuid.UUID) -> Decimal:
    async with services.uow() as uow:
        return await ledger.owner_balance(uow.session, ledger.WALLET, str(owner))


@pytest.mark.postgres
@pytest.mark.parametrize("database", ["postgres"], indirect=True)
async def test_concurrent_debits_and_transfers(client: TestClient, services: Services,
                                               outbox: OutboxNotifier) -> None:
    payer = await login_patient(client, outbox)
    member = await login_patient(client, outbox, phone="9988776655")
    actor = Actor(payer.user_id, "patient")
    await wallet.add_family(services.uow(), actor, "9988776655")
    await _fund(services, payer.user_id, START)
    keys = [f"load-{i:03d}" for i in range(CALLS)]

    def work(i: int):  # type: ignore[no-untyped-def]
        if i % 2:
            return lambda uow: wallet.transfer(uow, actor, member.user_id, AMOUNT)
        return lambda uow: wallet.debit(uow, actor, AMOUNT, f"order-{i}")

    async def one(i: int) -> bool:
        try:
            await run_once(services.uow, payer.user_id, keys[i], "load", {"i": i}, work(i))
            return True
        except InsufficientFunds:
            return False

    # Twice what the wallet holds is asked for, all at once, over separate connections. Each
    # debit checks the balance under the wallet row's lock, so exactly half succeed and the
    # balance ends at zero; without the lock more succeed and it ends below zero.
    results = await asyncio.gather(*(one(i) for i in range(CALLS)))
    succeeded = sum(results)
    assert succeeded == START / AMOUNT  # exactly what the balance allowed, no more, no fewer
    assert await _balance(services, payer.user_id) == 0
    transferred = sum(1 for i, ok in enumerate(results) if ok and i % 2) * AMOUNT
    assert await _balance(services, member.user_id) == transferred

    async with services.uow() as uow:
        assert await ledger.total(uow.session) == 0
        # Every transaction balances on its own.
        unbalanced = (await uow.session.execute(
            select(ledger_entries.c.transaction_id).group_by(ledger_entries.c.transaction_id)
            .having(func.sum(ledger_entries.c.amount) != 0))).all()
        assert unbalanced == []
    # Replaying every request with its key changes nothing.
    again = await asyncio.gather(*(one(i) for i in range(CALLS)))
    assert [ok for ok in again if ok] == [ok for ok in results if ok]
    assert await _balance(services, payer.user_id) == 0
    assert await _balance(services, member.user_id) == transferred
