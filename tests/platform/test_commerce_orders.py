"""Orders beyond the happy path: cancel and refunds, stock, delivery-code escalation and expiry."""

from __future__ import annotations

import uuid
from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from dhanvantri.http.principal import Role
from dhanvantri.platform import keys
from dhanvantri.platform.bootstrap import Services
from dhanvantri.platform.clock import ManualClock
from dhanvantri.platform.domain.ledger import ESCROW
from dhanvantri.platform.notifier import OutboxNotifier
from dhanvantri.platform.otp import CodeHasher

from .commerce_setup import PIN, call, key, pay_by_sandbox, pharmacy
from .helpers import Person, login_patient, make_staff

pytestmark = pytest.mark.parametrize("database", ["sqlite"], indirect=True)
OTC = {"DOLO-650": 2, "ELECTRAL": 5}


async def _medicine(client: TestClient, sku: str) -> dict[str, Any]:
    found = await call(client, "GET", "/medicines", params={"q": sku.split("-")[0].lower()})
    return next(m for m in found["items"] if m["sku"] == sku)


async def _order(client: TestClient, patient: Person, shop_id: str, sku: str, qty: int
                 ) -> dict[str, Any]:
    medicine = await _medicine(client, sku)
    return await call(client, "POST", "/orders", patient, 201, json={
        "pharmacy_id": shop_id, "pin_code": PIN, "address": "12 MG Road",
        "items": [{"medicine_id": medicine["id"], "quantity": qty}]})


async def _free(client: TestClient, sku: str) -> int:
    medicine = await _medicine(client, sku)
    body = await call(client, "GET", f"/medicines/{medicine['id']}", params={"pin_code": PIN})
    return sum(s["available"] for s in body["stock"])


async def _total(services: Services) -> Decimal:
    async with services.uow() as uow:
        return await uow.ledger.total()


async def test_cancel_paid_order_releases_stock_and_refunds(
        client: TestClient, services: Services, outbox: OutboxNotifier) -> None:
    patient = await login_patient(client, outbox)
    admin = await make_staff(client, services, Role.ADMIN)
    _owner, shop = await pharmacy(client, services, admin, OTC)
    order = await _order(client, patient, shop, "DOLO-650", 2)  # OTC: no prescription needed
    started = await call(client, "POST", f"/orders/{order['id']}/pay", patient, 201,
                         headers=key(), json={"method": "gateway"})
    await pay_by_sandbox(client, patient, started)
    assert await _free(client, "DOLO-650") == 0
    # Someone else cannot buy the reserved packs.
    other = await login_patient(client, outbox, phone="9988776655")
    late = await _order(client, other, shop, "DOLO-650", 1)
    await pay_by_sandbox(client, other, await call(
        client, "POST", "/wallet/topup", other, 201, headers=key(), json={"amount": "50"}))
    refused = await call(client, "POST", f"/orders/{late['id']}/pay", other, 409,
                         headers=key(), json={"method": "wallet"})
    assert refused["error"]["code"] == "OUT_OF_STOCK"
    assert (await call(client, "GET", "/wallet", other))["balance"] == "50.00"

    cancelled = await call(client, "POST", f"/orders/{order['id']}/cancel", patient,
                           json={"reason": "changed my mind"})
    assert cancelled["status"] == "refunded"
    assert await _free(client, "DOLO-650") == 2
    payment = await call(client, "GET", f"/payments/{started['payment']['id']}", patient)
    assert (payment["status"], payment["refunded"]) == ("refunded", "60.48")
    await call(client, "POST", f"/orders/{order['id']}/cancel", patient, 409, json={})
    assert await _total(services) == 0
    async with services.uow() as uow:
        assert await uow.ledger.owner_balance(ESCROW, "system") == 0


async def test_partial_and_full_refunds_by_support(
        client: TestClient, services: Services, outbox: OutboxNotifier) -> None:
    patient = await login_patient(client, outbox)
    admin = await make_staff(client, services, Role.ADMIN)
    support = await make_staff(client, services, Role.SUPPORT)
    _owner, shop = await pharmacy(client, services, admin, OTC)
    order = await _order(client, patient, shop, "ELECTRAL", 4)  # 4 x 21.00
    await pay_by_sandbox(client, patient, await call(
        client, "POST", "/wallet/topup", patient, 201, headers=key(), json={"amount": "100"}))
    paid = await call(client, "POST", f"/orders/{order['id']}/pay", patient, 201,
                      headers=key(), json={"method": "wallet"})
    payment_id = paid["payment"]["id"]
    assert (await call(client, "GET", "/wallet", patient))["balance"] == "16.00"

    # One sachet was damaged: refund 21.00 to the wallet; replaying the request changes nothing.
    headers = key()
    part = {"amount": "21.00", "destination": "wallet", "reason": "one sachet damaged"}
    first = await call(client, "POST", f"/payments/{payment_id}/refund", support, 201,
                       headers=headers, json=part)
    second = await call(client, "POST", f"/payments/{payment_id}/refund", support, 201,
                        headers=headers, json=part)
    assert first == second and first["status"] == "partially_refunded"
    assert (await call(client, "GET", "/wallet", patient))["balance"] == "37.00"
    too_much = await call(client, "POST", f"/payments/{payment_id}/refund", support, 409,
                          headers=key(), json={"amount": "63.01", "reason": "x"})
    assert too_much["error"]["code"] == "REFUND_TOO_LARGE"
    missing_key = await call(client, "POST", f"/payments/{payment_id}/refund", support, 422,
                             json={"reason": "x"})
    assert missing_key["error"]["details"][0]["field"] == "Idempotency-Key"
    # The rest: the order becomes refunded and its stock is released.
    rest = await call(client, "POST", f"/payments/{payment_id}/refund", support, 201,
                      headers=key(), json={"reason": "order abandoned"})
    assert (rest["status"], rest["refunded"]) == ("refunded", "84.00")
    assert (await call(client, "GET", f"/orders/{order['id']}", patient))["status"] == "refunded"
    assert await _free(client, "ELECTRAL") == 5
    assert (await call(client, "GET", "/wallet", patient))["balance"] == "100.00"
    assert await _total(services) == 0


async def _out_for_delivery(client: TestClient, services: Services, outbox: OutboxNotifier
                            ) -> tuple[Person, Person, dict[str, Any]]:
    patient = await login_patient(client, outbox)
    admin = await make_staff(client, services, Role.ADMIN)
    owner, shop = await pharmacy(client, services, admin, OTC)
    order = await _order(client, patient, shop, "ELECTRAL", 1)
    await pay_by_sandbox(client, patient, await call(
        client, "POST", f"/orders/{order['id']}/pay", patient, 201, headers=key(),
        json={"method": "gateway"}))
    for step in ("pack", "ship", "dispatch"):
        await call(client, "POST", f"/orders/{order['id']}/{step}", owner)
    return patient, owner, order


async def test_three_wrong_codes_escalate_to_support(
        client: TestClient, services: Services, outbox: OutboxNotifier) -> None:
    patient, owner, order = await _out_for_delivery(client, services, outbox)
    code = outbox.last_code(patient.phone)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for _ in range(2):
        await call(client, "POST", f"/orders/{order['id']}/deliver", owner, 401,
                   json={"otp": wrong})
    third = await call(client, "POST", f"/orders/{order['id']}/deliver", owner, 429,
                       json={"otp": wrong})
    assert third["error"]["code"] == "DELIVERY_ESCALATED"
    # Escalated: even the right code is refused, and the pharmacy cannot issue a new one.
    await call(client, "POST", f"/orders/{order['id']}/deliver", owner, 429, json={"otp": code})
    blocked = await call(client, "POST", f"/orders/{order['id']}/delivery-otp", owner, 409)
    assert blocked["error"]["code"] == "ESCALATED_TO_SUPPORT"
    # A paid order out for delivery cannot be cancelled by the patient either.
    await call(client, "POST", f"/orders/{order['id']}/cancel", patient, 409, json={})
    support = await make_staff(client, services, Role.SUPPORT)
    await call(client, "POST", f"/orders/{order['id']}/delivery-otp", support)
    fresh = outbox.last_code(patient.phone)
    done = await call(client, "POST", f"/orders/{order['id']}/deliver", owner,
                      json={"otp": fresh})
    assert done["status"] == "delivered" and done["payout"]["gross"] == "21.00"
    # After the payout the money is the pharmacy's: no refund from escrow.
    admin = await make_staff(client, services, Role.ADMIN)
    late = await call(client, "POST", f"/payments/{done['payment_id']}/refund", admin, 409,
                      headers=key(), json={"reason": "too late"})
    assert late["error"]["code"] == "ALREADY_SETTLED"
    admin_view = await call(client, "GET", "/audit/events", admin,
                            params={"entity_type": "order", "entity_id": order["id"]})
    actions = [e["action"] for e in admin_view["items"]]
    assert "delivery_otp_escalated" in actions and "delivery_otp_resent" in actions


async def test_delivery_code_expires_after_ten_minutes(
        client: TestClient, services: Services, outbox: OutboxNotifier,
        clock: ManualClock) -> None:
    patient, owner, order = await _out_for_delivery(client, services, outbox)
    code = outbox.last_code(patient.phone)
    clock.advance(minutes=11)
    owner.access = services.tokens.access_token(owner.user_id, Role.PHARMACY)
    expired = await call(client, "POST", f"/orders/{order['id']}/deliver", owner, 401,
                         json={"otp": code})
    assert expired["error"]["code"] == "DELIVERY_OTP_EXPIRED"
    await call(client, "POST", f"/orders/{order['id']}/delivery-otp", owner)
    new = outbox.last_code(patient.phone)
    # The stored form is a keyed hash, never the code itself.
    async with services.uow() as uow:
        found = await uow.orders.get(uuid.UUID(order["id"]))
    stored = found.otp_hash if found else None
    assert stored is not None and len(stored) == 64 and new not in stored and code not in stored
    # Under a key of its own, not the secret that signs tokens.
    assert found is not None and services.delivery_codes.matches(found, new)
    token_keyed = replace(services.delivery_codes,
                          hasher=CodeHasher(keys.jwt_secret(services.settings)))
    assert not token_keyed.matches(found, new)
    await call(client, "POST", f"/orders/{order['id']}/deliver", owner, json={"otp": new})
