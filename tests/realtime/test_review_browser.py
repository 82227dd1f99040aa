"""The physician's review workspace in headless Chromium, against a real server.

A patient with a penicillin allergy has AI drafts waiting. The physician signs in, sees the queue
(urgent first, a new record arriving while the page is open), opens a record (profile, intake,
transcript, reasoning), changes a medicine to amoxicillin and sees the safety gate's allergy
block beside that line, fixes it, approves, signs with the one-time code and gets the signed PDF
and a verification link that says valid. Screenshots of the queue and the record at phone and
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


def add_patient(api: Any, outbox: OutboxNotifier) -> uuid.UUID:
    """A patient signed up by phone code, with a penicillin allergy in their profile."""
    challenge = api.post("/api/v1/auth/otp/request", data={"phone": PHONE}).json()
    tokens = api.post("/api/v1/auth/otp/verify", data={
        "challenge_id": challenge["challenge_id"], "code": outbox.last_code()}).json()
    auth = {"Authorization": f"Bearer {tokens['access_token']}"}
    profile = api.patch("/api/v1/me/patient-profile", headers=auth, data={
        "full_name": "Asha Kumar", "allergies": ["Penicillin"], "conditions": ["Type 2 diabetes"],
        "medicines": ["Metformin"], "sex": "female", "date_of_birth": "1990-04-12"})
    assert profile.ok, profile.text()
    return uuid.UUID(api.get("/api/v1/me", headers=auth).json()["id"])


def add_record(desk: Desk, patient: uuid.UUID, urgent: bool) -> str:
    """A consultation's draft queued for review (as the end of a consultation does)."""
    services = desk.server.app[SERVICES]
    return str(desk.server.call(create_from_draft(services.uow(), uuid.uuid4(), patient, RECORD,
                                                  SAFE, urgent)))


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

        # A record queued while the page is open arrives by itself, and urgent goes first.
        urgent = add_record(desk, patient, urgent=True)
        page_until(page, f"document.querySelector('#reviews li')?.dataset.id === '{urgent}'", 30)
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
