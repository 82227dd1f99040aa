"""The video visit at the appointment's time, in headless Chromium against the whole server.

An intake ends escalated with nobody free to join live; the patient books the next slot; the
physician's desk lists it. The back office's clock is then moved to five minutes before the
slot (nothing waits on wall time): the care page offers "Join your visit", the consultation page
is the waiting room, and the patient starts the call; the physician's desk offers "Join video
visit", which takes the call at once (no queue): the patient's page shows the doctor speaking,
on video. Chromium's fake camera films both sides: the patient's screen switches from the avatar
to the physician's camera (the server says so on the events channel, and the picture's size and
frames change), and the physician's desk shows the patient's camera. The physician ends the
visit: the patient is told, the appointment is completed on both sides, and the record names the
visit: "Video visit" in the patient's consultations and on the physician's review screen, and a
first consultation by video for the safety gate. Screenshots at phone and desktop sizes go to the
test's temporary folder.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from dhanvantri.desk.access import DESK
from dhanvantri.platform.clock import ManualClock
from dhanvantri.platform.domain.consultations import record_id
from dhanvantri.realtime.state import RUNTIME
from tests.realtime.care_app import CareWorld, care_world, open_as_patient
from tests.realtime.physician_app import cheap_passwords
from tests.realtime.test_appointments_browser import ALL_DAY, escalated_consultation, open_desk
from tests.realtime.test_consultation_record import rows
from tests.support.browser import (
    DESKTOP_SIZE,
    PHONE_SIZE,
    both_sizes,
    launch,
    page_until,
    script_errors,
    shows,
)
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]
__all__ = ["care_world", "cheap_passwords"]



# The visit's video events the patient's page received.
SESSION_EVENTS = "window.dhanvantri.session.events.filter((e) => e.type === 'video')"
# A digest of the picture a video element shows now.
PICTURE = """(selector) => {
  const video = document.querySelector(selector);
  const canvas = document.createElement('canvas');
  canvas.width = 64; canvas.height = 48;
  const context = canvas.getContext('2d');
  context.drawImage(video, 0, 0, 64, 48);
  return Array.from(context.getImageData(0, 0, 64, 48).data).join(',');
}"""


def moving(page: Any, selector: str) -> bool:
    """Whether the video element's picture changes (Chromium's fake camera animates)."""
    first = page.evaluate(PICTURE, selector)
    return bool(page_until(page, f"({PICTURE})({json.dumps(selector)}) !== {json.dumps(first)}",
                           30, what=f"a new frame in {selector}"))


async def held_as(world: CareWorld, live_id: str) -> str:
    """How the live visit is held, as its record will say."""
    return str(world.server.app[RUNTIME].registry.get(live_id).live.held_as)


def test_patient_books_then_both_join_the_visit_and_the_physician_ends_it(
        care_world: CareWorld, playwright_instance: Any, loopback_ice: None,
        tmp_path: Path) -> None:
    world = care_world
    shots = tmp_path / "screenshots"
    clock = ManualClock(datetime.now(UTC))
    world.services.clock = clock  # the back office's clock: the visit's window follows it
    world.call("PUT", "/availability", world.physician, json={
        "time_zone": "Asia/Kolkata", "slot_minutes": 30, "fee": "0.00", "weekly": ALL_DAY})
    world.call("PATCH", "/me/patient-profile", world.patient, json={"full_name": "Asha Rao"})
    consultation = escalated_consultation(world)
    browser = launch(playwright_instance)
    try:
        # The intake ends with nobody free to join: the patient books the first free time.
        page = open_as_patient(browser, world, PHONE_SIZE, "/")
        errors = script_errors(page)
        page.evaluate(f"""import('/notices.js').then((m) => {{
            m.showEscalationNews('A doctor could not join yet; one will call you back.', false);
            m.offerBooking({json.dumps(consultation)});
        }})""")
        page.click("#book-doctor")
        page.wait_for_url(f"**/care#appointments/book/{consultation}")
        page.click("#slot-0")
        page.wait_for_selector("#appointment-list li.appointment[data-status='booked']")
        [booked] = world.call("GET", "/appointments", world.patient)["items"]
        appointment, starts = booked["id"], datetime.fromisoformat(booked["starts_at"])
        row = f"li.appointment[data-id='{appointment}']"

        # The physician's desk lists it.
        desk = open_desk(browser, world, DESKTOP_SIZE)
        desk.on("dialog", lambda dialog: dialog.accept())  # "End the consultation?"
        desk_errors = script_errors(desk)
        shows(desk, f"#appointments-list {row}", "Asha Rao")

        # At the time: five minutes before the slot, by the server's clock.
        clock.now = starts - timedelta(minutes=5)
        page.reload()
        page.wait_for_selector(f"#appt-join-{appointment}")
        both_sizes(page, shots, "patient-appointment-join")
        page.click(f"#appt-join-{appointment}")
        page.wait_for_url(f"**/?visit={appointment}")
        shows(page, "#for-whom", "Video visit with Test Physician")
        shows(page, "#start", "Enter the waiting room")
        both_sizes(page, shots, "patient-waiting-room")
        page.click("#start")

        desk.reload()  # the panel re-reads the appointments (the window is open now)
        desk.wait_for_selector(f"#join-{appointment}")
        both_sizes(desk, shots, "physician-panel-join")
        # The patient's call reaches this physician's queue, reserved for them (no Accept).
        shows(desk, "#queue li[data-status='accepted']", "Booked video visit")
        reserved = world.server.call(
            world.server.app[DESK].escalations.for_appointment(appointment))
        live_id = reserved.consultation_id
        desk.click(f"#join-{appointment}")
        desk.wait_for_selector("#call:not([hidden])")
        desk.wait_for_selector("#call-mode[data-mode='takeover']")
        shows(page, "#doctor-badge", "is speaking with you")
        # The avatar (256 px square) steps aside for the physician's camera (640 x 480).
        shows(page, "#visit-video", "Test Physician is on video")
        assert [e["source"] for e in page.evaluate(SESSION_EVENTS)] == ["avatar", "physician"]
        page_until(page, "document.querySelector('#avatar').videoWidth", 30,
                   done=lambda width: width == 640, what="the physician's camera on screen")
        assert moving(page, "#avatar"), "the patient's screen is frozen"
        page_until(desk, "document.querySelector('#call-video').videoWidth", 30,
                   what="the patient's camera on the physician's desk")
        assert moving(desk, "#call-video"), "the physician's view of the patient is frozen"
        wait_until(lambda: world.server.call(held_as(world, live_id)) == "video", 30,
                   what="video both ways")
        both_sizes(page, shots, "patient-in-visit")
        both_sizes(desk, shots, "physician-in-visit")

        # The physician ends the visit.
        desk.click("#end-call")
        shows(page, "#escalation", "The doctor ended the consultation")
        page_until(page, "document.querySelector('#state').dataset.state === 'idle'", 30,
                   done=bool, what="the patient's call to stop")
        desk.wait_for_selector("#call", state="hidden")
        desk.wait_for_selector(f"#appointments-list {row}[data-status='completed']")
        both_sizes(desk, shots, "physician-after-visit")
        [done] = world.call("GET", "/appointments", world.patient)["items"]
        assert done["status"] == "completed"

        # The patient's record shows the visit and the appointment completed.
        page.goto(world.url + "/care#appointments")
        page.wait_for_selector(f"#appointment-list {row}[data-status='completed']")
        both_sizes(page, shots, "patient-appointment-completed")
        # The call's record closes and goes to the physician's review queue, as every call's.
        database = Path(str(world.services.settings.database_url).split("///", 1)[1])
        wait_until(lambda: rows(database, "prescriptions"), 30,
                   what="the visit's record to reach the review queue")
        record = world.call("GET", f"/consultations/{record_id(live_id)}", world.physician)
        assert record["visit"] == {"appointment_id": appointment, "mode": "video"}
        rx = world.call("GET", f"/prescriptions/{record['prescription_id']}", world.physician)
        # Booked after an intake: the patient's first consultation with a physician, by video.
        assert rx["consultation"] == {"first": True, "mode": "video", "stated": False}
        page.goto(world.url + "/care#consultations")
        shows(page, f"li.consultation[data-id='{record_id(live_id)}']", "Completed")
        shows(page, f"li.consultation[data-id='{record_id(live_id)}']", "Video visit, ")
        both_sizes(page, shots, "patient-record-after-visit")
        page.goto(world.url + "/care#record")
        shows(page, f"li.record-consultation[data-id='{record_id(live_id)}']", "Video visit")
        # The physician's review screen says how it was held.
        desk.click(f"#reviews li[data-id='{rx['id']}'] button")
        shows(desk, "#record-intake", "Video visit, ")
        both_sizes(desk, shots, "physician-review-of-visit")
        assert errors == [] and desk_errors == []
    finally:
        browser.close()
