"""The pharmacy desk in headless Chromium against the full server: an order from paid to the door.

The admin registers a stocked pharmacy; a patient (signed in by phone code, read from the console
notifier's log line) places and pays two orders through the API. On the page the pharmacy signs
in, packs one order (a double click sends one request), ships it and sends it out for delivery;
at the door two wrong codes each say how many attempts are left and leave the order out for
delivery; a fresh code is sent to the patient, the first stops working and the fresh one,
typed and sent with Enter, delivers it. The other order is cancelled from its card. An order
paid while the page is open shows through the live-updates socket, the page's polling timer
stopped.
Screenshots at phone and desktop sizes go under the test's tmp dir (their paths are printed).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientSession

from dhanvantri.http.principal import Role
from dhanvantri.platform.bootstrap import Services
from dhanvantri.platform.web import SERVICES
from tests.platform.commerce_setup import PIN, call, key, pay_by_sandbox, pharmacy
from tests.platform.helpers import PASSWORD, Person, make_staff
from tests.realtime.care_app import order_card, order_card_status
from tests.realtime.conftest import make_settings, stand_in_models
from tests.realtime.physician_app import cheap_passwords
from tests.support.browser import (
    DESKTOP_SIZE,
    PHONE_SIZE,
    accessible,
    launch,
    page_until,
    require_chromium,
    screenshot,
    script_errors,
    shows,
)
from tests.support.codes import codes, new_code
from tests.support.server import serving

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]
__all__ = ["cheap_passwords"]

PATIENT_PHONE = "9876543210"
ADDRESS = "Flat 4B, 12 MG Road, Bengaluru"
# Order cards whose content is wider than the card (cut off, or spilling into the next group).
SPILLING = """() => [...document.querySelectorAll('li.order')]
  .filter(el => el.scrollWidth > el.clientWidth + 1).map(el => el.dataset.id)"""


@dataclass
class Shop:
    """What the test set up through the API."""

    email: str
    delivered: str  # the order walked to the door
    cancelled: str  # the order cancelled from its card
    shop_id: str
    patient: Person
    medicine_id: str  # one in stock


async def login_patient(client: Any, caplog: pytest.LogCaptureFixture) -> Person:
    """Phone sign-in through the API, the code read from the console notifier's log line."""
    sent = len(codes(caplog))
    challenge = await call(client, "POST", "/auth/otp/request", None, 202,
                           json={"phone": PATIENT_PHONE})
    tokens = await call(client, "POST", "/auth/otp/verify", json={
        "challenge_id": challenge["challenge_id"], "code": codes(caplog)[sent:][-1]})
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    me = await call(client, "GET", "/me", headers=bearer)
    return Person(uuid.UUID(me["id"]), Role.PATIENT, tokens["access_token"],
                  tokens["refresh_token"], phone=me["phone"])


async def medicine(client: Any, query: str, sku: str) -> dict[str, Any]:
    """The catalogue entry of ``sku``."""
    found = await call(client, "GET", "/medicines", params={"q": query})
    return next(item for item in found["items"] if item["sku"] == sku)


async def paid_order(client: Any, patient: Person, shop_id: str,
                     items: list[tuple[str, int]]) -> str:
    """An order of (medicine id, packs), paid at the sandbox checkout; its id."""
    order = await call(client, "POST", "/orders", patient, 201, json={
        "pharmacy_id": shop_id, "pin_code": PIN, "address": ADDRESS,
        "items": [{"medicine_id": m, "quantity": n} for m, n in items]})
    started = await call(client, "POST", f"/orders/{order['id']}/pay", patient, 201,
                         headers=key(), json={"method": "gateway"})
    await pay_by_sandbox(client, patient, started)
    return str(order["id"])


async def set_up(url: str, services: Services, caplog: pytest.LogCaptureFixture) -> Shop:
    """An admin, a stocked pharmacy and a patient with two paid orders (on the server's loop)."""
    async with ClientSession(base_url=url) as client:
        admin = await make_staff(client, services, Role.ADMIN)
        owner, shop_id = await pharmacy(client, services, admin,
                                        {"DOLO-650": 20, "CROCIN-500": 10})
        patient = await login_patient(client, caplog)
        dolo = await medicine(client, "Dolo", "DOLO-650")
        crocin = await medicine(client, "Crocin", "CROCIN-500")
        first = await paid_order(client, patient, shop_id, [(dolo["id"], 2), (crocin["id"], 1)])
        second = await paid_order(client, patient, shop_id, [(dolo["id"], 1)])
    assert owner.email is not None
    return Shop(owner.email, first, second, shop_id, patient, dolo["id"])


async def another_order(url: str, shop: Shop) -> str:
    """The patient places and pays one more order while the page is open."""
    async with ClientSession(base_url=url) as client:
        return await paid_order(client, shop.patient, shop.shop_id, [(shop.medicine_id, 3)])


@pytest.fixture
def server(tmp_path: Path, cheap_passwords: None) -> Iterator[Any]:
    """The full server (stand-in voice models), sign-in required."""
    require_chromium()
    settings = make_settings(tmp_path, require_auth=True)
    with serving(settings, models=stand_in_models(settings)) as running:
        yield running


def test_pharmacy_packs_ships_and_delivers_with_the_patients_code(
        server: Any, playwright_instance: Any, tmp_path: Path,
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="dhanvantri.notify")
    shop = server.call(set_up(server.url, server.app[SERVICES], caplog), timeout=120)
    shots = tmp_path / "screenshots"
    shots.mkdir()
    browser = launch(playwright_instance)
    try:
        page = browser.new_page(viewport=PHONE_SIZE)
        errors = script_errors(page)
        posts: list[str] = []
        page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
        page.clock.install()  # flows in real time until the test pauses it
        page.goto(server.url + "/pharmacy")

        # A wrong password is refused in words; the right one opens the orders.
        page.fill("#email", shop.email)
        page.fill("#password", "not the password")
        page.click("#signin")
        shows(page, "#login-error", "wrong e-mail or password")
        screenshot(page, shots, "pharmacy-signin", PHONE_SIZE)
        page.fill("#password", PASSWORD)
        page.click("#signin")
        page_until(page, f"{order_card_status(shop.delivered)} === 'paid'", 30)
        assert page.locator(f"#group-pack {order_card(shop.delivered)}").is_visible()
        first_card = order_card(shop.delivered)
        lines = page.evaluate(f"""[...document.querySelectorAll("{first_card} .items li")]
            .map(li => [parseInt(li.querySelector('.qty').textContent),
                        li.querySelector('.name').textContent])""")
        assert lines == [[1, "Crocin 500 mg (strip of 15 tablets)"],
                         [2, "Dolo 650 650 mg (strip of 15 tablets)"]]
        first = page.inner_text(order_card(shop.delivered))
        assert PIN in first and ADDRESS in first and "₹82.98" in first

        # Live: with the page's timers stopped (no polling), a newly paid order still shows.
        shows(page, "#state-text", "live")
        now = page.evaluate("Date.now()") / 1000
        page.clock.pause_at(datetime.fromtimestamp(now + 1, UTC))
        third = server.call(another_order(server.url, shop), timeout=60)
        page_until(page, f"{order_card_status(third)} === 'paid'", 30)
        assert page.locator(f"#group-pack {order_card(third)}").is_visible()
        page.clock.resume()

        # Pack (a double click sends one request), ship, send out: each moves the card on.
        pack = page.locator(f"{order_card(shop.delivered)} button[data-action=pack]")
        pack.dblclick()
        page_until(page, f"{order_card_status(shop.delivered)} === 'packed'", 30)
        assert sum(url.endswith(f"/orders/{shop.delivered}/pack") for url in posts) == 1
        assert page.locator(f"#group-ship {order_card(shop.delivered)}").is_visible()
        page.click(f"{order_card(shop.delivered)} button[data-action=ship]")
        page_until(page, f"{order_card_status(shop.delivered)} === 'shipped'", 30)
        sent = len(codes(caplog, "delivery"))
        page.click(f"{order_card(shop.delivered)} button[data-action=dispatch]")
        page_until(page, f"{order_card_status(shop.delivered)} === 'out_for_delivery'", 30)
        code = new_code(caplog, sent, "delivery")
        assert code not in page.content()  # the code goes to the patient, never to the page
        assert page.locator(f"#group-door {order_card(shop.delivered)}").is_visible()

        # At the door: two wrong codes, each told with the attempts left; still out for delivery.
        wrong = f"{(int(code) + 1) % 10**6:06d}"
        otp = f"{order_card(shop.delivered)} input.otp"
        for left in ("2 attempts left", "1 attempt left"):
            page.fill(otp, wrong)
            page.click(f"{order_card(shop.delivered)} .otp-form button[type=submit]")
            shows(page, f"{order_card(shop.delivered)} .note", left)
            assert page.evaluate(order_card_status(shop.delivered)) == "out_for_delivery"
        screenshot(page, shots, "pharmacy-door", PHONE_SIZE)
        assert page.evaluate(SPILLING) == []
        screenshot(page, shots, "pharmacy-door", DESKTOP_SIZE)
        assert page.evaluate(SPILLING) == []
        page.set_viewport_size(PHONE_SIZE)
        accessible(page)

        # A fresh code for the patient: the first one no longer works, the fresh one does.
        sent = len(codes(caplog, "delivery"))
        page.click(f"{order_card(shop.delivered)} button[data-action=resend]")
        shows(page, f"{order_card(shop.delivered)} .note", "fresh code has been sent")
        fresh = new_code(caplog, sent, "delivery")
        if fresh != code:  # one in a million, the same six digits
            page.fill(otp, code)
            page.click(f"{order_card(shop.delivered)} .otp-form button[type=submit]")
            shows(page, f"{order_card(shop.delivered)} .note", "2 attempts left")

        # The patient's code, typed and sent with Enter, delivers it.
        page.fill(otp, fresh)
        page.press(otp, "Enter")
        page_until(page, f"{order_card_status(shop.delivered)} === 'delivered'", 30)
        shows(page, "#desk-notice", "delivered")
        assert page.locator(f"#group-done {order_card(shop.delivered)}").is_visible()

        # The other order is cancelled from its card (asked first), and refunded.
        page.click(f"{order_card(shop.cancelled)} button[data-action=cancel-ask]")
        page.fill(f"{order_card(shop.cancelled)} input.reason", "Patient asked to cancel")
        screenshot(page, shots, "pharmacy-cancel", PHONE_SIZE)
        accessible(page)
        page.click(f"{order_card(shop.cancelled)} button[data-action=cancel-confirm]")
        page_until(page, f"{order_card_status(shop.cancelled)} === 'refunded'", 30)
        assert page.locator(f"#group-done {order_card(shop.cancelled)}").is_visible()

        screenshot(page, shots, "pharmacy-done", PHONE_SIZE)
        accessible(page)
        page.set_viewport_size(DESKTOP_SIZE)
        screenshot(page, shots, "pharmacy-done", DESKTOP_SIZE)
        assert errors == []
    finally:
        browser.close()
