"""The patient page signs in by phone OTP, in headless Chromium against the real server.

The server requires sign-in (the default) and its access tokens live one minute. The login code
is read where an operator without an SMS gateway reads it: the console notifier's log line. The
page's own clock is Playwright's, so the test decides when the page's timers run (its refresh
ahead of expiry, the resend countdown) while the server's tokens expire in real time. Other
tests join over the WebSocket fallback (a browser without WebRTC) with the token in its URL, and
send the patient back to sign-in when the session was revoked elsewhere.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from dhanvantri.platform.clock import utcnow
from dhanvantri.platform.web import SERVICES
from dhanvantri.realtime.app import create_app
from dhanvantri.realtime.state import RUNTIME
from dhanvantri.settings import Settings
from tests.realtime.conftest import make_settings, stand_in_models, start
from tests.speech import espeak_available, microphone_wav
from tests.support.browser import launch, page_until, require_chromium, screenshot
from tests.support.codes import codes, new_code
from tests.support.server import serving

PHONE, LAST_FOUR = "98765 43210", "3210"
PHONE_SIZE, DESKTOP_SIZE = {"width": 390, "height": 844}, {"width": 1280, "height": 800}

TOKENS = "JSON.parse(sessionStorage.getItem('dhanvantri.patient') || 'null')"
# The assistant's replies so far (lines with words in them).
ANSWERS = ("[...document.querySelectorAll('#transcript li.assistant .text')]"
           ".map(el => el.textContent.trim()).filter(Boolean)")
# Every visible form control has a name a screen reader reads out.
UNNAMED_CONTROLS = """() => [...document.querySelectorAll('input, button')]
  .filter(el => el.offsetParent !== null)
  .filter(el => el.tagName === 'INPUT' ? el.labels.length === 0 : !el.textContent.trim())
  .map(el => el.id || el.outerHTML)"""


# ------------------------------------------------------------------ without a browser
def test_sign_in_is_required_unless_turned_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DHANVANTRI_REQUIRE_AUTH", raising=False)
    assert Settings().require_auth is True
    monkeypatch.setenv("DHANVANTRI_REQUIRE_AUTH", "0")
    assert Settings().require_auth is False


@pytest.mark.parametrize("require_auth", [True, False])
async def test_health_tells_the_page_whether_guests_may_consult(tmp_path: Path,
                                                                require_auth: bool) -> None:
    settings = make_settings(tmp_path, require_auth=require_auth)
    client: TestClient = await start(create_app(settings, models=stand_in_models(settings)))
    try:
        body = await (await client.get("/healthz")).json()
        assert body["status"] == "ready" and body["guests"] is (not require_auth)
        guest = await client.post("/api/v1/consultations")
        assert guest.status == (401 if require_auth else 201)
    finally:
        await client.close()


# ------------------------------------------------------------------ in Chromium
@pytest.fixture(scope="module")
def patient_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Speech for the fake microphone (the stand-in recogniser hears 'I have a fever')."""
    if not espeak_available():
        pytest.skip("espeak-ng and sox are needed to make the patient's speech")
    return microphone_wav(tmp_path_factory.mktemp("signin_audio"), "patient",
                          "I have had a fever since yesterday.", before=1, after=15)


class ShiftedClock:
    """The wall clock moved forward: the server's tokens expire without the test waiting."""

    def __init__(self, offset: timedelta) -> None:
        self.offset = offset

    def __call__(self) -> datetime:
        return utcnow() + self.offset


@pytest.fixture(scope="module")
def server(loopback_ice: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The full server, sign-in required, one-minute access tokens, stand-in voice models."""
    require_chromium()
    settings = make_settings(tmp_path_factory.mktemp("signin_server"), require_auth=True,
                             access_token_minutes=1, max_sessions=2)
    with serving(settings, models=stand_in_models(settings), ready_s=30) as running:
        yield running


def api(url: str, method: str = "GET", body: dict[str, Any] | None = None,
        token: str | None = None) -> tuple[int, dict[str, Any]]:
    """One JSON request: the status and the parsed body (``{}`` when there is none)."""
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            raw, status = response.read(), response.status
    except urllib.error.HTTPError as exc:
        raw, status = exc.read(), exc.code
    return status, json.loads(raw) if raw else {}


def shoot(page: Any, folder: Path, name: str) -> None:
    """Screenshots of what the page shows now, at phone and desktop size; back to phone."""
    for size in (PHONE_SIZE, DESKTOP_SIZE):
        screenshot(page, folder, name, size)
    page.set_viewport_size(PHONE_SIZE)


def consult(page: Any, answers_before: int) -> str:
    """Start a consultation and see the assistant answer once more; the consultation's id."""
    page.click("#start")
    page_until(page, ANSWERS, 90, done=lambda answers: len(answers) > answers_before,
               what=lambda: page.inner_text("#transcript"))
    return (page.text_content("#detail-id") or "").strip()  # in the closed details


def hang_up(page: Any) -> None:
    page.click("#stop")
    assert page.get_attribute("#state", "data-state") == "idle"


def owner_of(server: Any, consultation_id: str) -> str | None:
    """The patient id a live consultation belongs to (None for a guest's)."""
    owner = server.app[RUNTIME].registry.get(consultation_id).owner
    return str(owner) if owner else None


@pytest.mark.browser
@pytest.mark.timeout(300)
def test_patient_signs_in_consults_refreshes_and_signs_out(
        server: Any, playwright_instance: Any, patient_wav: Path, tmp_path: Path,
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="dhanvantri.notify")
    browser = launch(playwright_instance, patient_wav)
    try:
        page = browser.new_context(viewport=PHONE_SIZE).new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        answers: list[tuple[str, str, int]] = []
        page.on("response", lambda r: answers.append(
            (r.request.method, r.url.removeprefix(server.url), r.status)))
        bearer: list[tuple[str, str | None]] = []
        page.on("request", lambda r: bearer.append(
            (r.url.removeprefix(server.url), r.headers.get("authorization"))))
        page.clock.install()  # flows in real time until the test pauses it
        with page.expect_response("**/healthz"):
            page.goto(server.url + "/")

        # Sign-in comes first; this server allows no guests, so none are offered.
        assert page.is_visible("#phone") and page.is_hidden("#consult-view")
        assert page.is_hidden("#guest-option")
        assert page.evaluate(UNNAMED_CONTROLS) == []
        shoot(page, tmp_path, "signin")

        # A number that is not an Indian mobile: the API's 422 names the field.
        page.fill("#phone", "123456789")
        page.click("#send-code")
        page_until(page, "document.getElementById('phone-error').textContent", 10)
        assert page.inner_text("#phone-error").startswith("Mobile number:")
        assert "valid mobile number" in page.inner_text("#phone-error")
        assert page.get_attribute("#phone", "aria-invalid") == "true"

        # The right number, by keyboard: the code goes to the console, the page asks for it.
        page.fill("#phone", PHONE)
        page.press("#phone", "Enter")
        first = new_code(caplog, 0)
        page.wait_for_selector("#code-form:not([hidden])")
        assert LAST_FOUR in page.inner_text("#code-sent")
        assert page.evaluate("document.activeElement.id") == "code"

        # A wrong code: a message, attempts left, still signed out.
        page.keyboard.type(f"{(int(first) + 1) % 1_000_000:06d}")
        page.keyboard.press("Enter")
        page_until(page, "document.getElementById('code-error').textContent", 10)
        assert "not right" in page.inner_text("#code-error")
        assert "attempts left" in page.inner_text("#code-error")
        assert page.evaluate(TOKENS) is None and page.is_hidden("#consult-view")
        shoot(page, tmp_path, "wrong-code")

        # Resend waits out its countdown, then sends a new code; the new one signs in.
        assert page.is_disabled("#resend")
        page.clock.fast_forward("00:31")
        page_until(page, "!document.getElementById('resend').disabled", 10)
        page.click("#resend")
        code = new_code(caplog, 1)
        page.fill("#code", code)
        page.click("#verify")
        page.wait_for_selector("#consult-view:not([hidden])")
        assert LAST_FOUR in page.inner_text("#account-who")
        assert page.is_hidden("#signin-view") and page.evaluate(TOKENS)["access_token"]
        assert "9876543210" not in json.dumps(page.evaluate(TOKENS))  # only a masked number
        assert page.evaluate(UNNAMED_CONTROLS) == []
        shoot(page, tmp_path, "signed-in")

        # From here the page's timers wait for the test: its token will expire, unrefreshed.
        now = page.evaluate("Date.now()") / 1000
        page.clock.pause_at(datetime.fromtimestamp(now + 1, UTC))
        token = page.evaluate(TOKENS)["access_token"]
        status, me = api(server.url + "/api/v1/me", token=token)
        assert status == 200 and me["role"] == "patient"

        # A consultation as this patient: the token goes with the request and the offer.
        consultation_id = consult(page, 0)
        assert owner_of(server, consultation_id) == me["id"]
        hang_up(page)
        joined = [(url, auth) for url, auth in bearer if url.startswith("/api/v1/consultations")]
        assert len(joined) >= 2, joined  # create, offer (and the hang-up)
        assert all(auth == f"Bearer {token}" for _, auth in joined), joined

        # The access token expires on the server; the next consultation still starts: the
        # page is refused once, refreshes and tries again.
        server.app[SERVICES].tokens.clock = ShiftedClock(timedelta(minutes=1, seconds=1))
        assert api(server.url + "/api/v1/me", token=page.evaluate(TOKENS)["access_token"]
                   )[0] == 401
        mark = len(answers)
        consult(page, len(page.evaluate(ANSWERS)))
        hang_up(page)
        # The first call's hang-up may still be answered meanwhile: it is not this one's.
        calls = [(m, u, s) for m, u, s in answers[mark:]
                 if u.startswith("/api/v1/") and consultation_id not in u]
        assert calls[:3] == [("POST", "/api/v1/consultations", 401),
                             ("POST", "/api/v1/auth/refresh", 200),
                             ("POST", "/api/v1/consultations", 201)], calls

        # Ahead of expiry the page refreshes by itself.
        before = page.evaluate(TOKENS)
        page.clock.fast_forward("00:50")
        page_until(page, TOKENS, 10, done=lambda now: now["access_token"]
                   != before["access_token"], what="the page to refresh its tokens")

        # Sign out: back to the sign-in card, tokens gone here and revoked on the server.
        last = page.evaluate(TOKENS)
        page.click("#signout")
        page.wait_for_selector("#signin-view:not([hidden])")
        assert page.evaluate(TOKENS) is None and page.is_visible("#phone")
        status, refused = api(server.url + "/api/v1/auth/refresh", "POST",
                              {"refresh_token": last["refresh_token"]})
        assert status == 401, refused
        assert errors == []
    finally:
        browser.close()



def sign_in(page: Any, caplog: pytest.LogCaptureFixture, phone: str) -> None:
    """Sign in on the page with ``phone`` and the code the console notifier wrote."""
    sent = len(codes(caplog))
    page.fill("#phone", phone)
    page.click("#send-code")
    page.fill("#code", new_code(caplog, sent))
    page.click("#verify")
    page.wait_for_selector("#consult-view:not([hidden])")


@pytest.mark.browser
def test_without_webrtc_the_patient_consults_over_the_websocket(
        server: Any, playwright_instance: Any, patient_wav: Path,
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="dhanvantri.notify")
    browser = launch(playwright_instance, patient_wav)
    try:
        page = browser.new_context(viewport=PHONE_SIZE).new_page()
        page.add_init_script("delete window.RTCPeerConnection;")  # a browser without WebRTC
        sockets: list[str] = []
        page.on("websocket", lambda ws: sockets.append(ws.url))
        page.goto(server.url + "/")
        sign_in(page, caplog, "91234 56789")
        token = page.evaluate(TOKENS)["access_token"]
        status, me = api(server.url + "/api/v1/me", token=token)
        assert status == 200

        # The token rides in the start message, never the URL; the consultation is this
        # patient's.
        consultation_id = consult(page, 0)
        assert page.text_content("#detail-connection") == "websocket"
        assert sockets == [f"{server.url.replace('http', 'ws', 1)}/api/v1/consultations/"
                           f"{consultation_id}/ws"]
        assert owner_of(server, consultation_id) == me["id"]
        hang_up(page)
    finally:
        browser.close()


@pytest.mark.browser
def test_a_revoked_session_sends_the_patient_back_to_sign_in(
        server: Any, playwright_instance: Any, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="dhanvantri.notify")
    browser = launch(playwright_instance)
    try:
        page = browser.new_context(viewport=PHONE_SIZE).new_page()
        page.clock.install()
        page.goto(server.url + "/")
        sign_in(page, caplog, "70123 45678")
        page.reload()  # the tokens outlive a reload (this tab's sessionStorage)
        page.wait_for_selector("#consult-view:not([hidden])")

        # Signed out elsewhere (the session revoked): the next refresh is refused.
        tokens = page.evaluate(TOKENS)
        status, _ = api(server.url + "/api/v1/auth/logout", "POST",
                        {"refresh_token": tokens["refresh_token"]}, tokens["access_token"])
        assert status == 204
        page.clock.fast_forward("00:50")
        page.wait_for_selector("#signin-view:not([hidden])")
        assert "sign in again" in page.inner_text("#signin-notice")
        assert page.evaluate(TOKENS) is None
    finally:
        browser.close()
