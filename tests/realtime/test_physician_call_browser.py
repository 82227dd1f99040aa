"""A physician joins a live consultation: two Chromium pages, the real server and models.

The patient's fake microphone says an emergency sentence; the physician's says a few words of
their own. The physician sees the escalation in the queue, accepts, joins the call, takes over:
their voice reaches the patient's page (inbound audio energy, and their words in the patient's
transcript) while the assistant says nothing; after hand back the assistant speaks again.
Also prints how long the escalation took from the server publishing it to the physician's page
showing it (a measurement, not an assertion).
"""

from __future__ import annotations

import json
import statistics
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.realtime.conftest import make_settings
from tests.realtime.physician_app import EMERGENCY, add_physician, cheap_passwords
from tests.realtime.test_browser import CHROMIUM, RECEIVED_AUDIO, launch, loopback_ice
from tests.speech import espeak_available

pytestmark = [pytest.mark.browser, pytest.mark.models, pytest.mark.timeout(600)]
__all__ = ["cheap_passwords", "loopback_ice"]

EMAIL, PASSWORD = "dr.rao@clinic.example", "long enough passphrase 42"
DOCTOR_SAYS = "Hello, this is doctor Rao. An ambulance is on the way. Please sit down."


def wav(folder: Path, name: str, text: str, before: float, after: float) -> Path:
    raw, out = folder / f"{name}.raw.wav", folder / f"{name}.wav"
    subprocess.run(["espeak-ng", "-v", "en-us", "-s", "140", "-w", str(raw), text], check=True)
    subprocess.run(["sox", str(raw), "-r", "48000", "-c", "1", "-b", "16", str(out),
                    "pad", str(before), str(after)], check=True)
    return out


@pytest.fixture(scope="module")
def voices(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The patient's emergency (once, then a long pause) and the doctor's words (looping)."""
    if not espeak_available():
        pytest.skip("espeak-ng and sox are needed to make the speech")
    folder = tmp_path_factory.mktemp("call_audio")
    return (wav(folder, "patient", EMERGENCY, 1.0, 60.0),
            wav(folder, "doctor", DOCTOR_SAYS, 0.5, 1.5))


@pytest.fixture
def server(loopback_ice: None, cheap_passwords: None, tmp_path: Path) -> Iterator[Any]:
    from dhanvantri.realtime.app import free_port, run_app_in_background

    settings = make_settings(tmp_path, max_sessions=2, escalation_timeout_s=300.0)

    add_physician(settings, EMAIL, PASSWORD, "Dr Rao")
    running = run_app_in_background(settings, free_port())
    try:
        running.wait_ready(timeout=240)
        yield running
    finally:
        running.stop()


def wait_for(page: Any, script: str, seconds: float = 60.0) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = page.evaluate(script)
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {script}")


def patient_events(page: Any, since: int = 0) -> list[dict[str, Any]]:
    return page.evaluate(f"window.dhanvantri.session.events.slice({since})")


def energy(page: Any) -> float:
    stats = page.evaluate(RECEIVED_AUDIO)
    return float(stats["energy"]) if stats else 0.0


def test_physician_joins_takes_over_and_hands_back(server: Any, voices: tuple[Path, Path]
                                                   ) -> None:
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is needed at /usr/bin/chromium")
    patient_wav, doctor_wav = voices
    with sync_playwright() as playwright:
        doctor_browser = launch(playwright, doctor_wav)
        patient_browser = launch(playwright, patient_wav)
        try:
            doc = doctor_browser.new_page()
            doc.goto(server.url + "/physician")
            doc.fill("#email", EMAIL)
            doc.fill("#password", PASSWORD)
            doc.click("#login button[type=submit]")
            wait_for(doc, "document.querySelector('#state').dataset.state === 'listening'")

            patient = patient_browser.new_page()
            patient.goto(server.url + "/")
            patient.click("#start")

            # The emergency reaches the physician's queue; they accept and join.
            wait_for(doc, "document.querySelector('#queue li.emergency button.accept')", 120)
            assert "chest pain" in doc.locator("#queue li.emergency").inner_text()
            doc.click("#queue li.emergency button.accept")
            wait_for(doc, "document.querySelector('#queue li button.join')")
            doc.click("#queue li button.join")
            wait_for(doc, "window.dhanvantriDesk.call.events.some(e => e.type === 'joined')")
            wait_for(doc, "window.dhanvantriDesk.call.events.some(e => e.type === 'notes' && "
                          "e.red_flags.includes('chest_pain'))")
            wait_for(patient, "!document.querySelector('#doctor-badge').hidden")
            assert "Dr Rao" in patient.locator("#doctor-badge").inner_text()

            # Take over: the assistant goes silent; the physician's voice reaches the patient.
            doc.click("#takeover")
            wait_for(patient, "document.querySelector('#doctor-badge').dataset.mode === "
                              "'takeover'")
            mark = patient.evaluate("window.dhanvantri.session.events.length")
            before = energy(patient)
            wait_for(patient, "document.querySelector('#transcript li.physician:not(.partial)')",
                     120)
            heard = energy(patient) - before
            during = patient_events(patient, mark)
            assert not [e for e in during if e.get("role") == "assistant"], during
            assert {"type": "state", "value": "speaking"} not in during
            said = patient.locator("#transcript li.physician").first.inner_text().lower()
            assert "ambulance" in said or "doctor" in said or "sit down" in said, said
            assert heard > 0.05, heard  # the doctor's voice arrived as audio

            # Hand back: the assistant speaks again, with the physician's notes.
            doc.fill("#handback-notes", "Ambulance called. Keep the patient seated.")
            doc.click("#handback")
            wait_for(patient, "window.dhanvantri.session.events.some(e => e.role === "
                              "'assistant' && (e.text || '').includes('handed the call back'))")
            wait_for(doc, "window.dhanvantriDesk.call.events.some(e => e.type === 'notes' && "
                          "e.physician_notes.join(' ').includes('Ambulance called'))")
            latencies = [r["ms"] for r in doc.evaluate("window.dhanvantriDesk.latencies")]
        finally:
            patient_browser.close()
            doctor_browser.close()
    assert latencies
    print(json.dumps({"benchmark": "escalation_to_physician_page_in_call",
                      "samples": len(latencies),
                      "p50_ms": round(statistics.median(latencies), 2),
                      "max_ms": round(max(latencies), 2), "energy_heard": round(heard, 3)}))
