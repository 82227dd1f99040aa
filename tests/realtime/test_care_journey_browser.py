"""From a signed prescription to a delivered order and a flagged lab report, in Chromium.

A patient on a phone signs in by code, signs the consent with a drawn signature, opens and
releases the prescription, orders its medicines and pays at the sandbox checkout. The pharmacy,
on its own page, packs the order, ships it and sends it out; the patient's page shows the
delivery code; at the door two wrong codes are refused and the right one delivers. Escrow is
paid out and every ledger transaction balances. The patient then books the prescription's lab
test, pays, and the lab's report arrives on the open page with its one high value flagged.
Screenshots at phone and desktop sizes go under the test's tmp dir.
"""

from __future__ import annotations

import base64
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from dhanvantri.platform.domain.ledger import ESCROW
from tests.platform.commerce_setup import tiny_pdf
from tests.platform.helpers import PASSWORD
from tests.realtime.care_app import (
    PIN,
    CareWorld,
    care_world,
    draw_signature,
    order_card,
    order_card_status,
)
from tests.realtime.physician_app import cheap_passwords
from tests.support.browser import (
    DESKTOP_SIZE,
    PHONE_SIZE,
    launch,
    page_until,
    screenshot,
    script_errors,
    shows,
)
from tests.support.codes import codes, new_code

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]
__all__ = ["care_world", "cheap_passwords"]

PHONE = "98765 43210"
ADDRESS = "Flat 4B, 12 MG Road, Bengaluru"
LIVE = 60  # seconds: a push, or the page's poll while pushes are down
NO_SIDEWAYS_SCROLL = "document.documentElement.scrollWidth <= window.innerWidth"


def shoot(page: Any, shots: Path, name: str) -> None:
    """Screenshots at desktop and phone size (ending at phone size, where the test runs)."""
    screenshot(page, shots, name, DESKTOP_SIZE)
    screenshot(page, shots, name, PHONE_SIZE)
    assert page.evaluate(NO_SIDEWAYS_SCROLL), name


def sign_in(page: Any, world: CareWorld) -> None:
    """The sign-in card, with the code the console notifier logged."""
    sent = len(codes(world.caplog))
    page.fill("#phone", PHONE)
    page.click("#send-code")
    page.fill("#code", new_code(world.caplog, sent))
    page.click("#verify")
    page.wait_for_selector("#care-view:not([hidden])")


def escrow_and_unbalanced(world: CareWorld) -> tuple[Decimal, list[Any]]:
    async def read() -> tuple[Decimal, list[Any]]:
        async with world.services.uow() as uow:
            return (await uow.ledger.owner_balance(ESCROW, "system"),
                    await uow.ledger.unbalanced())

    return world.server.call(read())


def test_signed_prescription_to_delivered_order_and_flagged_report(
        care_world: CareWorld, playwright_instance: Any, tmp_path: Path) -> None:
    world = care_world
    rx_id = world.signed_prescription()
    shots = tmp_path / "screenshots"
    shots.mkdir()
    browser = launch(playwright_instance)
    try:
        patient = browser.new_page(viewport=PHONE_SIZE)
        patient_errors = script_errors(patient)
        patient.goto(world.url + "/care")
        sign_in(patient, world)

        # Sign before viewing: the consent, a drawn signature, then the prescription opens.
        item = f"#rx-list li.rx[data-id='{rx_id}']"
        patient.click(".care-nav a[data-section='prescriptions']")
        patient.click(f"{item} a")
        shows(patient, "#consent-text", "PATIENT CONSENT")
        assert "Dolo 650" not in patient.inner_text("body")
        patient.check("#consent-accept")
        draw_signature(patient)
        patient.click("#sign-submit")
        shows(patient, "#rx-meds", "Dolo 650")
        patient.click("#rx-release")
        shows(patient, ".rx-head .chip", "Released")
        shoot(patient, shots, "journey-prescription")

        # Order its medicines and pay at the sandbox checkout.
        patient.click("#rx-order")
        patient.fill("#pin-code", PIN)
        patient.click("#find-pharmacy")
        shows(patient, "#cart-pharmacy", "Jayanagar Medicals")
        patient.fill("#address", ADDRESS)
        page_until(patient, "!document.querySelector('#place-order').disabled",
                   what="the cart's total")
        patient.click("#place-order")
        order_id = str(page_until(
            patient, "location.hash.match(/^#orders\\/([0-9a-f-]{36})$/)?.[1]",
            what="the order's page"))
        patient.click("#pay-online")
        shows(patient, "#sandbox-checkout .sandbox-label", "Sandbox")
        shoot(patient, shots, "journey-checkout")
        patient.click("#sandbox-pay")
        shows(patient, "#order-status", "Paid", LIVE)

        # The pharmacy packs, ships and sends it out from its own page.
        desk = browser.new_page(viewport=PHONE_SIZE)
        desk_errors = script_errors(desk)
        desk.goto(world.url + "/pharmacy")
        desk.fill("#email", str(world.pharmacist.email))
        desk.fill("#password", PASSWORD)
        desk.click("#signin")
        page_until(desk, f"{order_card_status(order_id)} === 'paid'", 30)
        for action, status in (("pack", "packed"), ("ship", "shipped"),
                               ("dispatch", "out_for_delivery")):
            desk.click(f"{order_card(order_id)} button[data-action={action}]")
            page_until(desk, f"{order_card_status(order_id)} === '{status}'", 30)

        # The patient's page shows the code to read out at the door.
        shows(patient, "#order-status", "Out for delivery", LIVE)
        patient.wait_for_selector("#delivery-code-digits")
        code = patient.inner_text("#delivery-code-digits").strip()
        assert code == codes(world.caplog, "delivery")[-1]
        shoot(patient, shots, "journey-delivery-code")

        # At the door: two wrong codes refused, the right one delivers.
        otp = f"{order_card(order_id)} input.otp"
        wrong = f"{(int(code) + 1) % 10**6:06d}"
        for left in ("2 attempts left", "1 attempt left"):
            desk.fill(otp, wrong)
            desk.click(f"{order_card(order_id)} .otp-form button[type=submit]")
            shows(desk, f"{order_card(order_id)} .note", left)
            assert desk.evaluate(order_card_status(order_id)) == "out_for_delivery"
        shoot(desk, shots, "journey-door")
        desk.fill(otp, code)
        desk.click(f"{order_card(order_id)} .otp-form button[type=submit]")
        page_until(desk, f"{order_card_status(order_id)} === 'delivered'", 30)
        shows(patient, "#order-status", "Delivered", LIVE)
        shoot(patient, shots, "journey-delivered")

        # Escrow paid out to the pharmacy (less commission); every transaction balances.
        assert escrow_and_unbalanced(world) == (Decimal("0"), [])
        settled = world.call("GET", "/settlements", world.pharmacist)["items"]
        assert Decimal(settled[0]["net"]) > 0

        # The prescription's lab test: book a slot, pay, and read the flagged report.
        patient.goto(world.url + f"/care#prescriptions/{rx_id}")
        patient.click("#rx-labs")
        patient.fill("#lab-pin", PIN)
        patient.click("#lab-find")
        patient.wait_for_selector(f"#slot-{world.slot_id}")
        patient.fill("#lab-address", ADDRESS)
        patient.click("#lab-book")
        patient.click("#pay-online")
        patient.click("#sandbox-pay")
        shows(patient, ".lab-head .chip", "Booked", LIVE)
        [booking] = world.call("GET", "/lab-bookings", world.patient)["items"]
        world.call("POST", f"/lab-bookings/{booking['id']}/collected", world.lab_user)
        shows(patient, ".lab-head .chip", "Collected", LIVE)
        world.call("POST", f"/lab-bookings/{booking['id']}/report", world.lab_user, json={
            "pdf_base64": base64.b64encode(tiny_pdf()).decode(),
            "results": [{"analyte": "total leucocyte count", "value": 7.2},
                        {"analyte": "platelet count", "value": 480}]})  # above 450
        patient.wait_for_selector("#lab-results", timeout=LIVE * 1000)
        flags = patient.eval_on_selector_all(
            "#lab-results tbody tr", "rows => rows.map(r => [r.dataset.analyte, r.dataset.flag])")
        assert flags == [["total leucocyte count", "normal"], ["platelet count", "high"]]
        shows(patient, "#lab-results tr[data-analyte='platelet count']", "High")
        shoot(patient, shots, "journey-lab-report")
        assert escrow_and_unbalanced(world) == (Decimal("0"), [])  # the lab was paid out too
        assert patient_errors == [] and desk_errors == []
    finally:
        browser.close()
