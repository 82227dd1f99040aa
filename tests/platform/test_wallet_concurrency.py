"""Wallet ledger under load on PostgreSQL: 100 concurrent wallet payments and transfers against
one wallet lose or double no money, and the balance never goes below zero."""

from __future__ import annotations

import asyncio
import uuid
from decimal import Decimal

import pytest
from aiohttp.test_utils import TestClient

from dhanvantri.http.principal import Role
from dhanvantri.platform.bootstrap import Services
from dhanvantri.platform.commerce import orders, wallet
from dhanvantri.platform.commerce.idempotency import run_once
from dhanvantri.platform.domain.audit import Actor
from dhanvantri.platform.domain.ledger import (
    ESCROW,
    GATEWAY,
    SYSTEM_OWNER,
    WALLET,
    InsufficientFunds,
    Leg,
)
from dhanvantri.platform.notifier import OutboxNotifier

from .commerce_setup import PIN, call, pharmacy
from .helpers import login_patient, make_staff

CALLS = 100
PAYMENTS = CALLS // 2


async def _fund(services: Services, owner: uuid.UUID, amount: Decimal) -> None:
    async with services.uow() as uow:
        await uow.ledger.post("topup", "test", [
            Leg(GATEWAY, SYSTEM_OWNER, -amount), Leg(WALLET, str(owner), amount)], uow.clock())
        await uow.commit()


async def _balance(services: Services, kind: str, owner: str) -> Decimal:
    async with services.uow() as uow:
        return await uow.ledger.owner_balance(kind, owner)


async def _orders(client: TestClient, services: Services, actor: Actor) -> list[uuid.UUID]:
    """One placed order of one Electral sachet per wallet payment, at a well-stocked pharmacy."""
    admin = await make_staff(client, services, Role.ADMIN)
    _owner, shop = await pharmacy(client, services, admin, {"ELECTRAL": PAYMENTS})
    found = await call(client, "GET", "/medicines", params={"q": "electral"})
    electral = next(m for m in found["items"] if m["sku"] == "ELECTRAL")
    placed = [await orders.place(services.uow(), actor, uuid.UUID(shop), PIN, "12 MG Road",
                                 [(uuid.UUID(electral["id"]), 1)], None)
              for _ in range(PAYMENTS)]
    return [uuid.UUID(order["id"]) for order in placed]


@pytest.mark.postgres
@pytest.mark.parametrize("database", ["postgres"], indirect=True)
async def test_concurrent_payments_and_transfers(client: TestClient, services: Services,
                                                 outbox: OutboxNotifier) -> None:
    payer = await login_patient(client, outbox)
    member = await login_patient(client, outbox, phone="9988776655")
    actor = Actor(payer.user_id, "patient")
    asked = await wallet.ask_family(services.uow(), services.otps, outbox, actor, "9988776655")
    await wallet.confirm_family(services.uow(), services.otps, actor,
                                uuid.UUID(asked["challenge_id"]), outbox.last_code())
    order_ids = await _orders(client, services, actor)
    amount = Decimal("21.00")  # one sachet; each transfer moves the same
    start = amount * PAYMENTS
    await _fund(services, payer.user_id, start)
    keys = [f"load-{i:03d}" for i in range(CALLS)]

    def work(i: int):  # type: ignore[no-untyped-def]
        if i % 2:
            return lambda uow: wallet.transfer(uow, actor, member.user_id, amount)
        return lambda uow: orders.pay(uow, services.cashier, actor, order_ids[i // 2], "wallet")

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
    assert sum(results) == PAYMENTS  # exactly what the balance allowed, no more, no fewer
    paid = sum(1 for i, ok in enumerate(results) if ok and not i % 2) * amount
    transferred = sum(1 for i, ok in enumerate(results) if ok and i % 2) * amount
    assert await _balance(services, WALLET, str(payer.user_id)) == 0
    assert await _balance(services, WALLET, str(member.user_id)) == transferred
    assert await _balance(services, ESCROW, SYSTEM_OWNER) == paid

    async with services.uow() as uow:
        assert await uow.ledger.total() == 0
        assert await uow.ledger.unbalanced() == []  # every transaction balances on its own
        states = [(await uow.orders.get(order_id)).status  # type: ignore[union-attr]
                  for order_id in order_ids]
    assert [s == "paid" for s in states] == [ok for i, ok in enumerate(results) if not i % 2]
    # Replaying every request with its key changes nothing.
    again = await asyncio.gather(*(one(i) for i in range(CALLS)))
    assert again == results
    assert await _balance(services, WALLET, str(payer.user_id)) == 0
    assert await _balance(services, WALLET, str(member.user_id)) == transferred
    assert await _balance(services, ESCROW, SYSTEM_OWNER) == paid
