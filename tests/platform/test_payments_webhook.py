"""Capture by the gateway webhook alone; replays and late confirmations move no money."""

from __future__ import annotations

from decimal import Decimal

from aiohttp.test_utils import TestClient

from dhanvantri.http.principal import Role
from dhanvantri.platform.bootstrap import Services
from dhanvantri.platform.domain.ledger import ESCROW
from dhanvantri.platform.gateways import SandboxGateway
from dhanvantri.platform.notifier import OutboxNotifier

from .commerce_setup import PIN, call, key, pharmacy
from .helpers import login_patient, make_staff


async def _escrow(services: Services) -> Decimal:
    async with services.uow() as uow:
        return await uow.ledger.owner_balance(ESCROW, "system")


async def test_webhook_captures_once(client: TestClient, services: Services,
                                     outbox: OutboxNotifier) -> None:
    patient = await login_patient(client, outbox)
    admin = await make_staff(client, services, Role.ADMIN)
    _owner, shop = await pharmacy(client, services, admin, {"ELECTRAL": 5})
    electral = next(m for m in (await call(client, "GET", "/medicines",
                                           params={"q": "electral"}))["items"]
                    if m["sku"] == "ELECTRAL")
    order = await call(client, "POST", "/orders", patient, 201, json={
        "pharmacy_id": shop, "pin_code": PIN, "address": "12 MG Road",
        "items": [{"medicine_id": electral["id"], "quantity": 2}]})
    started = await call(client, "POST", f"/orders/{order['id']}/pay", patient, 201,
                         headers=key(), json={"method": "gateway"})
    gateway = services.gateway
    assert isinstance(gateway, SandboxGateway)
    order_id = started["checkout"]["order_id"]
    checkout = gateway.checkout(order_id)  # the patient paid; the browser never called back
    pay_id = checkout["razorpay_payment_id"]

    wrong_amount, headers = gateway.webhook("payment.captured", order_id, pay_id, 4199, "evt_0")
    mismatch = await call(client, "POST", "/payments/webhook", None, 409, headers=headers,
                          data=wrong_amount)
    assert mismatch["error"]["code"] == "AMOUNT_MISMATCH"
    body, headers = gateway.webhook("payment.captured", order_id, pay_id, 4200, "evt_A")
    assert await call(client, "POST", "/payments/webhook", headers=headers, data=body) == {
        "status": "captured"}
    assert (await call(client, "GET", f"/orders/{order['id']}", patient))["status"] == "paid"
    assert await _escrow(services) == Decimal("42.00")

    replay = await call(client, "POST", "/payments/webhook", headers=headers, data=body)
    assert replay == {"status": "duplicate"}
    body_b, headers_b = gateway.webhook("order.paid", order_id, pay_id, 4200, "evt_B")
    assert await call(client, "POST", "/payments/webhook", headers=headers_b, data=body_b) == {
        "status": "already_captured"}
    late = await call(client, "POST", f"/payments/{started['payment']['id']}/confirm", patient,
                      json=checkout)
    assert late["status"] == "captured"
    assert await _escrow(services) == Decimal("42.00")
    async with services.uow() as uow:
        assert await uow.ledger.total() == 0

    stranger, headers_s = gateway.webhook("payment.captured", "order_unknown", "pay_x", 1, "evt_C")
    assert await call(client, "POST", "/payments/webhook", headers=headers_s,
                      data=stranger) == {"status": "ignored"}
    unsigned = await call(client, "POST", "/payments/webhook", None, 400, data=body)
    assert unsigned["error"]["code"] == "INVALID_SIGNATURE"
    # Someone else cannot confirm (or even see) this payment.
    other = await login_patient(client, outbox, phone="9988776655")
    await call(client, "GET", f"/payments/{started['payment']['id']}", other, 404)
    await call(client, "POST", f"/payments/{started['payment']['id']}/confirm", other, 404,
               json=checkout)
