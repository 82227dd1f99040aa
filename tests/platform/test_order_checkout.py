"""What the patient's order screens need: a priced cart, a declined checkout, the delivery code."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import literal_column, select

from dhanvantri.http.principal import Role
from dhanvantri.platform.bootstrap import Services
from dhanvantri.platform.notifier import OutboxNotifier
from dhanvantri.platform.tables.commerce import orders

from .commerce_setup import PIN, call, key, pay_by_sandbox, pharmacy
from .helpers import Person, login_patient, make_staff

pytestmark = pytest.mark.parametrize("database", ["sqlite"], indirect=True)
OTC = {"DOLO-650": 10, "ELECTRAL": 5}


async def _medicine(client: TestClient, sku: str) -> dict[str, Any]:
    found = await call(client, "GET", "/medicines", params={"q": sku.split("-")[0].lower()})
    return next(m for m in found["items"] if m["sku"] == sku)


async def _shop(client: TestClient, services: Services, outbox: OutboxNotifier
                ) -> tuple[Person, Person, str]:
    patient = await login_patient(client, outbox)
    admin = await make_staff(client, services, Role.ADMIN)
    owner, shop = await pharmacy(client, services, admin, OTC)
    return patient, owner, shop


async def _order(client: TestClient, patient: Person, shop: str) -> dict[str, Any]:
    dolo = await _medicine(client, "DOLO-650")
    return await call(client, "POST", "/orders", patient, 201, json={
        "pharmacy_id": shop, "pin_code": PIN, "address": "12 MG Road",
        "items": [{"medicine_id": dolo["id"], "quantity": 1}]})


async def _events(client: TestClient, services: Services, entity: str, entity_id: str
                  ) -> list[dict[str, Any]]:
    admin = await make_staff(client, services, Role.ADMIN, phone="9000000001")
    found = await call(client, "GET", "/audit/events", admin,
                       params={"entity_type": entity, "entity_id": entity_id})
    return list(found["items"])


async def test_quote_prices_changed_quantities_as_placing_would(
        client: TestClient, services: Services, outbox: OutboxNotifier) -> None:
    patient, _owner, shop = await _shop(client, services, outbox)
    dolo, electral = await _medicine(client, "DOLO-650"), await _medicine(client, "ELECTRAL")
    items = [{"medicine_id": dolo["id"], "quantity": 3},
             {"medicine_id": electral["id"], "quantity": 2}]
    quote = await call(client, "POST", "/orders/quote", patient,
                       json={"pharmacy_id": shop, "pin_code": PIN, "items": items})
    by_id = {line["medicine_id"]: line for line in quote["items"]}
    assert by_id[dolo["id"]]["line_total"] == f"{3 * float(dolo['price']):.2f}"
    order = await call(client, "POST", "/orders", patient, 201, json={
        "pharmacy_id": shop, "pin_code": PIN, "address": "12 MG Road", "items": items})
    assert quote["total"] == order["total"]
    assert order["placed_at"] and order["updated_at"]
    # Checked as placing is: a PIN code the pharmacy does not serve, a quantity out of range.
    far = await call(client, "POST", "/orders/quote", patient, 422,
                     json={"pharmacy_id": shop, "pin_code": "560099", "items": items})
    assert far["error"]["details"][0]["field"] == "pin_code"
    many = await call(client, "POST", "/orders/quote", patient, 422, json={
        "pharmacy_id": shop, "pin_code": PIN,
        "items": [{"medicine_id": dolo["id"], "quantity": 51}]})
    assert "quantity" in many["error"]["details"][0]["field"]
    # Nothing was stored by quoting.
    assert len((await call(client, "GET", "/orders", patient))["items"]) == 1


async def test_a_declined_sandbox_checkout_fails_the_payment_and_a_new_one_pays(
        client: TestClient, services: Services, outbox: OutboxNotifier) -> None:
    patient, _owner, shop = await _shop(client, services, outbox)
    order = await _order(client, patient, shop)
    first = await call(client, "POST", f"/orders/{order['id']}/pay", patient, 201,
                       headers=key(), json={"method": "gateway"})
    payment_id = first["payment"]["id"]
    declined = await call(client, "POST", f"/payments/{payment_id}/sandbox-checkout", patient,
                          json={"outcome": "failed"})
    assert declined["error"]["reason"] == "payment_failed"
    assert "razorpay_signature" not in declined
    payment = await call(client, "GET", f"/payments/{payment_id}", patient)
    assert payment["status"] == "failed"
    assert (await call(client, "GET", f"/orders/{order['id']}", patient))["status"] == "placed"
    # A declined payment is over: it cannot be paid after all, nor declined twice.
    await call(client, "POST", f"/payments/{payment_id}/sandbox-checkout", patient, 409,
               json={"outcome": "failed"})
    refused = await call(client, "POST", f"/payments/{payment_id}/sandbox-checkout", patient,
                         409)
    assert refused["error"]["code"] == "INVALID_STATE"
    # Only its payer may decline it; other outcomes are refused by name.
    other = await login_patient(client, outbox, phone="9988776655")
    await call(client, "POST", f"/payments/{payment_id}/sandbox-checkout", other, 404,
               json={"outcome": "failed"})
    odd = await call(client, "POST", f"/payments/{payment_id}/sandbox-checkout", patient, 422,
                     json={"outcome": "maybe"})
    assert odd["error"]["details"][0]["field"] == "outcome"

    # The patient tries again: a new payment (no "awaiting checkout" conflict), captured.
    second = await call(client, "POST", f"/orders/{order['id']}/pay", patient, 201,
                        headers=key(), json={"method": "gateway"})
    assert second["payment"]["id"] != payment_id
    assert (await pay_by_sandbox(client, patient, second))["status"] == "captured"
    assert (await call(client, "GET", f"/orders/{order['id']}", patient))["status"] == "paid"
    actions = [e["action"] for e in await _events(client, services, "payment", payment_id)]
    assert "payment_failed" in actions


async def test_the_patient_alone_reads_the_delivery_code_while_out_for_delivery(
        client: TestClient, services: Services, outbox: OutboxNotifier) -> None:
    patient, owner, shop = await _shop(client, services, outbox)
    order = await _order(client, patient, shop)
    path = f"/orders/{order['id']}/delivery-code"
    await pay_by_sandbox(client, patient, await call(
        client, "POST", f"/orders/{order['id']}/pay", patient, 201, headers=key(),
        json={"method": "gateway"}))
    early = await call(client, "GET", path, patient, 409)
    assert early["error"]["code"] == "INVALID_STATE"
    for step in ("pack", "ship", "dispatch"):
        await call(client, "POST", f"/orders/{order['id']}/{step}", owner)

    shown = await call(client, "GET", path, patient)
    assert shown["code"] == outbox.last_code(patient.phone) and shown["expires_at"]
    # Nobody else: not another patient, not the pharmacy that must hear it at the door.
    other = await login_patient(client, outbox, phone="9988776655")
    await call(client, "GET", path, other, 404)
    await call(client, "GET", path, owner, 403)
    # At rest it is sealed: the column holds ciphertext, never the code.
    async with services.engine.connect() as conn:
        stored = (await conn.execute(
            select(literal_column("delivery_code")).select_from(orders)
            .where(orders.c.id == uuid.UUID(order["id"])))).scalar_one()
    assert stored and len(stored) > 40 and shown["code"] not in stored

    # A fresh code replaces it; delivery spends it.
    await call(client, "POST", f"/orders/{order['id']}/delivery-otp", owner)
    fresh = await call(client, "GET", path, patient)
    assert fresh["code"] == outbox.last_code(patient.phone) != shown["code"]
    await call(client, "POST", f"/orders/{order['id']}/deliver", owner,
               json={"otp": fresh["code"]})
    after = await call(client, "GET", path, patient, 409)
    assert after["error"]["code"] == "INVALID_STATE"
    actions = [e["action"] for e in await _events(client, services, "order", order["id"])]
    assert actions.count("delivery_code_viewed") == 2
