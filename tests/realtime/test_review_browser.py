"""The physician's review workspace in headless Chromium, against a real server.

A patient with a penicillin allergy has AI drafts waiting. The physician signs in, sees the queue
(urgent first, a new record arriving while the page is open), opens a record (profile, intake,
transcript, reasoning), changes a medicine to amoxicillin and sees the safety gate's allergy
block beside that line, fixes it, approves, signs with the one-time code and gets the signed PDF
and a verification link that says valid. Another record's patient stated facts in the call that
the profile lacks: the physician confirms them into the profile from the Patient card, and
reads the intake as a clinical summary. Screenshots of the queue and the record at phone and
desktop sizes are saved under the test's tmp dir (their paths are printed).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from dhanvantri.platform.bootstrap import SERVICES
from dhanvantri.platform.notifier import OutboxNotifier
from dhanvantri.platform.prescriptions import create_from_draft
from tests.platform.helpers import DRAFT, SAFE
from tests.realtime.physician_app import (
    add_physician,
    cheap_passwords,
    physician_app,
    physician_settings,
)
from tests.support.browser import (
    launch,
    page_until,
    require_chromium,
    screenshot,
    script_errors,
    shows,
)
from tests.support.server import BackgroundServer, serve_in_background

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]
__all__ = ["cheap_passwords"]

EMAIL, PASSWORD = "dr.rao@clinic.example", "long enough passphrase 42"
PHONE = "9876543210"
PHONE_SIZE, DESKTOP_SIZE = {"width": 390, "height": 844}, {"width": 1280, "height": 800}
RECORD = {**DRAFT, "intake": {"symptoms": ["fever", "body ache", "dry cough"],
                              "duration": "3 days", "temperature": "101 °F this morning",
                              "allergies": ["penicillin"], "medications": ["metformin"]}}
LINE = "#rx-lines .med[data-line='{}']"


@dataclass
class Desk:
    """The running server and where its one-time codes go."""

    server: BackgroundServer
    outbox: OutboxNotifier


@pytest.fixture
def desk(tmp_path: Path, cheap_passwords: None) -> Iterator[Desk]:
    """The back office and the physician desk on a loopback port, codes kept in an outbox."""
    require_chromium()
    settings = physician_settings(tmp_path)
    add_physician(settings, EMAIL, PASSWORD, "Dr Rao")
    outbox = OutboxNotifier()
    running = serve_in_background(physician_app(settings, notifier=outbox))
    try:
        yield Desk(running, outbox)
    finally:
        running.stop()


@pytest.fixture
def api(desk: Desk, playwright_instance: Any) -> Iterator[Any]:
    """Plain HTTP calls to the server (Playwright's request context)."""
    context = playwright_instance.request.new_context(base_url=desk.server.url)
    yield context
    context.dispose()


ASHA = {"full_name": "Asha Kumar", "allergies": ["Penicillin"], "conditions": ["Type 2 diabetes"],
        "medicines": ["Metformin"], "sex": "female", "date_of_birth": "1990-04-12"}


def add_patient(api: Any, outbox: OutboxNotifier, profile: dict[str, Any] | None = None,
                phone: str = PHONE) -> uuid.UUID:
    """A patient signed up by phone code (by default with a penicillin allergy in their profile)."""
    challenge = api.post("/api/v1/auth/otp/request", data={"phone": phone}).json()
    tokens = api.post("/api/v1/auth/otp/verify", data={
        "challenge_id": challenge["challenge_id"], "code": outbox.last_code()}).json()
    auth = {"Authorization": f"Bearer {tokens['access_token']}"}
    answer = api.patch("/api/v1/me/patient-profile", headers=auth, data=profile or ASHA)
    assert answer.ok, answer.text()
    return uuid.UUID(api.get("/api/v1/me", headers=auth).json()["id"])


def add_record(desk: Desk, patient: uuid.UUID, urgent: bool,
               record: dict[str, Any] = RECORD) -> str:
    """A consultation's draft queued for review and announced to the physicians' dashboards
    (as the end of a consultation does)."""
    services = desk.server.app[SERVICES]
    rx = desk.server.call(create_from_draft(services.uow(), uuid.uuid4(), patient, record, SAFE,
                                            urgent))
    desk.server.call(services.review.changed(rx, "pending_review", urgent))
    return str(rx)


def sign_in(page: Any, url: str) -> None:
    page.goto(url + "/physician")
    page.fill("#email", EMAIL)
    page.fill("#password", PASSWORD)
    page.click("#login button[type=submit]")
    page_until(page, "document.querySelector('#state').dataset.state === 'listening'", 30)


# The controls a person can use now, each with the name a screen reader would say.
CONTROLS = """() => [...document.querySelectorAll(
    '#desk button, #desk input, #desk textarea, #desk select, #desk a[href]')]
  .filter((el) => el.getClientRects().length && !el.disabled)
  .map((el, i) => {
    el.dataset.kb = String(i);
    const labels = el.labels ? [...el.labels].map((l) => l.textContent).join(' ') : '';
    const own = ['BUTTON', 'A'].includes(el.tagName) ? el.textContent : '';
    return {i, tag: el.tagName, name: (el.getAttribute('aria-label') || labels || own).trim()};
  })"""


def check_keyboard(page: Any) -> None:
    """Every visible control is named and Tab reaches each one."""
    controls = page.evaluate(CONTROLS)
    assert [c for c in controls if not c["name"]] == []
    page.evaluate("document.activeElement?.blur()")
    reached: set[str] = set()
    for _ in range(len(controls) + 10):
        page.keyboard.press("Tab")
        reached.add(page.evaluate("document.activeElement?.dataset?.kb ?? ''"))
    missed = [c for c in controls if str(c["i"]) not in reached]
    assert missed == [], f"not reachable with Tab: {missed}"


def saved_version(page: Any, condition: str) -> int:
    """Wait until ``condition`` holds and every change is saved; the version saved."""
    busy = "document.querySelector('#rx-form').getAttribute('aria-busy') === 'true'"
    text = page_until(page, f"""({condition}) && !({busy})
        && document.querySelector('#rx-saved').textContent""", 30,
                      done=lambda shown: bool(shown) and shown.startswith("Saved"))
    return int(text.split("version ")[1].split()[0])


def edit_line(page: Any, index: int, **fields: str) -> None:
    for name, value in fields.items():
        page.fill(f"{LINE.format(index)} input[name='{name}']", value)


def test_physician_reviews_edits_approves_and_signs(desk: Desk, api: Any,
                                                    playwright_instance: Any,
                                                    tmp_path: Path) -> None:
    shots = tmp_path / "screenshots"
    shots.mkdir()
    patient = add_patient(api, desk.outbox)
    routine = add_record(desk, patient, urgent=False)
    browser = launch(playwright_instance)
    try:
        page = browser.new_page(viewport=DESKTOP_SIZE)
        errors = script_errors(page)
        sign_in(page, desk.server.url)
        page_until(page, f"document.querySelector('#reviews li[data-id=\"{routine}\"]')", 30)

        # A record queued while the page is open arrives by itself, and urgent goes first. It
        # is pushed over the dashboard socket: while that is live the page does not poll.
        urgent = add_record(desk, patient, urgent=True)
        page_until(page, f"document.querySelector('#reviews li')?.dataset.id === '{urgent}'", 30)
        pushed = page.evaluate("window.dhanvantriDesk.reviewEvents.map((e) => e.id)")
        assert urgent in pushed, pushed
        first = page.locator("#reviews li").first
        assert "URGENT" in first.inner_text() and "Viral fever" in first.inner_text()
        assert "Asha Kumar" in first.inner_text()
        screenshot(page, shots, "queue", DESKTOP_SIZE)
        screenshot(page, shots, "queue", PHONE_SIZE)

        first.locator("button").click()
        page_until(page, "!document.querySelector('#record').hidden", 30)
        shows(page, "#record-title", "Viral fever")
        shows(page, "#record-patient", "penicillin")
        shows(page, "#record-patient", "metformin")
        shows(page, "#record-intake", "dry cough")
        shows(page, "#record-intake", "101 °F")
        shows(page, "#record-transcript", "Fever since three days with body ache")
        shows(page, "#record-reasoning", "no red flags reported")
        screenshot(page, shots, "record", PHONE_SIZE)
        screenshot(page, shots, "record", DESKTOP_SIZE)
        check_keyboard(page)

        # The gate runs on each edit: amoxicillin is a penicillin, blocked beside its line.
        edit_line(page, 1, name="Amoxicillin", dose="500 mg", frequency="TDS",
                  duration="5 days")
        blocked = "{} .issues li[data-severity=block]"
        page_until(page, f"""document.querySelector("{blocked.format(LINE.format(1))}")
                             ?.textContent.toLowerCase().includes('penicillin')""", 30)
        assert page.locator(blocked.format(LINE.format(0))).count() == 0
        assert page.get_attribute("#safety-summary", "data-verdict") == "block"
        screenshot(page, shots, "record-blocked", DESKTOP_SIZE)
        page.click("#rx-approve")
        shows(page, "#record-error", "safety check blocks")
        assert "Awaiting review" in page.inner_text("#record-status")

        edit_line(page, 1, name="Azithromycin", dose="500 mg", frequency="OD",
                  duration="3 days")
        page_until(page, f"""(() => {{ const line = document.querySelector("{LINE.format(1)}");
            return line.dataset.sentName === 'azithromycin' && line.dataset.verdict !== 'block'
                && document.querySelector('#safety-summary').dataset.verdict !== 'block'; }})()""",
                   30)
        page.click("#rx-approve")
        shows(page, "#record-status", "Approved")
        page_until(page, f"!document.querySelector('#reviews li[data-id=\"{urgent}\"]')", 30)

        page.click("#sign-start")
        page_until(page, "!document.querySelector('#sign-form').hidden", 30)
        check_keyboard(page)
        code = desk.outbox.last_code(EMAIL)
        page.fill("#sign-otp", "000000" if code != "000000" else "111111")
        page.click("#sign-complete")
        shows(page, "#record-error", "wrong code")
        page.fill("#sign-otp", code)
        page.click("#sign-complete")
        shows(page, "#record-status", "Signed")
        page_until(page, "document.querySelector('#verify-result').dataset.valid === 'true'", 30)
        verify_url = page.inner_text("#verify-link")
        assert verify_url == f"{desk.server.url}/api/v1/prescriptions/{urgent}/verify"
        pdf = page.evaluate("""async () => (await (await fetch(
            document.querySelector('#signed-pdf').href)).text()).slice(0, 5)""")
        assert pdf == "%PDF-"
        screenshot(page, shots, "signed", PHONE_SIZE)
        assert errors == []
    finally:
        browser.close()
    verification = api.get(f"/api/v1/prescriptions/{urgent}/verify").json()
    assert verification["valid"] is True, verification


def test_reject_needs_a_reason_and_a_stale_record_says_why(desk: Desk, api: Any,
                                                           playwright_instance: Any) -> None:
    patient = add_patient(api, desk.outbox)
    first, second = add_record(desk, patient, False), add_record(desk, patient, False)
    browser = launch(playwright_instance)
    try:
        page = browser.new_page(viewport=PHONE_SIZE)
        errors = script_errors(page)
        sign_in(page, desk.server.url)
        page_until(page, "document.querySelectorAll('#reviews li[data-id]').length === 2", 30)

        page.click(f"#reviews li[data-id='{first}'] button")
        shows(page, "#record-status", "Awaiting review")
        page.click("#rx-reject")
        shows(page, "#record-error", "give a reason")
        assert page.get_attribute("#reject-reason", "aria-invalid") == "true"

        # A colleague decides first: the next edit is refused and the page says why.
        token = page.evaluate("sessionStorage.getItem('dhv.access')")
        answer = api.post(f"/api/v1/prescriptions/{first}/reject",
                          data={"reason": "Seen in clinic"},
                          headers={"Authorization": f"Bearer {token}"})
        assert answer.ok, answer.text()
        edit_line(page, 0, dose="650 mg")
        shows(page, "#record-error", "rejected: it can no longer be changed")
        shows(page, "#record-notice", "Seen in clinic")
        shows(page, "#record-status", "Rejected")
        assert page.locator(f"{LINE.format(0)} input[name='dose']").is_disabled()

        # Lines can be added and removed; each change is saved with a fresh safety check.
        page.click(f"#reviews li[data-id='{second}'] button")
        shows(page, "#record-status", "Awaiting review")
        page.click("#rx-add")
        edit_line(page, 2, name="Oral rehydration salts", dose="1 sachet",
                  frequency="after each loose stool", duration="3 days")
        added = saved_version(page, "document.querySelector(\"" + LINE.format(2)
                              + "\")?.dataset.sentName === 'oral rehydration salts'")
        page.click("#rx-lines button[aria-label='Remove medicine 3']")
        removed = saved_version(page, "document.querySelectorAll('#rx-lines .med').length === 2")
        assert removed > added
        stored = api.get(f"/api/v1/prescriptions/{second}",
                         headers={"Authorization": f"Bearer {token}"}).json()
        assert [m["name"] for m in stored["content"]["medications"]] == [
            "Paracetamol", "Cetirizine"]
        assert stored["version"] == removed

        page.fill("#reject-reason", "Needs an examination in person")
        page.click("#rx-reject")
        shows(page, "#record-status", "Rejected")
        page_until(page, "!document.querySelector('#reviews li[data-id]')", 30)
        shows(page, "#reviews", "Nothing to review")
        assert errors == []
    finally:
        browser.close()


# A consultation's record as its close queues it: the intake under consultation.intake, with
# facts the profile lacks (two allergies, a condition), "no medicines", a red flag and a summary
# the patient did not confirm.
STATED_RECORD = {**DRAFT, "consultation": {"end_reason": "hangup", "red_flags": [
    "neck stiffness"], "intake": {
    "complaint": "fever since three days", "duration": "3 days", "duration_days": 3,
    "severity": "moderate", "severity_score": 6, "onset": "sudden",
    "symptoms": [
        {"key": "fever", "name": "fever", "present": True, "duration": "3 days",
         "severity": "moderate"},
        {"key": "body_ache", "name": "body ache", "present": True, "duration": "3 days",
         "severity": "moderate"},
        {"key": "cough", "name": "cough", "present": True, "character": "dry"},
        {"key": "vomiting", "name": "vomiting", "present": False},
        {"key": "breathlessness", "name": "breathlessness", "present": False}],
    "age_years": 35, "sex": "male", "pregnant": None,
    "vitals": {"temperature_f": 101.2, "bp_systolic": 130, "bp_diastolic": 85,
               "pulse_bpm": 96}, "weight_kg": 70,
    "allergies": ["penicillin", "sulfa"], "no_allergies": False,
    "medications": [], "no_medications": True, "conditions": ["asthma"], "no_conditions": False,
    "summary_confirmed": False, "unanswered": ["probe:q1:chest_pain", "summary"],
    "missing": [], "turns": 11}}}
RAVI = {"full_name": "Ravi Shah", "sex": "male"}

# The rows of a definition list, term -> text.
ROWS = """(selector) => Object.fromEntries([...document.querySelectorAll(selector + ' dt')]
  .map((dt) => [dt.textContent, dt.nextElementSibling?.textContent || '']))"""


def test_stated_facts_are_confirmed_to_the_profile_and_the_summary_reads_clinically(
        desk: Desk, api: Any, playwright_instance: Any, tmp_path: Path) -> None:
    shots = tmp_path / "screenshots"
    shots.mkdir()
    patient = add_patient(api, desk.outbox, RAVI, phone="9876500001")
    rx_id = add_record(desk, patient, urgent=False, record=STATED_RECORD)
    browser = launch(playwright_instance)
    try:
        page = browser.new_page(viewport=DESKTOP_SIZE)
        errors = script_errors(page)
        sign_in(page, desk.server.url)
        page.click(f"#reviews li[data-id='{rx_id}'] button")
        shows(page, "#record-status", "Awaiting review")

        card = page.evaluate(ROWS, "#record-patient")
        assert "penicillinstated in consultation" in card["Allergies"].lower()
        assert "asthma" in card["Conditions"].lower()
        assert card["Current medicines"] == "None (stated)"
        summary = page.evaluate(ROWS, "#record-intake")
        assert next(iter(summary.items())) == ("Red flags", "neck stiffness")  # read first
        assert summary["Complaint"] == "Fever: 3 days, sudden onset, moderate (6/10)"
        assert summary["Also reports"] == "body ache, cough (dry)"
        assert summary["Denies"] == "vomiting, breathlessness"
        assert summary["Patient"] == "35 y, male"
        assert summary["Reported"] == ("Temperature 101.2 °F, BP 130/85 mmHg, pulse 96/min, "
                                   "weight 70 kg")
        assert summary["Not answered"] == "chest pain"
        assert summary["Summary"] == "Patient did not confirm the summary"
        assert not {"Turns", "Missing", "No allergies", "Summary confirmed"} & set(summary)
        screenshot(page, shots, "record-stated", PHONE_SIZE)
        screenshot(page, shots, "record-stated", DESKTOP_SIZE)
        check_keyboard(page)

        # One fact, then the rest at once; each lands in the profile and loses its mark.
        page.click("#record-patient button[aria-label='Confirm penicillin to profile']")
        page_until(page, """!document.querySelector(
            "#record-patient button[aria-label='Confirm penicillin to profile']")""", 30)
        card = page.evaluate(ROWS, "#record-patient")
        assert card["Allergies"].lower().startswith("penicillinsulfastated in consultation")
        token = page.evaluate("sessionStorage.getItem('dhv.access')")
        auth = {"Authorization": f"Bearer {token}"}
        stored = api.get(f"/api/v1/prescriptions/{rx_id}", headers=auth).json()
        assert stored["patient"]["allergies"] == ["penicillin"]
        assert stored["stated"] == {"allergies": ["sulfa"], "medicines": [],
                                    "conditions": ["asthma"]}
        shows(page, "#record-stated-all", "2 facts stated in consultation")
        page.click("#record-stated-all button[aria-label='Confirm all 2 stated facts to profile']")
        page_until(page, "!document.querySelector('#record-patient .stated, #record-stated-all')",
                   30)
        card = page.evaluate(ROWS, "#record-patient")
        assert card["Allergies"] == "penicillinsulfa" and card["Conditions"] == "asthma"
        stored = api.get(f"/api/v1/prescriptions/{rx_id}", headers=auth).json()
        assert stored["patient"]["allergies"] == ["penicillin", "sulfa"]
        assert stored["patient"]["conditions"] == ["asthma"]
        screenshot(page, shots, "record-confirmed", PHONE_SIZE)
        assert errors == []
    finally:
        browser.close()


# An AI voice consultation (its record has an end reason) drafted an antibiotic: TPG 2020 List A.
VOICE_RECORD = {**DRAFT, "diagnosis": "Acute otitis media",
                "medications": [{"name": "Amoxicillin", "dose": "500 mg", "frequency": "TDS",
                                 "duration": "5 days"}],
                "consultation": {"end_reason": "completed"}}
NO_ALLERGY = {**ASHA, "allergies": []}


def test_the_physician_states_how_the_consultation_was_held(desk: Desk, api: Any,
                                                            playwright_instance: Any,
                                                            tmp_path: Path) -> None:
    shots = tmp_path / "screenshots"
    shots.mkdir()
    patient = add_patient(api, desk.outbox, NO_ALLERGY)
    rx = add_record(desk, patient, urgent=False, record=VOICE_RECORD)
    browser = launch(playwright_instance)
    try:
        page = browser.new_page(viewport=PHONE_SIZE)
        errors = script_errors(page)
        sign_in(page, desk.server.url)
        page.click(f"#reviews li[data-id='{rx}'] button")
        shows(page, "#record-status", "Awaiting review")
        # The record's own reading: the assistant's voice call is a first audio consultation.
        shows(page, "#rx-consultation-note", "From the record: first consultation, audio")
        assert page.input_value("#held-kind") == "first"
        assert page.input_value("#held-mode") == "audio"
        check_keyboard(page)

        # Stated as text: amoxicillin (List A) waits for a video consultation.
        page.select_option("#held-mode", "text")
        blocked = f"{LINE.format(0)} .issues li[data-severity=block]"
        page_until(page, f"""document.querySelector("{blocked}")
                             ?.textContent.includes('List A')""", 30)
        assert page.get_attribute("#safety-summary", "data-verdict") == "block"
        screenshot(page, shots, "consultation-blocked", PHONE_SIZE)
        screenshot(page, shots, "consultation-blocked", DESKTOP_SIZE)
        page.click("#rx-approve")
        shows(page, "#record-error", "safety check blocks")

        # The physician saw the patient by video: the gate lets it through, and it is approved.
        page.select_option("#held-mode", "video")
        saved_version(page, "document.querySelector('#safety-summary')?.dataset.verdict"
                            " !== 'block'")
        shows(page, "#rx-consultation-note", "Stated on review: first consultation, video")
        assert page.locator(blocked).count() == 0
        screenshot(page, shots, "consultation-video", PHONE_SIZE)
        screenshot(page, shots, "consultation-video", DESKTOP_SIZE)
        page.click("#rx-approve")
        shows(page, "#record-status", "Approved")
        assert page.locator("#held-mode").is_disabled()
        assert errors == []
    finally:
        browser.close()
