"""Wallet through the API: top-up, family transfer, idempotent replays, never below zero."""

from __future__ import annotations

import pytest
from aiohttp.test_utils import TestClient

from dhanvantri.platform.bootstrap import Services
from dhanvantri.platform.notifier import OutboxNotifier

from .commerce_setup import call, key, pay_by_sandbox
from .helpers import login_patient


async def test_topup_transfer_and_replays(client: TestClient, services: Services,
                                          outbox: OutboxNotifier) -> None:
    mother = await login_patient(client, outbox)
    son = await login_patient(client, outbox, phone="9988776655")
    stranger = await login_patient(client, outbox, phone="9876501234")
    assert await call(client, "GET", "/wallet", mother) == {"balance": "0.00", "entries": [],
                                                          "topup_max": "10000.00"}

    topup = await call(client, "POST", "/wallet/topup", mother, 201, headers=key(),
                       json={"amount": "1000.50"})
    assert topup["checkout"]["amount_paise"] == 100050
    assert (await call(client, "GET", "/wallet", mother))["balance"] == "0.00"  # not yet paid
    await pay_by_sandbox(client, mother, topup)
    # The gateway's webhook for the same payment does not credit it twice.
    paid = await call(client, "GET", f"/payments/{topup['payment']['id']}", mother)
    body, headers = services.gateway.webhook(  # type: ignore[union-attr]
        "payment.captured", paid["gateway_order_id"], paid["gateway_payment_id"], 100050)
    assert await call(client, "POST", "/payments/webhook", headers=headers, data=body) == {
        "status": "already_captured"}
    assert (await call(client, "GET", "/wallet", mother))["balance"] == "1000.50"

    # Transfers go only to family members added first.
    refused = await call(client, "POST", "/wallet/transfer", mother, 404, headers=key(),
                         json={"member_id": str(son.user_id), "amount": "10"})
    assert refused["error"]["code"] == "NOT_FOUND"
    # The son consents by reading out the code he was sent.
    asked = await call(client, "POST", "/wallet/family", mother, 202,
                       json={"phone": "9988776655"})
    linked = await call(client, "POST", "/wallet/family/confirm", mother, 201, json={
        "challenge_id": asked["challenge_id"], "code": outbox.last_code("+919988776655")})
    assert linked["member_id"] == str(son.user_id)
    headers = key()
    sent = await call(client, "POST", "/wallet/transfer", mother, 201, headers=headers,
                      json={"member_id": str(son.user_id), "amount": "400.25"})
    replay = await call(client, "POST", "/wallet/transfer", mother, 201, headers=headers,
                        json={"member_id": str(son.user_id), "amount": "400.25"})
    assert replay == sent
    assert (await call(client, "GET", "/wallet", mother))["balance"] == "600.25"
    assert (await call(client, "GET", "/wallet", son))["balance"] == "400.25"
    history = (await call(client, "GET", "/wallet", son))["entries"]
    assert [(e["kind"], e["amount"]) for e in history] == [("transfer", "400.25")]

    # More than the balance is refused and moves nothing.
    short = await call(client, "POST", "/wallet/transfer", mother, 409, headers=key(),
                       json={"member_id": str(son.user_id), "amount": "600.26"})
    assert short["error"]["code"] == "INSUFFICIENT_FUNDS"
    assert short["error"]["details"] == {"balance": "600.25", "needed": "600.26"}
    assert (await call(client, "GET", "/wallet", mother))["balance"] == "600.25"
    # The son is not the stranger's family; money never leaves as a float.
    await call(client, "POST", "/wallet/transfer", stranger, 404, headers=key(),
               json={"member_id": str(son.user_id), "amount": "1"})
    floaty = await call(client, "POST", "/wallet/transfer", mother, 422, headers=key(),
                        json={"member_id": str(son.user_id), "amount": 1.5})
    assert floaty["error"]["details"][0]["field"] == "amount"


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
async def test_idempotency_key_is_per_caller(client: TestClient, services: Services,
                                             outbox: OutboxNotifier) -> None:
    one = await login_patient(client, outbox)
    two = await login_patient(client, outbox, phone="9988776655")
    shared = key()
    first = await call(client, "POST", "/wallet/topup", one, 201, headers=shared,
                       json={"amount": "10"})
    second = await call(client, "POST", "/wallet/topup", two, 201, headers=shared,
                        json={"amount": "10"})
    assert first["payment"]["id"] != second["payment"]["id"]
