"""Ordering medicines from a prescription, paying, tracking and cancelling, in headless Chromium.

The patient has a released prescription. On a phone-sized page: a PIN code no pharmacy serves
says so and places nothing; at the pharmacy's PIN code the cart shows each prescribed medicine
as the pharmacy offers it (exactly, as a generic substitute, another strength to choose, out of
stock, not in the catalogue) with the server's totals, which it asks again when a quantity
changes. The order is placed with an address and paid at the sandbox checkout: a checkout left
open is taken up again, a declined payment says so and a retry pays, and a double click on Pay
pays once. As the pharmacy packs, ships and sends the order out (through the API), the order's
page follows without a reload and, out for delivery, shows the delivery code the pharmacy then
delivers with. A second order is paid from the wallet (a dropped request retried with the same
Idempotency-Key) and cancelled before dispatch: it shows its refund. Screenshots of each screen
at phone and desktop sizes go under the test's tmp dir.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest

from dhanvantri.platform.consent import CONSENT_SHA256
from tests.platform.helpers import signature_png
from tests.realtime.care_app import CareWorld, care_world, open_as_patient
from tests.realtime.physician_app import cheap_passwords
from tests.support.browser import (
    PHONE_SIZE,
    both_sizes,
    launch,
    page_until,
    script_errors,
    shows,
)
from tests.support.codes import codes

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]
__all__ = ["care_world", "cheap_passwords"]

ADDRESS = "Flat 4, 12 MG Road, Bengaluru"
LIVE = 60  # seconds: pushes, or the page's poll while pushes are down




def released(world: CareWorld) -> str:
    """A prescription signed by the physician, then acknowledged and released by the patient."""
    rx_id = world.signed_prescription()
    world.call("POST", f"/prescriptions/{rx_id}/acknowledge", world.patient,
               json={"consent": True, "consent_sha256": CONSENT_SHA256,
                     "signature_png": signature_png()})
    world.call("POST", f"/prescriptions/{rx_id}/release", world.patient)
    return rx_id


def order_id(page: Any) -> str:
    return str(page_until(page, "location.hash.match(/^#orders\\/([0-9a-f-]{36})$/)?.[1]",
                          what="the order's page"))


def order_actions(world: CareWorld, order: str) -> list[str]:
    found = world.call("GET", "/audit/events", world.admin,
                       params={"entity_type": "order", "entity_id": order})
    return [event["action"] for event in found["items"]]


def fill_cart(page: Any, pin: str) -> None:
    page.fill("#pin-code", pin)
    page.click("#find-pharmacy")


def test_order_pay_track_deliver_and_cancel(
        care_world: CareWorld, playwright_instance: Any, tmp_path: Path) -> None:
    world = care_world
    rx_id = released(world)
    shots = tmp_path / "screenshots"
    shots.mkdir()
    browser = launch(playwright_instance)
    try:
        page = open_as_patient(browser, world, PHONE_SIZE, f"/care#orders/new/{rx_id}")
        errors = script_errors(page)
        sent: list[tuple[str, str, str | None]] = []
        page.on("request", lambda r: sent.append(
            (r.method, r.url.split("/api/v1", 1)[-1], r.headers.get("idempotency-key")))
            if "/api/v1/" in r.url else None)
        page.wait_for_selector("#pin-form")

        # A PIN code that is not six digits is refused here; one no pharmacy serves says so.
        fill_cart(page, "5600")
        shows(page, "#pin-error", "PIN code")
        assert page.get_attribute("#pin-code", "aria-invalid") == "true"
        assert not [s for s in sent if s[1] == "/carts/from-prescription"]
        fill_cart(page, "560099")
        shows(page, "#no-stock", "No pharmacy delivers these medicines to 560099 yet")
        assert page.query_selector("#place-order") is None
        both_sizes(page, shots, "order-no-pharmacy")

        # The pharmacy's PIN code: each prescribed line as it is offered, the server's total.
        fill_cart(page, "560001")
        page.wait_for_selector("#cart-lines")
        matches = page.eval_on_selector_all("#cart-lines .cart-line",
                                            "rows => rows.map(r => r.dataset.match)")
        assert matches == ["exact", "generic", "alternatives", "out_of_stock", "not_in_catalog"]
        shows(page, "#cart-pharmacy", "Jayanagar Medicals")
        shows(page, ".cart-line[data-match='generic'] .match", "Generic substitute")
        shows(page, ".cart-line[data-match='alternatives']", "Glycomet 500")
        shows(page, ".cart-line[data-match='out_of_stock']", "Out of stock")
        shows(page, ".cart-line[data-match='not_in_catalog']", "Not in our catalogue")
        cart = world.call("POST", "/carts/from-prescription", world.patient,
                          json={"prescription_id": rx_id, "pin_code": "560001"})
        shows(page, "#cart-total", cart["total"])
        both_sizes(page, shots, "order-cart")

        # More packs of Dolo and the other strength of metformin: the server totals again.
        lines = {line["match"]: line for line in cart["lines"]}
        dolo, cetirizine = lines["exact"]["item"], lines["generic"]["item"]
        metformin = lines["alternatives"]["alternatives"][0]
        page.fill("#qty-0", "0")
        page.press("#qty-0", "Tab")
        shows(page, "#qty-0-error", "whole number from 1 to 50")
        assert page.is_disabled("#place-order")
        page.fill("#qty-0", "3")
        page.press("#qty-0", "Tab")
        page.check("#alt-2-1")
        items = [{"medicine_id": dolo["id"], "quantity": 3},
                 {"medicine_id": cetirizine["id"], "quantity": lines["generic"]["quantity"]},
                 {"medicine_id": metformin["id"], "quantity": 1}]
        quote = world.call("POST", "/orders/quote", world.patient, json={
            "pharmacy_id": cart["pharmacy"]["id"], "pin_code": "560001", "items": items,
            "prescription_id": rx_id})
        assert quote["total"] != cart["total"]
        shows(page, "#cart-total", quote["total"])
        page_until(page, "!document.querySelector('#place-order').disabled",
                   what="the order to be placeable")

        # The address is required; then the order is placed for what the server totalled.
        page.click("#place-order")
        shows(page, "#address-error", "Delivery address")
        page.fill("#address", ADDRESS)
        page.click("#place-order")
        first = order_id(page)
        page.wait_for_selector("#pay-online")
        shows(page, "#order-status", "Awaiting payment")
        placed = world.call("GET", f"/orders/{first}", world.patient)
        assert placed["total"] == quote["total"] and placed["prescription_id"] == rx_id
        shows(page, "#pay-amount", quote["total"])
        shows(page, "#pay-wallet-help", "too low")  # an empty wallet
        assert page.is_disabled("#pay-wallet")
        both_sizes(page, shots, "order-pay")

        # The sandbox checkout, declined: a clear message, the order still unpaid.
        page.click("#pay-online")
        page.wait_for_selector("#sandbox-checkout")
        shows(page, "#sandbox-checkout .sandbox-label", "Sandbox — no money moves")
        shows(page, "#sandbox-checkout", "Dhanvantri Health")
        shows(page, "#sandbox-pay", quote["total"])
        both_sizes(page, shots, "order-sandbox-checkout")
        # Left open and come back to: the same payment's checkout, not a second payment.
        pending = world.call("GET", f"/orders/{first}", world.patient)["payment_id"]
        page.reload()
        page.click("#pay-online")
        page.wait_for_selector("#sandbox-checkout")
        assert world.call("GET", f"/orders/{first}", world.patient)["payment_id"] == pending
        page.click("#sandbox-decline")
        shows(page, "#pay-error", "The payment was declined")
        declined = world.call("GET", f"/orders/{first}", world.patient)
        assert declined["status"] == "placed"
        assert world.call("GET", f"/payments/{declined['payment_id']}",
                          world.patient)["status"] == "failed"
        both_sizes(page, shots, "order-payment-declined")

        # Try again, double-clicking both buttons: one new payment, captured once.
        page.dblclick("#pay-online")
        page.wait_for_selector("#sandbox-pay")
        page.dblclick("#sandbox-pay")
        shows(page, "#order-status", "Paid", LIVE)
        pays = [s for s in sent if s[0] == "POST" and s[1] == f"/orders/{first}/pay"]
        # The first try, the one after the reload (a new click, a new key) and the retry.
        assert len(pays) == 3 and len({key for _, _, key in pays if key}) == 3
        assert len([s for s in sent if s[1].endswith("/confirm")]) == 1
        paid = world.call("GET", f"/orders/{first}", world.patient)
        assert paid["status"] == "paid"
        assert world.call("GET", f"/payments/{paid['payment_id']}",
                          world.patient)["status"] == "captured"
        assert order_actions(world, first).count("order_paid") == 1
        shows(page, "[data-fact='payment']", f"Paid ₹{quote['total']}")
        assert page.query_selector("#sandbox-checkout") is None
        both_sizes(page, shots, "order-paid")

        # The pharmacy works; the page follows without a reload.
        page.evaluate("window.notReloaded = true")
        for step, text in (("pack", "Packed"), ("ship", "Shipped")):
            world.call("POST", f"/orders/{first}/{step}", world.pharmacist)
            shows(page, "#order-status", text, LIVE)
        assert page.query_selector("#cancel-order") is None  # shipped: no cancelling
        before = len(codes(world.caplog, "delivery"))
        world.call("POST", f"/orders/{first}/dispatch", world.pharmacist)
        shows(page, "#order-status", "Out for delivery", LIVE)
        page.wait_for_selector("#delivery-code-digits")
        code = page.inner_text("#delivery-code-digits").strip()
        assert code == codes(world.caplog, "delivery")[before]
        shows(page, "#delivery-code", "Tell this code to the delivery agent")
        both_sizes(page, shots, "order-out-for-delivery")

        # Delivered with the code the patient reads out.
        world.call("POST", f"/orders/{first}/deliver", world.pharmacist, json={"otp": code})
        shows(page, "#order-status", "Delivered", LIVE)
        page.wait_for_selector("#delivery-code", state="hidden")
        assert page.evaluate("window.notReloaded") is True
        assert page.get_attribute(".timeline .step[data-step='delivered']",
                                  "data-state") == "current"
        both_sizes(page, shots, "order-delivered")

        # A second order, paid from the wallet and cancelled before dispatch: the refund shows.
        started = world.call("POST", "/wallet/topup", world.patient, 201,
                             headers={"Idempotency-Key": f"test-{uuid.uuid4().hex}"},
                             json={"amount": "100.00"})
        topup = started["payment"]["id"]
        checkout = world.call("POST", f"/payments/{topup}/sandbox-checkout", world.patient)
        world.call("POST", f"/payments/{topup}/confirm", world.patient, json=checkout)
        page.goto(world.url + f"/care#orders/new/{rx_id}")
        fill_cart(page, "560001")
        page.wait_for_selector("#cart-lines")
        page.fill("#address", ADDRESS)
        page_until(page, "!document.querySelector('#place-order').disabled",
                   what="the order to be placeable")
        page.click("#place-order")
        second = order_id(page)
        assert second != first
        shows(page, "#pay-wallet", "balance ₹100.00")
        # The network drops the first try: the retry of the same click sends the same key.
        dropped: list[str] = []

        def drop_once(route: Any) -> None:
            if dropped:
                route.continue_()
            else:
                dropped.append(route.request.url)
                route.abort()

        page.route(f"**/api/v1/orders/{second}/pay", drop_once)
        page.click("#pay-wallet")
        shows(page, "#pay-error", "Could not reach the clinic")
        page.click("#pay-wallet")
        shows(page, "#order-status", "Paid", LIVE)
        keys = [s[2] for s in sent if s[1] == f"/orders/{second}/pay"]
        assert len(keys) == 2 and keys[0] and keys[0] == keys[1]
        shows(page, "[data-fact='payment']", "from your wallet")
        page.click("#cancel-order")
        shows(page, "#order-cancel", "refunded")
        page.click("#cancel-confirm")
        shows(page, "#order-status", "Refunded", LIVE)
        refunded = world.call("GET", f"/orders/{second}", world.patient)
        total = refunded["total"]
        shows(page, "[data-fact='refund']", f"₹{total} refunded to your wallet")
        assert world.call("GET", "/wallet", world.patient)["balance"] == "100.00"
        payment = world.call("GET", f"/payments/{refunded['payment_id']}", world.patient)
        assert (payment["status"], payment["refunded"]) == ("refunded", total)
        both_sizes(page, shots, "order-refunded")

        # The list: both orders with their status.
        page.goto(world.url + "/care#orders")
        page.wait_for_selector(f"#order-list li.order[data-id='{first}']")
        statuses = page.eval_on_selector_all(
            "#order-list li.order", "items => items.map(li => [li.dataset.id, li.dataset.status])")
        assert sorted(statuses) == sorted([[first, "delivered"], [second, "refunded"]])
        shows(page, f"#order-list li.order[data-id='{first}'] .chip", "Delivered")
        both_sizes(page, shots, "orders-list")
        assert errors == []
    finally:
        browser.close()
