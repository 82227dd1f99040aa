"""The whole path through the API: released prescription -> cart -> order -> sandbox payment ->
delivery code (wrong twice, right once) -> pharmacy payout; and a lab booking -> report -> flags.
"""

from __future__ import annotations

import base64
from decimal import Decimal

from aiohttp.test_utils import TestClient

from dhanvantri.http.principal import Role
from dhanvantri.platform.bootstrap import Services
from dhanvantri.platform.domain.ledger import ESCROW, PLATFORM
from dhanvantri.platform.notifier import OutboxNotifier

from .commerce_setup import (
    PIN,
    call,
    key,
    lab,
    pay_by_sandbox,
    pharmacy,
    released,
    tiny_pdf,
)
from .helpers import login_patient, make_staff


async def _ledger_total(services: Services) -> Decimal:
    async with services.uow() as uow:
        return await uow.ledger.total()


async def test_prescription_to_door_and_payout(client: TestClient, services: Services,
                                               outbox: OutboxNotifier) -> None:
    patient = await login_patient(client, outbox)
    admin = await make_staff(client, services, Role.ADMIN)
    rx_id = await released(client, services, outbox, patient)
    owner, shop_id = await pharmacy(client, services, admin, {
        "DOLO-650": 10, "CETIRIZINE-10-GEN": 10, "ZYRTEC-10": 0, "GLYCOMET-500": 5})
    # A second pharmacy at the same PIN code with only one line in stock is not chosen.
    await pharmacy(client, services, admin, {"DOLO-650": 3}, name="Corner Chemist")

    # Cart: exact brand, generic for an out-of-stock brand, alternatives for a strength not in
    # stock, out of stock, and not in the catalogue, in the prescription's order.
    cart = await call(client, "POST", "/carts/from-prescription", patient,
                      json={"prescription_id": str(rx_id), "pin_code": PIN})
    assert cart["pharmacy"]["id"] == shop_id
    lines = cart["lines"]
    assert [line["match"] for line in lines] == [
        "exact", "generic", "alternatives", "out_of_stock", "not_in_catalog"]
    assert lines[0]["item"]["sku"] == "DOLO-650" and lines[0]["quantity"] == 1  # 9 of 15
    assert lines[1]["item"]["sku"] == "CETIRIZINE-10-GEN"  # Zyrtec is out of stock
    assert [a["sku"] for a in lines[2]["alternatives"]] == ["GLYCOMET-500"]
    assert lines[2]["item"] is None
    assert cart["total"] == str(Decimal("30.24") + Decimal("7.20"))

    items = [{"medicine_id": line["item"]["id"], "quantity": line["quantity"]}
             for line in lines if line["item"]]
    order_in = {"pharmacy_id": shop_id, "pin_code": PIN, "address": "12 MG Road, Bengaluru",
                "items": items}
    # Cetirizine is Schedule H: no order without the released prescription naming it.
    refused = await call(client, "POST", "/orders", patient, 422, json=order_in)
    assert refused["error"]["code"] == "PRESCRIPTION_REQUIRED"
    order = await call(client, "POST", "/orders", patient, 201,
                       json={**order_in, "prescription_id": str(rx_id)})
    assert order["status"] == "placed" and order["total"] == "37.44"

    # Pay through the sandbox gateway; the request is idempotent.
    headers = key()
    started = await call(client, "POST", f"/orders/{order['id']}/pay", patient, 201,
                         headers=headers, json={"method": "gateway"})
    again = await call(client, "POST", f"/orders/{order['id']}/pay", patient, 201,
                       headers=headers, json={"method": "gateway"})
    assert again == started
    assert started["checkout"]["amount_paise"] == 3744
    reused = await call(client, "POST", f"/orders/{order['id']}/pay", patient, 409,
                        headers=headers, json={"method": "wallet"})
    assert reused["error"]["code"] == "IDEMPOTENCY_KEY_REUSED"
    payment_id = started["payment"]["id"]
    checkout = await call(client, "POST", f"/payments/{payment_id}/sandbox-checkout", patient)
    forged = {**checkout, "razorpay_signature": "0" * 64}
    bad = await call(client, "POST", f"/payments/{payment_id}/confirm", patient, 400, json=forged)
    assert bad["error"]["code"] == "INVALID_SIGNATURE"
    paid = await call(client, "POST", f"/payments/{payment_id}/confirm", patient, json=checkout)
    assert paid["status"] == "captured"
    assert (await call(client, "GET", f"/orders/{order['id']}", patient))["status"] == "paid"
    dolo = await call(client, "GET", f"/medicines/{lines[0]['item']['id']}",
                      params={"pin_code": PIN})
    assert {s["name"]: s["available"] for s in dolo["stock"]} == {
        "Jayanagar Medicals": 9, "Corner Chemist": 3}  # one pack reserved at payment

    # The gateway's webhook for the same capture changes nothing, and neither does a replay.
    body, hook_headers = services.gateway.webhook(  # type: ignore[union-attr]
        "payment.captured", checkout["razorpay_order_id"], checkout["razorpay_payment_id"],
        3744, event_id="evt_order_1")
    first = await call(client, "POST", "/payments/webhook", headers=hook_headers, data=body)
    assert first == {"status": "already_captured"}
    replay = await call(client, "POST", "/payments/webhook", headers=hook_headers, data=body)
    assert replay == {"status": "duplicate"}
    tampered = await call(client, "POST", "/payments/webhook", None, 400, headers=hook_headers,
                          data=body.replace(b"3744", b"1"))
    assert tampered["error"]["code"] == "INVALID_SIGNATURE"
    async with services.uow() as uow:
        assert await uow.ledger.owner_balance(ESCROW, "system") == Decimal("37.44")

    # Fulfilment, then the delivery code: it goes to the patient's phone, never a response.
    await call(client, "POST", f"/orders/{order['id']}/pack", owner)
    await call(client, "POST", f"/orders/{order['id']}/ship", owner)
    sent_before = len(outbox.sent)
    out = await call(client, "POST", f"/orders/{order['id']}/dispatch", owner)
    assert out["status"] == "out_for_delivery"
    message = outbox.sent[-1]
    assert len(outbox.sent) == sent_before + 1
    assert message.destination == patient.phone and message.purpose == "delivery"
    code = message.code
    assert len(code) == 6 and code not in str(out)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for left in (2, 1):
        miss = await call(client, "POST", f"/orders/{order['id']}/deliver", owner, 401,
                          json={"otp": wrong})
        assert miss["error"]["code"] == "DELIVERY_OTP_INVALID"
        assert miss["error"]["details"]["attempts_left"] == left
    done = await call(client, "POST", f"/orders/{order['id']}/deliver", owner,
                      json={"otp": code})
    assert done["status"] == "delivered"
    assert done["payout"] == {"gross": "37.44", "commission": "3.74", "net": "33.70"}
    again = await call(client, "POST", f"/orders/{order['id']}/deliver", owner, 409,
                       json={"otp": code})
    assert again["error"]["code"] == "INVALID_STATE"

    # Settlement: the pharmacy sees its own payout, matching its ledger balance.
    report = await call(client, "GET", "/settlements", owner)
    assert [(r["name"], r["payouts"], r["gross"], r["commission"], r["net"], r["balance"])
            for r in report["items"]] == [
        ("Jayanagar Medicals", 1, "37.44", "3.74", "33.70", "33.70")]
    everyone = await call(client, "GET", "/settlements", admin)
    assert len(everyone["items"]) == 2
    async with services.uow() as uow:
        assert await uow.ledger.owner_balance(ESCROW, "system") == 0
        assert await uow.ledger.owner_balance(PLATFORM, "system") == Decimal("3.74")
    assert await _ledger_total(services) == 0
    # Stock left the shelf on delivery.
    dolo = await call(client, "GET", f"/medicines/{lines[0]['item']['id']}",
                      params={"pin_code": PIN})
    assert {s["name"]: s["available"] for s in dolo["stock"]}["Jayanagar Medicals"] == 9

    # Every state change of the order and the payment is on the audit trail.
    events = await call(client, "GET", "/audit/events", admin,
                        params={"entity_type": "order", "entity_id": order["id"]})
    assert [e["action"] for e in events["items"]] == [
        "order_placed", "order_paid", "order_pack", "order_ship", "order_out_for_delivery",
        "delivery_otp_sent", "delivery_otp_failed", "delivery_otp_failed", "order_delivered",
        "merchant_paid"]
    pay_events = await call(client, "GET", "/audit/events", admin,
                            params={"entity_type": "payment", "entity_id": payment_id})
    assert [e["action"] for e in pay_events["items"]] == ["payment_created", "payment_captured"]
    chain = await call(client, "GET", "/audit/verify", admin)
    assert chain["intact"] is True


async def test_lab_booking_report_and_flags(client: TestClient, services: Services,
                                            outbox: OutboxNotifier) -> None:
    patient = await login_patient(client, outbox)
    await call(client, "PATCH", "/me/patient-profile", patient, json={"sex": "female"})
    admin = await make_staff(client, services, Role.ADMIN)
    owner, _lab, slot_id = await lab(client, services, admin)

    tests = await call(client, "GET", "/lab-tests")
    cbc = next(t for t in tests["items"] if t["code"] == "complete-blood-count")
    assert cbc["price"] == "350.00" and cbc["preparation"] == "No fasting needed."
    assert len(tests["items"]) >= 20
    slots = await call(client, "GET", "/lab-slots", params={"pin_code": PIN})
    assert [s["id"] for s in slots["items"]] == [slot_id]
    assert (await call(client, "GET", "/lab-slots", params={"pin_code": "110001"}))["items"] == []

    # Top up the wallet through the sandbox gateway, then pay the booking from it.
    topup = await call(client, "POST", "/wallet/topup", patient, 201, headers=key(),
                       json={"amount": "500.00"})
    await pay_by_sandbox(client, patient, topup)
    assert (await call(client, "GET", "/wallet", patient))["balance"] == "500.00"
    booking = await call(client, "POST", "/lab-bookings", patient, 201, json={
        "slot_id": slot_id, "tests": ["complete-blood-count"], "address": "12 MG Road"})
    assert booking["total"] == "350.00"
    paid = await call(client, "POST", f"/lab-bookings/{booking['id']}/pay", patient, 201,
                      headers=key(), json={"method": "wallet"})
    assert paid["payment"]["status"] == "captured" and paid["booking"]["status"] == "paid"
    assert (await call(client, "GET", "/wallet", patient))["balance"] == "150.00"
    slots = await call(client, "GET", "/lab-slots", params={"pin_code": PIN})
    assert slots["items"][0]["free"] == 1

    # Only the lab may upload; the patient cannot.
    report = {"pdf_base64": base64.b64encode(tiny_pdf()).decode(), "results": [
        {"analyte": "haemoglobin", "value": 10.2},
        {"analyte": "total leucocyte count", "value": 7.1},
        {"analyte": "platelet count", "value": 480}]}
    await call(client, "POST", f"/lab-bookings/{booking['id']}/report", patient, 403,
               json=report)
    await call(client, "POST", f"/lab-bookings/{booking['id']}/collected", owner)
    not_pdf = await call(client, "POST", f"/lab-bookings/{booking['id']}/report", owner, 422,
                         json={**report, "pdf_base64": base64.b64encode(b"hello!!!").decode()})
    assert not_pdf["error"]["details"][0]["field"] == "pdf_base64"
    done = await call(client, "POST", f"/lab-bookings/{booking['id']}/report", owner,
                      json=report)
    assert done["status"] == "reported"
    assert done["payout"] == {"gross": "350.00", "commission": "35.00", "net": "315.00"}

    # The patient sees structured results flagged against ranges for her sex, and the PDF.
    mine = await call(client, "GET", f"/lab-bookings/{booking['id']}", patient)
    flags = {r["analyte"]: (r["flag"], r["low"]) for r in mine["results"]}
    assert flags == {"haemoglobin": ("low", 12.0), "total leucocyte count": ("normal", 4.0),
                     "platelet count": ("high", 150)}
    pdf = await call(client, "GET", f"/lab-bookings/{booking['id']}/report", patient)
    assert pdf == tiny_pdf()
    other = await login_patient(client, outbox, phone="9988776655")
    await call(client, "GET", f"/lab-bookings/{booking['id']}", other, 404)
    settled = await call(client, "GET", "/settlements", owner)
    assert settled["items"][0]["balance"] == "315.00"
    assert await _ledger_total(services) == 0
