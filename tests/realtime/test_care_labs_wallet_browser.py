"""Lab tests and the wallet in the care area, in headless Chromium against the full server.

Labs: a released prescription orders a CBC. On a phone-sized page the patient books it: a PIN
code that is not six digits is refused, one with no slots says so, 560001 lists the lab's slot
with its places left; the booking is paid at the sandbox checkout. The lab marks the sample
collected and then uploads a report with one value out of range for a woman (the patient's sex):
the open page shows "Collected" and then the report without a reload, that one value flagged
High in words and the others (haemoglobin, normal by a woman's range) not.

Wallet: a top-up outside 1..the limit is refused; ₹500 through the sandbox shows in the balance
and the history; a family member is linked with the code sent to their phone; sending more
than the balance is refused with a message and moves nothing; ₹100 reaches the member.
Screenshots of every screen at phone and desktop sizes go under the test's tmp dir.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest

from dhanvantri.platform.consent import CONSENT_SHA256
from tests.platform.commerce_setup import tiny_pdf
from tests.platform.helpers import DRAFT, signature_png
from tests.realtime.care_app import CareWorld, care_world, login_patient, open_as_patient
from tests.realtime.physician_app import cheap_passwords
from tests.support.browser import (
    PHONE_SIZE,
    accessible,
    both_sizes,
    launch,
    page_until,
    script_errors,
    shows,
)
from tests.support.codes import codes, new_code

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]
__all__ = ["care_world", "cheap_passwords"]

MEMBER_PHONE = "9988776655"




def released_prescription(world: CareWorld, draft: dict[str, Any]) -> str:
    """A prescription signed by the physician, acknowledged and released by the patient."""
    rx_id = world.signed_prescription(draft)
    world.call("POST", f"/prescriptions/{rx_id}/acknowledge", world.patient, json={
        "consent": True, "consent_sha256": CONSENT_SHA256, "signature_png": signature_png()})
    world.call("POST", f"/prescriptions/{rx_id}/release", world.patient)
    return rx_id


def balance(world: CareWorld, person: Any) -> str:
    return str(world.call("GET", "/wallet", person)["balance"])


def pay_at_sandbox(page: Any) -> None:
    """Pay online at the sandbox checkout the payment step opens."""
    page.click("#pay-online")
    page.wait_for_selector("#sandbox-checkout")
    assert "no money moves" in page.inner_text("#sandbox-checkout").lower()
    page.click("#sandbox-pay")


def test_book_pay_and_read_a_report_flagged_for_the_patients_sex(
        care_world: CareWorld, playwright_instance: Any, tmp_path: Path) -> None:
    world = care_world
    world.call("PATCH", "/me/patient-profile", world.patient, json={"sex": "female"})
    rx_id = released_prescription(world, {**DRAFT, "lab_tests": ["CBC", "Chest X-ray"]})
    shots = tmp_path / "screenshots"
    shots.mkdir()
    browser = launch(playwright_instance)
    try:
        page = open_as_patient(browser, world, PHONE_SIZE, "/care#labs")
        errors = script_errors(page)
        # The list offers the tests the released prescription orders.
        page.wait_for_selector(f"#lab-ordered a[href='#labs/new/{rx_id}']")
        shows(page, "#lab-list", "No lab tests booked yet")
        accessible(page)
        both_sizes(page, shots, "labs-list-empty")

        # Booking: the ordered test with its price; what is not on sale is said.
        page.click(f"#lab-ordered a[href='#labs/new/{rx_id}']")
        shows(page, "#lab-tests", "Complete blood count")
        shows(page, "#lab-tests", "₹350.00")
        shows(page, "#lab-unmatched", "Chest X-ray")
        page.fill("#lab-pin", "5600")
        page.click("#lab-find")
        shows(page, "#lab-pin-error", "six digits")
        assert page.get_attribute("#lab-pin", "aria-invalid") == "true"
        page.fill("#lab-pin", "110001")
        page.press("#lab-pin", "Enter")
        shows(page, "#lab-no-slots", "No home-collection slots at 110001")
        # Booking without a slot is refused before anything is sent.
        page.fill("#lab-address", "12 MG Road, near the metro")
        page.click("#lab-book")
        shows(page, "#lab-book-error", "Slot")
        assert world.call("GET", "/lab-bookings", world.patient)["items"] == []
        page.fill("#lab-pin", "560001")
        page.click("#lab-find")
        slot = f"#slot-{world.slot_id}"
        page.wait_for_selector(slot)
        shows(page, "#lab-slots", "Koramangala Diagnostics · 2 places left")
        assert page.is_checked(slot)
        accessible(page)
        both_sizes(page, shots, "lab-book")
        page.click("#lab-book")

        # The booking's page: the server's total, paid at the sandbox checkout.
        page.wait_for_selector("#pay-online")
        [booking] = world.call("GET", "/lab-bookings", world.patient)["items"]
        assert page.evaluate("location.hash") == f"#labs/{booking['id']}"
        assert (booking["total"], booking["status"]) == ("350.00", "placed")
        shows(page, "#pay-amount", "₹350.00")
        shows(page, ".lab-head .chip", "Awaiting payment")
        accessible(page)
        both_sizes(page, shots, "lab-pay")
        pay_at_sandbox(page)
        shows(page, ".lab-head .chip", "Booked")
        shows(page, "#lab-state", "collects your sample")
        assert world.call("GET", f"/lab-bookings/{booking['id']}", world.patient)[
            "status"] == "paid"
        both_sizes(page, shots, "lab-paid")

        # The lab collects, then reports: the open page follows without a reload.
        page.evaluate("window.sameLoad = true")
        world.call("POST", f"/lab-bookings/{booking['id']}/collected", world.lab_user)
        shows(page, ".lab-head .chip", "Collected", timeout=45)
        shows(page, "#lab-state", "Collected")
        both_sizes(page, shots, "lab-collected")
        world.call("POST", f"/lab-bookings/{booking['id']}/report", world.lab_user, json={
            "pdf_base64": base64.b64encode(tiny_pdf()).decode(),
            "results": [{"analyte": "haemoglobin", "value": 12.5},  # normal for a woman
                        {"analyte": "total leucocyte count", "value": 7.2},
                        {"analyte": "platelet count", "value": 480}]})  # above 450
        page.wait_for_selector("#lab-results", timeout=45000)
        assert page.evaluate("window.sameLoad") is True
        shows(page, ".lab-head .chip", "Report ready")
        shows(page, "#care-toast", "Your lab report is ready")
        flagged = page.eval_on_selector_all(
            "#lab-results tbody tr",
            "rows => rows.map(r => [r.dataset.analyte, r.dataset.flag,"
            " r.querySelector('td[data-label=Flag]').innerText.replace(/[▲▼]/g, '').trim(),"
            " !!r.querySelector('.flag-high, .flag-low')])")
        assert flagged == [["haemoglobin", "normal", "Normal", False],
                           ["total leucocyte count", "normal", "Normal", False],
                           ["platelet count", "high", "High", True]]
        hb = page.inner_text("#lab-results tr[data-analyte='haemoglobin']")
        assert "12 g/dL and above" in hb  # the woman's range, not the man's 13
        shows(page, "#lab-summary", "1 of 3 values are outside the reference range")
        with page.expect_download() as info:
            page.click("#lab-pdf")
        assert Path(info.value.path()).read_bytes().startswith(b"%PDF")
        accessible(page)
        both_sizes(page, shots, "lab-report")

        # Back in the list: the booking, its status and the prescription no longer offered.
        page.click("a.back")
        shows(page, f"#lab-list li[data-id='{booking['id']}']", "Report ready")
        assert page.is_hidden("#lab-ordered")
        both_sizes(page, shots, "labs-list")
        assert errors == []
    finally:
        browser.close()


def test_top_up_link_family_and_transfer(
        care_world: CareWorld, playwright_instance: Any, tmp_path: Path) -> None:
    world = care_world
    member = login_patient(world.server, world.caplog, MEMBER_PHONE)
    world.call("PATCH", "/me/patient-profile", member, json={"full_name": "Arjun Rao"})
    shots = tmp_path / "screenshots"
    shots.mkdir()
    browser = launch(playwright_instance)
    try:
        page = open_as_patient(browser, world, PHONE_SIZE, "/care#wallet")
        errors = script_errors(page)
        shows(page, "#wallet-balance", "₹0.00")
        shows(page, "#topup-help", "₹10,000.00")
        shows(page, "#wallet-history", "Nothing yet")
        accessible(page)
        both_sizes(page, shots, "wallet-empty")

        # Amounts outside 1..the limit are refused before anything is sent.
        for typed, message in [("0.50", "at least ₹1.00"), ("10000.01", "at most ₹10,000.00"),
                               ("5OO", "enter rupees")]:
            page.fill("#topup-amount", typed)
            page.click("#topup-submit")
            shows(page, "#topup-error", message)
        assert page.query_selector("#pay-online") is None

        # ₹500 through the sandbox: no wallet option for filling the wallet itself.
        page.fill("#topup-amount", "500")
        page.click("#topup-submit")
        shows(page, "#pay-amount", "₹500.00")
        assert page.query_selector("#pay-wallet") is None
        accessible(page)
        both_sizes(page, shots, "wallet-topup-pay")
        pay_at_sandbox(page)
        shows(page, "#wallet-balance", "₹500.00")
        shows(page, "#wallet-history", "Money added")
        shows(page, "#wallet-history", "+₹500.00")
        assert balance(world, world.patient) == "500.00"

        # Link a family member: their number, then the code they were sent.
        assert page.is_hidden("#transfer-form")
        before = len(codes(world.caplog, "family_link"))
        page.fill("#family-phone", "99887 76655")
        page.click("#family-ask")
        page.wait_for_selector("#family-code", state="visible")
        code = new_code(world.caplog, before, "family_link")
        page.fill("#family-code", "000000" if code != "000000" else "111111")
        page.click("#family-confirm")
        shows(page, "#family-error", "not right")
        page.fill("#family-code", code)
        page.click("#family-confirm")
        shows(page, "#wallet-members", "Arjun Rao")
        page.wait_for_selector("#transfer-form", state="visible")
        accessible(page)
        both_sizes(page, shots, "wallet-family")

        # More than the balance: a message, and nothing moves.
        page.fill("#transfer-amount", "600")
        page.click("#transfer-submit")
        shows(page, "#transfer-error", "Not enough money in your wallet")
        shows(page, "#transfer-error", "you have ₹500.00, this needs ₹600.00")
        assert (balance(world, world.patient), balance(world, member)) == ("500.00", "0.00")
        shows(page, "#wallet-balance", "₹500.00")
        both_sizes(page, shots, "wallet-transfer-refused")

        # ₹100 to the member: both balances move.
        page.fill("#transfer-amount", "100")
        page.click("#transfer-submit")
        shows(page, "#wallet-balance", "₹400.00")
        shows(page, "#wallet-history", "Sent to Arjun Rao")
        shows(page, "#wallet-history", "\u2212₹100.00")  # a minus sign, as rupees() writes it
        assert (balance(world, world.patient), balance(world, member)) == ("400.00", "100.00")
        page_until(page, "document.querySelector('#transfer-amount').value === ''")
        accessible(page)
        both_sizes(page, shots, "wallet-after-transfer")
        assert errors == []
    finally:
        browser.close()
