"""A physician joins a live consultation: two Chromium pages, the real server and models.

The patient's fake microphone says an emergency sentence; the physician's says a few words of
their own. The physician sees the escalation in the queue, accepts, joins the call, takes over:
their voice reaches the patient's page (inbound audio energy, and their words in the patient's
transcript) while the assistant says nothing; after hand back the assistant speaks again. Then
the physician ends the consultation (confirming): the patient's page says the doctor ended it and
stops the call, and the physician's call panel closes. Screenshots of both, phone and desktop.
Also prints how long the escalation took from the server publishing it to the physician's page
showing it (a measurement, not an assertion).
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.realtime.conftest import make_settings
from tests.realtime.physician_app import EMERGENCY, add_physician, cheap_passwords
from tests.speech import espeak_available, microphone_wav
from tests.support.browser import (
    launch,
    page_until,
    received_audio_energy,
    require_chromium,
    screenshot,
    shows,
)
from tests.support.server import run_app_in_background

pytestmark = [pytest.mark.browser, pytest.mark.models, pytest.mark.timeout(600)]
__all__ = ["cheap_passwords"]

EMAIL, PASSWORD = "dr.rao@clinic.example", "long enough passphrase 42"
DOCTOR_SAYS = "Hello, this is doctor Rao. An ambulance is on the way. Please sit down."
DOCTOR_WORDS = ("ambulance", "doctor", "sit down")
# Every finished line the patient's page shows as the physician's, joined: the turn detector
# may split the physician's speech into several turns, anywhere.
PHONE_SIZE, DESKTOP_SIZE = {"width": 390, "height": 844}, {"width": 1280, "height": 800}
PHYSICIAN_SAID = """[...document.querySelectorAll('#transcript li.physician:not(.partial) .text')]
  .map(el => el.textContent).join(' ').toLowerCase()"""


@pytest.fixture(scope="module")
def voices(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The patient's emergency (once, then a long pause) and the doctor's words (looping)."""
    if not espeak_available():
        pytest.skip("espeak-ng and sox are needed to make the speech")
    folder = tmp_path_factory.mktemp("call_audio")
    return (microphone_wav(folder, "patient", EMERGENCY, before=1.0, after=60.0),
            microphone_wav(folder, "doctor", DOCTOR_SAYS, before=0.5, after=1.5))


@pytest.fixture
def server(loopback_ice: None, cheap_passwords: None, tmp_path: Path) -> Iterator[Any]:
    require_chromium()
    settings = make_settings(tmp_path, max_sessions=2, escalation_timeout_s=300.0)
    add_physician(settings, EMAIL, PASSWORD, "Dr Rao")
    running = run_app_in_background(settings)
    try:
        running.wait_ready(timeout=240)
        yield running
    finally:
        running.stop()


def patient_events(page: Any, since: int = 0) -> list[dict[str, Any]]:
    return page.evaluate(f"window.dhanvantri.session.events.slice({since})")


def test_physician_joins_takes_over_and_hands_back(server: Any, playwright_instance: Any,
                                                   voices: tuple[Path, Path],
                                                   tmp_path: Path) -> None:
    patient_wav, doctor_wav = voices
    shots = tmp_path / "screenshots"
    shots.mkdir()
    doctor_browser = launch(playwright_instance, doctor_wav)
    patient_browser = launch(playwright_instance, patient_wav)
    try:
        doc = doctor_browser.new_page()
        doc.goto(server.url + "/physician")
        doc.fill("#email", EMAIL)
        doc.fill("#password", PASSWORD)
        doc.click("#login button[type=submit]")
        page_until(doc, "document.querySelector('#state').dataset.state === 'listening'")

        patient = patient_browser.new_page()
        patient.goto(server.url + "/")
        patient.click("#guest")  # make_settings allows guest demos
        patient.click("#start")

        # The emergency reaches the physician's queue; they accept and join.
        page_until(doc, "document.querySelector('#queue li.emergency button.accept')", 120)
        page_until(doc, "document.querySelector('#queue li.emergency').innerText", 30,
                   done=lambda text: "chest pain" in text)
        doc.click("#queue li.emergency button.accept")
        page_until(doc, "document.querySelector('#queue li button.join')")
        doc.click("#queue li button.join")
        page_until(doc, "window.dhanvantriDesk.call.events.some(e => e.type === 'joined')")
        page_until(doc, "window.dhanvantriDesk.call.events.some(e => e.type === 'notes' && "
                        "e.red_flags.includes('chest_pain'))")
        page_until(patient, "!document.querySelector('#doctor-badge').hidden")
        assert "Dr Rao" in patient.locator("#doctor-badge").inner_text()

        # Take over: the assistant goes silent; the physician's voice reaches the patient.
        doc.click("#takeover")
        page_until(patient, "document.querySelector('#doctor-badge').dataset.mode === "
                            "'takeover'")
        mark = patient.evaluate("window.dhanvantri.session.events.length")
        before = received_audio_energy(patient)
        said = page_until(patient, PHYSICIAN_SAID, 120,
                          done=lambda text: any(word in text for word in DOCTOR_WORDS),
                          what=f"the physician's words, one of {DOCTOR_WORDS}")
        heard = received_audio_energy(patient) - before
        during = patient_events(patient, mark)
        assert not [e for e in during if e.get("role") == "assistant"], during
        assert {"type": "state", "value": "speaking"} not in during
        assert any(word in said for word in DOCTOR_WORDS), said
        assert heard > 0.05, heard  # the doctor's voice arrived as audio

        # Hand back: the assistant speaks again, with the physician's notes.
        doc.fill("#handback-notes", "Ambulance called. Keep the patient seated.")
        doc.click("#handback")
        page_until(patient, "window.dhanvantri.session.events.some(e => e.role === "
                            "'assistant' && (e.text || '').includes('handed the call back'))")
        page_until(doc, "window.dhanvantriDesk.call.events.some(e => e.type === 'notes' && "
                        "e.physician_notes.join(' ').includes('Ambulance called'))")
        latencies = [r["ms"] for r in doc.evaluate("window.dhanvantriDesk.latencies")]

        # End the consultation (confirmed): the patient is told, then the call stops there.
        screenshot(doc, shots, "call", PHONE_SIZE)
        screenshot(doc, shots, "call", DESKTOP_SIZE)
        asked: list[str] = []
        doc.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
        doc.click("#end-call")
        shows(patient, "#escalation", "The doctor ended the consultation", 60)
        page_until(patient, "window.dhanvantri.session.ended && "
                            "!document.querySelector('#start').hidden", 60,
                   what="the patient's page to stop the call")
        assert patient.inner_text("#state-text") == "Not connected"
        assert patient.evaluate("document.querySelector('#doctor-badge').hidden")
        assert not patient.evaluate("document.querySelector('#alert').hidden === false && "
                                    "document.querySelector('#alert').dataset.kind === 'error'")
        page_until(doc, "document.querySelector('#call').hidden", 60)
        assert asked and "End the consultation" in asked[0]
        screenshot(patient, shots, "patient-ended", PHONE_SIZE)
        screenshot(patient, shots, "patient-ended", DESKTOP_SIZE)
    finally:
        patient_browser.close()
        doctor_browser.close()
    assert latencies
    print(json.dumps({"benchmark": "escalation_to_physician_page_in_call",
                      "samples": len(latencies),
                      "p50_ms": round(statistics.median(latencies), 2),
                      "max_ms": round(max(latencies), 2), "energy_heard": round(heard, 3)}))
