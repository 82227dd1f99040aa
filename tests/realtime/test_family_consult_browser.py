"""A family manager consults for a dependent, in Chromium against the whole server.

The manager signs in on the care page, opens Family, and starts a consultation for the owner's
daughter (who has no phone); the consultation page says whom it is for, the fake microphone
speaks one phrase, the assistant answers, the manager hangs up, and the daughter's record shows
the consultation. A viewer of the same family sees her record but no button to consult.
Screenshots at phone and desktop sizes go under the test's tmp dir.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
import pytest

from dhanvantri.platform.domain.consultations import record_id
from dhanvantri.realtime.state import RUNTIME
from tests.platform import commerce_setup
from tests.platform.helpers import Person
from tests.realtime.care_app import login_patient
from tests.realtime.conftest import make_settings, stand_in_models
from tests.realtime.test_consultation_record import rows
from tests.speech import espeak_available, microphone_wav
from tests.support.browser import (
    PHONE_SIZE,
    both_sizes,
    launch,
    page_until,
    script_errors,
    shows,
)
from tests.support.codes import codes, new_code
from tests.support.server import BackgroundServer, serving
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

T = TypeVar("T")
PHONES = {"owner": "9876543210", "manager": "9988776655", "viewer": "9876501234"}
LINK = "family_link"
# The assistant's replies so far (lines with words in them).
ANSWERS = ("[...document.querySelectorAll('#transcript li.assistant .text')]"
           ".map(el => el.textContent.trim()).filter(Boolean)")


@pytest.fixture(scope="module")
def patient_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Speech for the fake microphone (the stand-in recogniser hears 'I have a fever')."""
    if not espeak_available():
        pytest.skip("espeak-ng and sox are needed to make the speech")
    return microphone_wav(tmp_path_factory.mktemp("family_audio"), "manager",
                          "My daughter has had a fever since yesterday.", before=1, after=15)


@pytest.fixture
def server(loopback_ice: None, tmp_path: Path, caplog: pytest.LogCaptureFixture
           ) -> Iterator[BackgroundServer]:
    """The full server, sign-in required, stand-in voice models."""
    caplog.set_level("INFO", logger="dhanvantri.notify")
    settings = make_settings(tmp_path, require_auth=True, max_sessions=2,
                             otp_rate_limit="100/minute")
    with serving(settings, models=stand_in_models(settings), ready_s=30) as running:
        yield running


def api(server: BackgroundServer, method: str, path: str, person: Person | None,
        expect: int = 200, **kwargs: Any) -> Any:
    """One API call as ``person`` on the server's loop (see ``commerce_setup.call``)."""

    async def work(client: aiohttp.ClientSession) -> Any:
        return await commerce_setup.call(client, method, path, person, expect,  # type: ignore[arg-type]
                                         **kwargs)

    return server.call(_with_client(server.url, work), 30)


async def _with_client(url: str, work: Callable[[aiohttp.ClientSession], Awaitable[T]]) -> T:
    async with aiohttp.ClientSession(base_url=url) as client:
        return await work(client)


def family(server: BackgroundServer, caplog: pytest.LogCaptureFixture
           ) -> tuple[dict[str, Person], str]:
    """The owner invites a manager and a viewer (each accepts with their code) and adds a
    daughter without a phone; her id."""
    people = {role: login_patient(server, caplog, phone) for role, phone in PHONES.items()}
    for role in ("manager", "viewer"):
        before = len(codes(caplog, LINK))
        api(server, "POST", "/family/invitations", people["owner"], 202,
            json={"phone": PHONES[role], "level": role})
        code = new_code(caplog, before, LINK)
        [invitation] = api(server, "GET", "/family", people[role])["invitations"]
        api(server, "POST", f"/family/invitations/{invitation['id']}/accept", people[role],
            json={"code": code})
    child = api(server, "POST", "/family/dependents", people["owner"], 201, json={
        "full_name": "Anu Iyer", "date_of_birth": "2018-04-02", "sex": "female",
        "relation": "daughter"})
    return people, str(child["member_id"])


def signed_in_page(browser: Any, server: BackgroundServer, person: Person, path: str) -> Any:
    """A page at ``path`` whose tab holds ``person``'s tokens (as after signing in)."""
    page = browser.new_page(viewport=PHONE_SIZE)
    stored = {"access_token": person.access, "refresh_token": person.refresh,
              "expires_at": 4102444800000, "lifetime_ms": 900000,
              "phone": "•••••• " + str(person.phone)[-4:]}
    page.add_init_script(
        f"sessionStorage.setItem('dhanvantri.patient', {json.dumps(json.dumps(stored))});")
    page.goto(server.url + path)
    return page


def test_a_manager_consults_for_a_dependent_and_sees_it_in_her_record(
        server: BackgroundServer, playwright_instance: Any, patient_wav: Path, tmp_path: Path,
        caplog: pytest.LogCaptureFixture) -> None:
    people, child = family(server, caplog)
    consult = f"a[data-consult-for='{child}']"
    shots = tmp_path / "screenshots"
    shots.mkdir()
    browser = launch(playwright_instance, patient_wav)
    try:
        # The viewer reads the daughter's record but is offered no consultation.
        viewer = signed_in_page(browser, server, people["viewer"], "/care#family")
        shows(viewer, "#family-memberships", "Anu Iyer's record")
        assert viewer.locator(consult).count() == 0
        viewer.close()

        # The manager signs in on the care page and opens Family.
        page = browser.new_page(viewport=PHONE_SIZE)
        errors = script_errors(page)
        page.goto(server.url + "/care#family")
        sent = len(codes(caplog))
        page.fill("#phone", PHONES["manager"])
        page.click("#send-code")
        page.fill("#code", new_code(caplog, sent))
        page.click("#verify")
        page.wait_for_selector("#care-view:not([hidden])")
        shows(page, consult, "Start a consultation for Anu Iyer")
        both_sizes(page, shots, "family-manager")

        # The consultation page says whom it is for; one phrase, one answer, hang up.
        page.click(consult)
        page.wait_for_url(f"**/?for={child}")
        shows(page, "#for-whom", "Consultation for Anu Iyer")
        both_sizes(page, shots, "consult-for-dependent")
        page.click("#start")
        page_until(page, ANSWERS, 90, done=bool, what=lambda: page.inner_text("#transcript"))
        live_id = (page.text_content("#detail-id") or "").strip()
        live = server.app[RUNTIME].registry.get(live_id)
        assert (str(live.owner), str(live.patient)) == (str(people["manager"].user_id), child)
        both_sizes(page, shots, "consult-for-dependent-talking")
        page.click("#stop")
        assert page.get_attribute("#state", "data-state") == "idle"

        # Her record, read by the manager, shows the consultation once it is queued for review.
        settings = server.app[RUNTIME].settings
        database = Path(str(settings.database_url).split("///", 1)[1])
        wait_until(lambda: rows(database, "prescriptions"), 30,
                   what="the consultation to reach the review queue")
        page.goto(server.url + f"/care#family/record/{child}")
        item = f"#family-record-consultations li[data-id='{record_id(live_id)}']"
        shows(page, item, "Completed")
        shows(page, "#family-record-title", "Anu Iyer")
        both_sizes(page, shots, "family-record-consultation")
        assert errors == []
    finally:
        browser.close()
