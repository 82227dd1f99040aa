"""The full server for the care-area and pharmacy-desk browser tests, with the people in it.

``care_world`` serves the whole app (stand-in voice models: these pages never speak) on a fresh
SQLite database, with an admin, a patient signed in through the API, a pharmacy with stock and
a lab with a slot tomorrow. ``world.api(...)`` makes API calls from test code (on the server's
own loop); ``open_as_patient`` puts the patient's tokens into a page's tab, as a sign-in would.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
import pytest

from dhanvantri.http.principal import Role
from dhanvantri.platform.bootstrap import SERVICES, Services
from dhanvantri.platform.prescriptions import create_from_draft
from tests.platform import commerce_setup
from tests.platform.commerce_setup import PIN, SHOPPING
from tests.platform.helpers import SAFE, Person, make_staff
from tests.realtime.conftest import make_settings, stand_in_models
from tests.support.browser import require_chromium
from tests.support.codes import codes
from tests.support.server import BackgroundServer, serving

T = TypeVar("T")
PATIENT_PHONE = "9876543210"
# What the pharmacy holds: Dolo and a generic cetirizine, Zyrtec out of stock, metformin at
# another strength than prescribed (the cart offers it as an alternative).
STOCK = {"DOLO-650": 50, "CETIRIZINE-10-GEN": 40, "ZYRTEC-10": 0, "GLYCOMET-500": 30}

Client = aiohttp.ClientSession


@dataclass
class CareWorld:
    """The running server and the people in it."""

    server: BackgroundServer
    caplog: pytest.LogCaptureFixture
    admin: Person
    patient: Person
    physician: Person
    pharmacist: Person
    pharmacy_id: str
    lab_user: Person
    lab_id: str
    slot_id: str

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def services(self) -> Services:
        return self.server.app[SERVICES]

    def api(self, work: Callable[[Client], Awaitable[T]], timeout: float = 30) -> T:
        """Run ``work(client)`` on the server's loop; ``client`` calls this server."""
        return self.server.call(_with_client(self.url, work), timeout)

    def call(self, method: str, path: str, person: Person | None = None, expect: int = 200,
             **kwargs: Any) -> Any:
        """One API call as ``person`` (see ``commerce_setup.call``)."""
        return self.api(lambda c: commerce_setup.call(c, method, path, person, expect, **kwargs))

    def signed_prescription(self, draft: dict[str, Any] | None = None) -> str:
        """A prescription drafted for the patient, approved and e-signed by the physician: it
        waits for the patient's acknowledgement."""

        async def sign(client: Client) -> tuple[str, str]:
            rx_id = await create_from_draft(self.services.uow(), uuid.uuid4(),
                                            self.patient.user_id, draft or SHOPPING, SAFE, False)
            await commerce_setup.call(client, "POST", f"/prescriptions/{rx_id}/approve",
                                      self.physician)
            start = await commerce_setup.call(client, "POST", f"/prescriptions/{rx_id}/sign",
                                              self.physician, 202)
            return str(rx_id), start["session_id"]

        before = len(codes(self.caplog, "prescription e-sign"))
        rx_id, session_id = self.api(sign)
        code = codes(self.caplog, "prescription e-sign")[before]
        self.call("POST", f"/prescriptions/{rx_id}/sign/complete", self.physician,
                  json={"session_id": session_id, "otp": code})
        return rx_id


async def _with_client(url: str, work: Callable[[Client], Awaitable[T]]) -> T:
    async with aiohttp.ClientSession(base_url=url) as client:
        return await work(client)


def login_patient(server: BackgroundServer, caplog: pytest.LogCaptureFixture,
                  phone: str = PATIENT_PHONE) -> Person:
    """Sign a patient in through the API with the code the console notifier logged."""

    async def post(path: str, body: dict[str, Any], expect: int) -> Any:
        async with aiohttp.ClientSession(base_url=server.url) as client:
            return await commerce_setup.call(client, "POST", path, None, expect, json=body)

    before = len(codes(caplog))
    challenge = server.call(post("/auth/otp/request", {"phone": phone}, 202))
    code = codes(caplog)[before]
    tokens = server.call(post("/auth/otp/verify",
                              {"challenge_id": challenge["challenge_id"], "code": code}, 200))

    async def me() -> Any:
        async with aiohttp.ClientSession(base_url=server.url) as client:
            headers = {"Authorization": f"Bearer {tokens['access_token']}"}
            async with client.get("/api/v1/me", headers=headers) as response:
                return await response.json()

    body = server.call(me())
    return Person(uuid.UUID(body["id"]), Role.PATIENT, tokens["access_token"],
                  tokens["refresh_token"], phone=phone)


@pytest.fixture
def care_world(tmp_path: Path, caplog: pytest.LogCaptureFixture, cheap_passwords: None
               ) -> Iterator[CareWorld]:
    """The full server with an admin, a patient, a physician, a stocked pharmacy and a lab."""
    require_chromium()
    caplog.set_level("INFO", logger="dhanvantri.notify")
    settings = make_settings(tmp_path, max_sessions=1, require_auth=True)
    with serving(settings, models=stand_in_models(settings), ready_s=30) as server:
        services = server.app[SERVICES]

        async def people(client: Client) -> tuple[Any, ...]:
            admin = await make_staff(client, services, Role.ADMIN)  # type: ignore[arg-type]
            physician = await make_staff(client, services,  # type: ignore[arg-type]
                                         Role.PHYSICIAN, phone="9123456780")
            pharmacist, pharmacy_id = await commerce_setup.pharmacy(
                client, services, admin, STOCK)  # type: ignore[arg-type]
            lab_user, lab_id, slot_id = await commerce_setup.lab(
                client, services, admin)  # type: ignore[arg-type]
            return admin, physician, pharmacist, pharmacy_id, lab_user, lab_id, slot_id

        admin, physician, pharmacist, pharmacy_id, lab_user, lab_id, slot_id = server.call(
            _with_client(server.url, people), 60)
        patient = login_patient(server, caplog)
        yield CareWorld(server, caplog, admin, patient, physician, pharmacist, pharmacy_id,
                        lab_user, lab_id, slot_id)


def open_as_patient(browser: Any, world: CareWorld, size: dict[str, int],
                    path: str = "/care") -> Any:
    """A page at ``path`` whose tab holds the patient's tokens (as after signing in)."""
    page = browser.new_page(viewport=size)
    stored = {"access_token": world.patient.access, "refresh_token": world.patient.refresh,
              "expires_at": 4102444800000, "lifetime_ms": 900000,
              "phone": "•••••• " + PATIENT_PHONE[-4:]}
    page.add_init_script(
        f"sessionStorage.setItem('dhanvantri.patient', {json.dumps(json.dumps(stored))});")
    page.goto(world.url + path)
    return page


def draw_signature(page: Any) -> None:
    """A zigzag in the signature box with the mouse, like a hurried signature."""
    box = page.locator("#signature-pad").bounding_box()
    x, y = box["x"] + 30, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    for step in range(1, 13):
        page.mouse.move(x + step * 18, y + (-25 if step % 2 else 25), steps=3)
    page.mouse.up()


def order_card(order_id: str) -> str:
    """The pharmacy desk's card of an order (a CSS selector)."""
    return f"li.order[data-id='{order_id}']"


def order_card_status(order_id: str) -> str:
    """The status the pharmacy desk's card of an order shows (a script)."""
    return f"document.querySelector(\"{order_card(order_id)}\")?.dataset.status"


__all__ = ["PIN", "CareWorld", "care_world", "draw_signature", "login_patient", "open_as_patient",
           "order_card", "order_card_status"]
