"""From the patient's words to a signed prescription: two Chromium pages, the real models.

The patient signs in by phone code (read from the console notifier's log line), says through the
fake microphone that they have had a fever, body ache and a dry cough for three days and an
allergy to ibuprofen, hears the assistant answer and hangs up. The physician's page, signed in
beforehand, shows the record in its review queue (the seconds from hang-up are printed, not
asserted), with the facts the patient said; the physician adds ibuprofen, sees the safety gate's
allergy block beside that line, changes it to cetirizine, approves and signs with the
one-time code; the verification endpoint says valid. Screenshots of the record at phone and
desktop sizes are saved under the test's tmp dir (their paths are printed).
"""

from __future__ import annotations

import json
import logging
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.realtime.conftest import make_settings
from tests.realtime.physician_app import add_physician, cheap_passwords
from tests.speech import espeak_available, microphone_wav
from tests.support.browser import (
    launch,
    page_until,
    require_chromium,
    screenshot,
    script_errors,
    shows,
)
from tests.support.codes import codes, new_code
from tests.support.server import serving

pytestmark = [pytest.mark.browser, pytest.mark.models, pytest.mark.timeout(400)]
__all__ = ["cheap_passwords"]

EMAIL, PASSWORD = "dr.rao@clinic.example", "long enough passphrase 42"
PHONE = "98765 43210"
# Whisper (base) hears espeak's "penicillin" wrongly in one run of three ("panicelin", "another
# dita penicillin"): STT accuracy is issue 16's. "allergic to ibuprofen" it heard right every time,
# whole or split after "allergic", so this test is about the flow, not about hearing.
PATIENT_SAYS = ("I have a fever and body ache for three days, and a dry cough. "
                "I am allergic to ibuprofen.")
PHONE_SIZE, DESKTOP_SIZE = {"width": 390, "height": 844}, {"width": 1280, "height": 800}
LINE = "#rx-lines .med[data-line='{}']"
BLOCKED = LINE + " .issues li[data-severity=block]"

# Everything the patient's page shows as finished patient lines, joined: the turn detector may
# split the words into several turns, anywhere.
PATIENT_SAID = """[...document.querySelectorAll('#transcript li.patient:not(.partial) .text')]
  .map(el => el.textContent).join(' ').toLowerCase()"""
# The assistant has answered the patient's last turn: its reply audio (the ``metrics`` event)
# came after the last final patient line (a later turn interrupts an earlier turn's reply, so
# this reply is the last turn's, and the clinical guide has read that turn), its words are on
# the page after the patient's, and it is listening again.
ANSWERED_LAST = """(() => {
  const events = window.dhanvantri.session?.events || [];
  const lastOf = (check) => events.map(check).lastIndexOf(true);
  const heard = lastOf(e => e.type === 'transcript' && e.role === 'patient' && e.final
                       && (e.text || '').trim().length > 0);
  if (heard < 0 || lastOf(e => e.type === 'metrics') < heard) return false;
  const lines = [...document.querySelectorAll('#transcript li:not(.partial)')];
  const last = lines.map(li => li.classList.contains('patient')).lastIndexOf(true);
  return lines.slice(last + 1).some(li => li.classList.contains('assistant')
      && (li.querySelector('.text')?.textContent || '').trim().length > 0)
    && document.querySelector('#state').dataset.state === 'listening';
})()"""


@pytest.fixture(scope="module")
def patient_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The patient's words once, then a pause longer than the test needs (Chromium loops it)."""
    if not espeak_available():
        pytest.skip("espeak-ng and sox are needed to make the patient's speech")
    return microphone_wav(tmp_path_factory.mktemp("record_audio"), "patient", PATIENT_SAYS,
                          before=1.0, after=120.0)


@pytest.fixture
def server(loopback_ice: None, cheap_passwords: None, tmp_path: Path) -> Iterator[Any]:
    """The full server with the real models, sign-in required, one physician on staff."""
    require_chromium()
    settings = make_settings(tmp_path, require_auth=True, max_sessions=2)
    add_physician(settings, EMAIL, PASSWORD, "Dr Rao")
    with serving(settings) as running:
        yield running


def edit_line(page: Any, index: int, **fields: str) -> None:
    for name, value in fields.items():
        page.fill(f"{LINE.format(index)} input[name='{name}']", value)


def physician_signs_in(page: Any, url: str) -> None:
    page.goto(url + "/physician")
    page.fill("#email", EMAIL)
    page.fill("#password", PASSWORD)
    page.click("#login button[type=submit]")
    page_until(page, "document.querySelector('#state').dataset.state === 'listening'", 30)


def patient_signs_in(page: Any, url: str, caplog: pytest.LogCaptureFixture) -> None:
    page.goto(url + "/")
    sent = len(codes(caplog, "login"))
    page.fill("#phone", PHONE)
    page.click("#send-code")
    page.fill("#code", new_code(caplog, sent))
    page.click("#verify")
    page.wait_for_selector("#consult-view:not([hidden])")


def test_a_spoken_consultation_is_reviewed_edited_and_signed(
        server: Any, playwright_instance: Any, patient_wav: Path, tmp_path: Path,
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="dhanvantri.notify")
    shots = tmp_path / "screenshots"
    shots.mkdir()
    doctor_browser = launch(playwright_instance)
    patient_browser = launch(playwright_instance, patient_wav)
    try:
        doc = doctor_browser.new_page(viewport=DESKTOP_SIZE)
        doc_errors = script_errors(doc)
        physician_signs_in(doc, server.url)
        shows(doc, "#reviews", "Nothing to review")

        patient = patient_browser.new_page(viewport=PHONE_SIZE)
        patient_errors = script_errors(patient)
        patient_signs_in(patient, server.url, caplog)
        patient.click("#start")
        said = page_until(patient, PATIENT_SAID, 150, done=lambda text: "ibuprofen" in text,
                          what=lambda: patient.inner_text("#transcript"))
        page_until(patient, ANSWERED_LAST, 90,
                   what=lambda: f"the assistant's answer: {patient.inner_text('#transcript')!r}")
        print(f"the patient's page heard: {said!r}")
        patient.click("#stop")
        hung_up = time.monotonic()
        assert patient.get_attribute("#state", "data-state") == "idle"

        # The record reaches the physician's queue by itself.
        record = page_until(doc, "document.querySelector('#reviews li[data-id]')?.dataset.id",
                            60, what=lambda: f"the record in the queue: "
                                             f"{doc.inner_text('#reviews')!r}")
        print(json.dumps({"measure": "hang_up_to_physician_queue_s",
                          "seconds": round(time.monotonic() - hung_up, 2)}))

        doc.click(f"#reviews li[data-id='{record}'] button")
        page_until(doc, "!document.querySelector('#record').hidden", 30)
        shows(doc, "#record-status", "Awaiting review")
        # The facts the patient said, however the speech was split into turns.
        shows(doc, "#record-patient", "ibuprofen")  # stated in the call, not yet on profile
        shows(doc, "#record-patient", "stated in consultation")
        shows(doc, "#record-intake", "fever")
        shows(doc, "#record-intake", "cough")
        shows(doc, "#record-transcript", "ibuprofen")
        screenshot(doc, shots, "record", PHONE_SIZE)
        screenshot(doc, shots, "record", DESKTOP_SIZE)

        # A new line, ibuprofen: the gate blocks it beside the line for the stated allergy.
        line = doc.locator("#rx-lines .med").count()
        doc.click("#rx-add")
        page_until(doc, f"document.querySelector(\"{LINE.format(line)}\")", 30)
        edit_line(doc, line, name="Ibuprofen", dose="400 mg", frequency="TDS",
                  duration="5 days")
        page_until(doc, f"""[...document.querySelectorAll("{BLOCKED.format(line)}")]
                            .some(li => li.textContent.toLowerCase().includes('allerg'))""",
                   30, what=lambda: f"the allergy block: {doc.inner_text('#rx-lines')!r}")
        assert doc.get_attribute("#safety-summary", "data-verdict") == "block"

        edit_line(doc, line, name="Cetirizine", dose="10 mg", frequency="OD",
                  duration="3 days")
        page_until(doc, f"""(() => {{ const med = document.querySelector("{LINE.format(line)}");
            return med.dataset.sentName === 'cetirizine' && med.dataset.verdict !== 'block'
                && document.querySelector('#safety-summary').dataset.verdict !== 'block'; }})()""",
                   30, what=lambda: f"the block to clear: {doc.inner_text('#rx-lines')!r}")
        doc.click("#rx-approve")
        shows(doc, "#record-status", "Approved")

        sent = len(codes(caplog, "prescription e-sign"))
        doc.click("#sign-start")
        page_until(doc, "!document.querySelector('#sign-form').hidden", 30)
        doc.fill("#sign-otp", new_code(caplog, sent, "prescription e-sign"))
        doc.click("#sign-complete")
        shows(doc, "#record-status", "Signed")
        page_until(doc, "document.querySelector('#verify-result').dataset.valid === 'true'", 30)
        assert doc_errors == [] and patient_errors == []
    finally:
        patient_browser.close()
        doctor_browser.close()
    with urllib.request.urlopen(f"{server.url}/api/v1/prescriptions/{record}/verify",
                                timeout=10) as response:
        verification = json.loads(response.read())
    assert verification["valid"] is True, verification
