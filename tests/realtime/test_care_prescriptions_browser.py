"""My prescriptions and my consultations in headless Chromium, against the full server.

A physician has signed a prescription for the patient. On a phone-sized page the patient sees
it awaiting their signature; its page shows the consent text and the doctor, and no medicine
anywhere (the server holds the content back). Signing with an empty box is refused with a
message and sends nothing; a signature drawn with the mouse opens the prescription, which the
patient releases, downloads as the signed PDF and sees the verification QR code of. On a
second prescription a finger and a pen draw and Clear empties the box; it is then signed with
the keyboard only (a typed name). A recorded consultation shows what was said by speaker, the
summary the doctor reads and where its prescription stands (still with the doctor); a rejected
draft says why. Screenshots of every screen at phone and desktop sizes go under the test's tmp
dir.
"""

from __future__ import annotations

import io
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from dhanvantri.platform import consultations
from dhanvantri.platform.domain.consultations import TurnRole, record_id
from dhanvantri.platform.prescriptions import create_from_draft
from dhanvantri.platform.web.consultation_routes import CIPHER
from tests.platform.commerce_setup import call
from tests.platform.helpers import DRAFT, SAFE
from tests.realtime.care_app import CareWorld, care_world, draw_signature, open_as_patient
from tests.realtime.physician_app import cheap_passwords
from tests.support.browser import (
    DESKTOP_SIZE,
    PHONE_SIZE,
    accessible,
    both_sizes,
    launch,
    page_until,
    script_errors,
    shows,
)

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]
__all__ = ["care_world", "cheap_passwords"]

# Every name a signed, unacknowledged prescription must not show (SHOPPING's medicines and
# its diagnosis).
HIDDEN = ["Dolo", "Zyrtec", "Glycomet", "Azee", "Unobtainium", "Viral fever"]
SAID = [(TurnRole.ASSISTANT, "Namaste, what is troubling you today?"),
        (TurnRole.PATIENT, "Fever and body ache for three days"),
        (TurnRole.ASSISTANT, "Are you allergic to any medicine?"),
        (TurnRole.PATIENT, "Yes, to penicillin")]
NOTES = {"intake": {"complaint": "fever and body ache", "duration": "3 days",
                    "symptoms": [{"key": "cough", "name": "Cough", "present": True},
                                 {"key": "vomiting", "name": "Vomiting", "present": False}],
                    "allergies": ["penicillin"], "medications": [], "no_medications": True},
         "red_flags": [], "draft": None, "physician_notes": [], "escalations": []}


def recorded_consultation(world: CareWorld) -> uuid.UUID:
    """A consultation written turn by turn as the recorder does, then closed into review."""
    services, cipher = world.services, world.server.app[CIPHER]
    cid = record_id(uuid.uuid4().hex)

    async def record() -> None:
        assert await consultations.open_record(services.uow(), cid, world.patient.user_id, "en")
        for role, words in SAID:
            await consultations.add_turn(services.uow(), cipher, cid, role, words, words,
                                         datetime.now(UTC))
        await consultations.update_notes(services.uow(), cipher, cid, NOTES)
        await consultations.close_record(services.uow, cipher, services.safety, cid,
                                         "call_ended")

    world.server.call(record(), 30)
    return cid


def rejected_prescription(world: CareWorld, reason: str) -> str:
    """A draft for the patient that the physician rejected with ``reason``."""

    async def reject(client: Any) -> str:
        rx_id = await create_from_draft(world.services.uow(), uuid.uuid4(),
                                        world.patient.user_id, DRAFT, SAFE, False)
        await call(client, "POST", f"/prescriptions/{rx_id}/reject", world.physician,
                   json={"reason": reason})
        return str(rx_id)

    return world.api(reject)




def rx_status(world: CareWorld, rx_id: str) -> str:
    return str(world.call("GET", f"/prescriptions/{rx_id}", world.patient)["status"])


# How many pixels of the signature box hold ink.
INK = """() => { const c = document.querySelector('#signature-pad');
  const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let inked = 0; for (let i = 3; i < data.length; i += 4) inked += data[i] > 0; return inked; }"""


def stroke(page: Any, pointer_type: str, pointer_id: int, top: float) -> None:
    """A stroke from a finger or a pen, as the browser reports one (pointer events), starting
    ``top`` px down the box."""
    box = page.locator("#signature-pad").bounding_box()
    x, y = box["x"] + 40, box["y"] + top
    base = {"pointerType": pointer_type, "pointerId": pointer_id, "isPrimary": True,
            "bubbles": True, "cancelable": True, "pressure": 0.7}
    page.dispatch_event("#signature-pad", "pointerdown", {**base, "clientX": x, "clientY": y})
    for step in range(1, 8):
        page.dispatch_event("#signature-pad", "pointermove",
                            {**base, "clientX": x + step * 20, "clientY": y + step * 8})
    page.dispatch_event("#signature-pad", "pointerup",
                        {**base, "clientX": x + 140, "clientY": y + 56, "pressure": 0})


def signature_ink(world: CareWorld, rx_id: str) -> int:
    """Dark pixels in the signature image the server stored with the acknowledgement."""

    async def stored() -> bytes:
        async with world.services.uow() as uow:
            ack = await uow.prescriptions.acknowledgement(uuid.UUID(rx_id))
            assert ack is not None
            return bytes(ack.signature_png)

    image = Image.open(io.BytesIO(world.server.call(stored(), 10))).convert("L")
    return sum(image.histogram()[:128])


def test_sign_before_viewing_then_release_download_and_consultations(
        care_world: CareWorld, playwright_instance: Any, tmp_path: Path) -> None:
    world = care_world
    rx_id = world.signed_prescription()
    shots = tmp_path / "screenshots"
    shots.mkdir()
    # The API itself holds the content back until the patient acknowledges.
    before = world.call("GET", f"/prescriptions/{rx_id}", world.patient)
    assert before["status"] == "signed" and "content" not in before
    assert before["physician"]["registration_number"]

    browser = launch(playwright_instance)
    try:
        page = open_as_patient(browser, world, PHONE_SIZE, "/care#prescriptions")
        errors = script_errors(page)
        acknowledge_calls: list[str] = []
        page.on("request", lambda r: acknowledge_calls.append(r.url)
                if r.url.endswith("/acknowledge") else None)

        # The list: awaiting the patient's signature.
        item = f"#rx-list li.rx[data-id='{rx_id}']"
        page.wait_for_selector(item)
        assert "awaiting your signature" in page.inner_text(item).lower()
        assert not [name for name in HIDDEN if name.lower() in page.content().lower()]
        accessible(page)
        both_sizes(page, shots, "prescriptions-list")

        # Its page: consent and the doctor; no medicine anywhere on the page.
        page.click(f"{item} a")
        shows(page, "#consent-text", "PATIENT CONSENT")
        shows(page, ".rx-head", before["physician"]["registration_number"])
        html = page.content() + page.inner_text("body")
        assert not [name for name in HIDDEN if name.lower() in html.lower()]
        accessible(page)
        both_sizes(page, shots, "prescription-sign")

        # An empty box is refused with a message; nothing is sent.
        page.check("#consent-accept")
        page.click("#sign-submit")
        shows(page, "#sign-error", "Please sign in the box")
        assert page.is_visible("#sign-error")
        assert acknowledge_calls == []
        assert rx_status(world, rx_id) == "signed"

        # A drawn signature opens the prescription (a double click signs once).
        draw_signature(page)
        page.dblclick("#sign-submit")
        page.wait_for_selector("#rx-document")
        shows(page, "#rx-meds", "Dolo 650")
        shows(page, ".rx-head .chip", "Signed by you")
        assert len(acknowledge_calls) == 1
        assert rx_status(world, rx_id) == "acknowledged"
        assert signature_ink(world, rx_id) > 200  # the drawn strokes, not a blank box
        text = page.inner_text("#rx-document")
        assert "650 mg · three times a day (TDS) · for 3 days" in text and "CBC" in text
        assert "Breathlessness" in text  # red flags
        assert "Follow up in 5 days" in text
        accessible(page)
        both_sizes(page, shots, "prescription-acknowledged")

        # Release, then the signed PDF, the QR code and the next steps.
        page.click("#rx-release")
        shows(page, ".rx-head .chip", "Released")
        assert rx_status(world, rx_id) == "released"
        with page.expect_download() as info:
            page.click("#rx-pdf")
        download = info.value
        assert download.suggested_filename == f"prescription-{rx_id[:8]}.pdf"
        assert Path(download.path()).read_bytes().startswith(b"%PDF")
        page_until(page, "document.querySelector('#rx-qr img')?.naturalWidth > 0",
                   what="the QR code to load")
        assert page.get_attribute("#rx-order", "href") == f"#orders/new/{rx_id}"
        assert page.get_attribute("#rx-labs", "href") == f"#labs/new/{rx_id}"
        verify = page.get_attribute("#rx-verify", "href")
        assert verify == f"/api/v1/prescriptions/{rx_id}/verify"
        assert world.call("GET", f"/prescriptions/{rx_id}/verify")["valid"] is True
        accessible(page)
        both_sizes(page, shots, "prescription-released")
        assert errors == []
    finally:
        browser.close()


def test_keyboard_signature_and_consultations(
        care_world: CareWorld, playwright_instance: Any, tmp_path: Path) -> None:
    world = care_world
    rx_id = world.signed_prescription()
    cid = recorded_consultation(world)
    shots = tmp_path / "screenshots"
    shots.mkdir()
    browser = launch(playwright_instance)
    try:
        page = open_as_patient(browser, world, DESKTOP_SIZE, f"/care#prescriptions/{rx_id}")
        errors = script_errors(page)
        shows(page, "#consent-text", "PATIENT CONSENT")

        # A finger and a pen draw; Clear empties the box.
        for pointer_id, kind in enumerate(("touch", "pen"), start=11):
            before_ink = page.evaluate(INK)
            stroke(page, kind, pointer_id, top=20 + (pointer_id - 11) * 80)
            assert page.evaluate(INK) > before_ink, kind
        page.click("#signature-clear")
        assert page.evaluate(INK) == 0

        # Keyboard only: tick the consent, sign by typing a name, submit with Enter.
        page.focus("#consent-accept")
        page.keyboard.press("Space")
        page.focus("#signature-typed")
        page.keyboard.press("Enter")  # nothing typed yet: refused
        shows(page, "#sign-error", "Please sign in the box")
        assert rx_status(world, rx_id) == "signed"
        page.keyboard.type("Asha Rao")
        page.keyboard.press("Enter")
        page.wait_for_selector("#rx-document")
        assert rx_status(world, rx_id) == "acknowledged"
        assert signature_ink(world, rx_id) > 200  # the typed name, written into the box

        # Consultations: the list, then what was said, the summary and the review status.
        page.goto(world.url + "/care#consultations")
        item = f"#consultation-list li.consultation[data-id='{cid}']"
        page.wait_for_selector(item)
        assert "pending doctor review" in page.inner_text(item).lower()
        accessible(page)
        both_sizes(page, shots, "consultations-list")

        page.click(f"{item} a")
        page.wait_for_selector("#consultation-transcript")
        lines = page.eval_on_selector_all(
            "#consultation-transcript li",
            "items => items.map(li => [li.dataset.role, li.querySelector('p').textContent])")
        assert lines == [[role.value, words] for role, words in SAID]
        speakers = page.eval_on_selector_all("#consultation-transcript .speaker",
                                             "items => items.map(s => s.textContent)")
        assert speakers == ["Assistant", "You", "Assistant", "You"]
        summary = page.inner_text("#consultation-summary")
        for fact in ("fever and body ache", "3 days", "Cough", "Vomiting", "penicillin"):
            assert fact in summary
        shows(page, "#consultation-review", "Pending doctor review")
        record = world.call("GET", f"/consultations/{cid}", world.patient)
        assert page.get_attribute("#consultation-rx", "href") == (
            f"#prescriptions/{record['prescription_id']}")
        accessible(page)
        both_sizes(page, shots, "consultation-detail")

        # Its prescription is still with the doctor: the page says so, and shows nothing else.
        page.click("#consultation-rx")
        shows(page, "#care-main .notice-box", "A doctor is reviewing your consultation")
        assert page.query_selector("#sign-form") is None
        assert page.query_selector("#rx-document") is None

        # A prescription the doctor did not issue says why.
        rejected = rejected_prescription(world, "Needs an examination in person")
        page.goto(world.url + "/care#prescriptions")
        item = f"#rx-list li.rx[data-id='{rejected}']"
        page.wait_for_selector(item)
        assert "not issued" in page.inner_text(item).lower()
        page.click(f"{item} a")
        shows(page, "#care-main", "Needs an examination in person")
        assert "Paracetamol" not in page.inner_text("body")
        both_sizes(page, shots, "prescription-rejected")
        assert errors == []
    finally:
        browser.close()
