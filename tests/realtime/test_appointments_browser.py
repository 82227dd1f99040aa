"""Appointments in headless Chromium against the full server.

An intake escalated and nobody could join live: the patient follows the link to book, sees the
first free times of the next 24 hours with the doctor's registration, books the first one and
pays the fee from the wallet; the list shows it booked and paid. Another patient has meanwhile
taken the second time, so choosing it says so and offers the list again. The physician's desk
shows the booking in the week's appointments with the patient's name, and the calendar file
downloads. A prescription saying "follow up in 5 days" books the same doctor around that day.
Screenshots of each screen at phone and desktop sizes go to the test's temporary folder.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from dhanvantri.platform.consent import CONSENT_SHA256
from dhanvantri.platform.domain.consultations import Consultation, ConsultationStatus
from dhanvantri.platform.domain.ledger import GATEWAY, SYSTEM_OWNER, WALLET, Leg
from tests.platform.helpers import DRAFT, signature_png
from tests.realtime.care_app import CareWorld, care_world, login_patient, open_as_patient
from tests.realtime.physician_app import cheap_passwords
from tests.support.browser import (
    DESKTOP_SIZE,
    PHONE_SIZE,
    both_sizes,
    launch,
    page_until,
    script_errors,
    shows,
)

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]
__all__ = ["care_world", "cheap_passwords"]

# Hours all day, every day: whenever the test runs, the next 24 hours hold free slots.
ALL_DAY = [{"weekday": day, "start": "00:00", "end": "23:30"} for day in range(7)]


def escalated_consultation(world: CareWorld) -> str:
    """An intake of the patient that ended escalated (the live call is not what is tested)."""

    async def write() -> str:
        now = datetime.now(UTC)
        async with world.services.uow() as uow:
            item = Consultation(patient_id=world.patient.user_id, started_at=now,
                                ended_at=now, status=ConsultationStatus.COMPLETED,
                                escalated=True, escalation_reason="patient_request")
            item.touch(now)
            uow.consultations.add(item)
            await uow.commit()
            return str(item.id)

    return world.server.call(write())


def fund(world: CareWorld, amount: str) -> None:
    async def post() -> None:
        async with world.services.uow() as uow:
            await uow.ledger.post("topup", "test", [
                Leg(GATEWAY, SYSTEM_OWNER, -Decimal(amount)),
                Leg(WALLET, str(world.patient.user_id), Decimal(amount))], uow.clock())
            await uow.commit()

    world.server.call(post())


def open_desk(browser: Any, world: CareWorld, size: dict[str, int]) -> Any:
    """The physician desk with the physician's tokens in the tab (as after signing in)."""
    page = browser.new_page(viewport=size, timezone_id="Asia/Kolkata")
    tokens = {"dhv.access": world.physician.access, "dhv.refresh": world.physician.refresh}
    page.add_init_script("".join(f"sessionStorage.setItem({json.dumps(k)}, {json.dumps(v)});"
                                 for k, v in tokens.items()))
    page.goto(world.url + "/physician")
    return page


def test_patient_books_the_next_slot_after_an_intake_and_the_desk_shows_it(
        care_world: CareWorld, playwright_instance: Any, tmp_path: Path) -> None:
    world = care_world
    shots = tmp_path / "screenshots"
    world.call("PUT", "/availability", world.physician, json={
        "time_zone": "Asia/Kolkata", "slot_minutes": 30, "fee": "300.00", "weekly": ALL_DAY})
    world.call("PATCH", "/me/patient-profile", world.patient, json={"full_name": "Asha Rao"})
    fund(world, "500.00")
    consultation = escalated_consultation(world)
    rival = login_patient(world.server, world.caplog, phone="9988776655")
    browser = launch(playwright_instance)
    try:
        # The consultation page as the intake ends with nobody free to join live: what app.js
        # does on "escalation_timeout" (the advice, then the offer to book).
        page = open_as_patient(browser, world, PHONE_SIZE, "/")
        errors = script_errors(page)
        page.evaluate(f"""import('/notices.js').then((m) => {{
            m.showEscalationNews('A doctor could not join yet; one will call you back.', false);
            m.offerBooking({json.dumps(consultation)});
        }})""")
        page.wait_for_selector("#book-doctor")
        page.click("#book-doctor")
        page.wait_for_url(f"**/care#appointments/book/{consultation}")
        shows(page, "#slot-lead", "within 24 hours")
        page.wait_for_selector("#slot-1")
        first = page.locator("li.slot").nth(0)
        assert "KMC-123456" in first.inner_text() and "Karnataka Medical Council" in (
            first.inner_text())
        starts = [page.locator("li.slot").nth(i).get_attribute("data-starts") for i in (0, 1)]
        soon = datetime.now(UTC) + timedelta(hours=24)
        assert all(datetime.fromisoformat(s) < soon for s in starts)
        both_sizes(page, shots, "patient-slots")

        # Someone else books the second time while this page shows it.
        world.call("POST", "/appointments", rival, 201, json={
            "physician_id": str(world.physician.user_id), "starts_at": starts[1]})
        page.click("#slot-1")
        shows(page, "#slot-error", "just booked by someone else")
        page_until(page, f"!document.querySelector('li.slot[data-starts=\"{starts[1]}\"]')")

        page.click("#slot-0")
        page.wait_for_selector("#pay-wallet")
        shows(page, "#pay-amount", "₹300.00")
        shows(page, "#pay-lead", "or the time is offered to others")
        shows(page, "#pay-lead", "24 hours or more before for a full refund; later, 50% of")
        both_sizes(page, shots, "patient-pay")
        page.click("#pay-wallet")
        page.wait_for_selector("#appointment-list li.appointment[data-status='booked']")
        mine = world.call("GET", "/appointments", world.patient)["items"]
        assert [(a["starts_at"], a["paid"], a["source"], a["consultation_id"]) for a in mine] == [
            (starts[0], True, "intake", consultation)]
        booked_id = mine[0]["id"]
        shows(page, f"li.appointment[data-id='{booked_id}']", "₹300.00 paid")
        both_sizes(page, shots, "patient-appointments")
        assert errors == []

        desk = open_desk(browser, world, DESKTOP_SIZE)
        desk_errors = script_errors(desk)
        desk.wait_for_selector(f"#appointments-list li[data-id='{booked_id}']")
        shows(desk, f"#appointments-list li[data-id='{booked_id}']", "Asha Rao")
        shows(desk, f"#appointments-list li[data-id='{booked_id}']", "after an AI intake")
        [rival_row] = world.call("GET", "/appointments", rival)["items"]
        assert desk.locator("#appointments-list li.appointment").count() == 2
        # The physician cancels the other booking: a second click confirms.
        desk.click(f"#cancel-{rival_row['id']}")
        shows(desk, f"#cancel-{rival_row['id']}", "click again")
        assert world.call("GET", "/appointments", rival)["items"][0]["status"] == "booked"
        desk.click(f"#cancel-{rival_row['id']}")
        desk.wait_for_selector(
            f"#appointments-list li[data-id='{rival_row['id']}'][data-status='cancelled']")
        with desk.expect_download() as download:
            desk.click("#appointments-ics")
        ics = Path(download.value.path()).read_bytes()
        assert f"UID:{booked_id}@dhanvantri".encode() in ics
        assert b"Asha" not in ics
        desk.click("#hours-toggle")
        shows(desk, "#hours-summary", "Every day 00:00\u201323:30 (Asia/Kolkata), 30-minute slots")
        both_sizes(desk, shots, "physician-appointments")
        # The physician changes their hours on the desk: weekdays only, 20-minute slots.
        for day in ("5", "6"):
            desk.uncheck(f"#hours-days input[value='{day}']")
        desk.fill("#hours-start", "10:00")
        desk.fill("#hours-end", "12:00")
        desk.fill("#hours-minutes", "20")
        desk.fill("#hours-fee", "250.00")
        desk.click("#hours-form button[type=submit]")
        shows(desk, "#hours-summary", "Mon, Tue, Wed, Thu, Fri 10:00\u201312:00 (Asia/Kolkata), "
                                      "20-minute slots, fee ₹250.00")
        hours = world.call("GET", f"/physicians/{world.physician.user_id}/hours")
        assert [w["weekday"] for w in hours["weekly"]] == [0, 1, 2, 3, 4]
        assert (hours["slot_minutes"], hours["fee"]) == (20, "250.00")
        assert desk_errors == []
    finally:
        browser.close()
    assert uuid.UUID(booked_id)


def test_a_prescriptions_follow_up_books_the_same_doctor_around_that_day(
        care_world: CareWorld, playwright_instance: Any, tmp_path: Path) -> None:
    world = care_world
    shots = tmp_path / "screenshots"
    world.call("PUT", "/availability", world.physician, json={
        "time_zone": "Asia/Kolkata", "slot_minutes": 30, "fee": "0.00", "weekly": ALL_DAY})
    rx_id = world.signed_prescription({**DRAFT, "follow_up_days": 5})
    world.call("POST", f"/prescriptions/{rx_id}/acknowledge", world.patient, json={
        "consent": True, "consent_sha256": CONSENT_SHA256, "signature_png": signature_png()})
    browser = launch(playwright_instance)
    try:
        page = open_as_patient(browser, world, PHONE_SIZE, f"/care#prescriptions/{rx_id}")
        errors = script_errors(page)
        page.click("#rx-book-follow-up")
        shows(page, "#slot-lead", "again in 5 days")
        page.wait_for_selector("#slot-0")
        offered = [datetime.fromisoformat(s) for s in page.eval_on_selector_all(
            "li.slot", "items => items.map(i => i.dataset.starts)")]
        now = datetime.now(UTC)
        assert offered and all(timedelta(days=4) <= s - now <= timedelta(days=7)
                               for s in offered)
        both_sizes(page, shots, "patient-follow-up")
        page.click("#slot-0")
        page.wait_for_selector("#appointment-list li.appointment[data-status='booked']")
        [booked] = world.call("GET", "/appointments", world.patient)["items"]
        assert (booked["source"], booked["physician_id"], booked["fee"]) == (
            "follow_up", str(world.physician.user_id), "0.00")
        assert datetime.fromisoformat(booked["starts_at"]) == offered[0]
        assert errors == []
    finally:
        browser.close()
