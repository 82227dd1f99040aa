"""``web_client/live_updates.js`` in headless Chromium, under the server's real CSP.

A bare page imports the module as the care area and the pharmacy desk do and records what it
reports. The pharmacy moves the patient's order through the API and the page hears each step;
when the server drops the socket (the bus went away) the page is told it is down, reconnects by
itself and is told it is live again; once the patient has signed out, the next change closes
the socket (4401) instead of reaching the page, which is told it is down and stops when its
token is still the refused one.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
import pytest
from aiohttp import web

from dhanvantri.desk.cluster.bus import MemoryBus
from dhanvantri.http.middleware import harden
from dhanvantri.http.pages import web_client_dir
from dhanvantri.http.principal import Role
from dhanvantri.live_updates import install_live_updates
from dhanvantri.platform.bootstrap import SERVICES
from dhanvantri.platform.notifier import OutboxNotifier
from dhanvantri.platform.web import install
from dhanvantri.settings import Settings
from tests.platform.commerce_setup import PIN, call, pharmacy
from tests.platform.helpers import Person, login_patient, make_staff
from tests.realtime.physician_app import cheap_passwords
from tests.support.browser import launch, page_until, require_chromium
from tests.support.server import BackgroundServer, serve_in_background

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]
__all__ = ["cheap_passwords"]
T = TypeVar("T")

# The page a test opens: nothing inline (script-src 'self'), the module as pages import it.
HARNESS_HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Live updates</title>
<script type="module" src="/harness/harness.js"></script></head>
<body><main><h1>Live updates</h1></main></body></html>
"""
HARNESS_JS = """import { connectLive } from "/live_updates.js";

const seen = { changes: [], states: [], asked: 0 };
const token = decodeURIComponent(location.hash.slice(1));
window.seen = seen;
window.live = connectLive({
  token: async () => { seen.asked += 1; return token; },
  onChange: (change) => seen.changes.push(change),
  onState: (live) => seen.states.push(live),
});
"""


class World:
    """The server, its bus, and the patient, pharmacist and order in it."""

    def __init__(self, server: BackgroundServer, bus: MemoryBus, outbox: OutboxNotifier
                 ) -> None:
        self.server, self.bus, self.outbox = server, bus, outbox
        self.patient: Person
        self.owner: Person
        self.orders: list[str] = []  # two of the patient's orders, placed

    def api(self, work: Callable[[aiohttp.ClientSession], Awaitable[T]]) -> T:
        """Run ``work(client)`` on the server's loop, calling this server."""

        async def run() -> T:
            async with aiohttp.ClientSession(base_url=self.server.url) as client:
                return await work(client)

        return self.server.call(run(), timeout=60)

    def cancel(self, order_id: str) -> None:
        """The pharmacy cancels one of the patient's orders."""
        self.api(lambda c: call(c, "POST", f"/orders/{order_id}/cancel", self.owner, json={}))


@pytest.fixture
def world(tmp_path: Path, cheap_passwords: None) -> Iterator[World]:
    require_chromium()
    harness = tmp_path / "harness"
    harness.mkdir()
    (harness / "live.html").write_text(HARNESS_HTML)
    (harness / "harness.js").write_text(HARNESS_JS)
    settings = Settings(data_dir=tmp_path / "data",
                        database_url=f"sqlite+aiosqlite:///{tmp_path / 'live.sqlite3'}")
    app, bus, outbox = web.Application(), MemoryBus("live-test:"), OutboxNotifier()
    harden(app, settings)  # the security headers, CSP included, as served for real
    install(app, settings, notifier=outbox)
    install_live_updates(app, bus)
    app.router.add_static("/harness", harness)
    app.router.add_static("/", web_client_dir())
    running = serve_in_background(app)
    try:
        built = World(running, bus, outbox)
        built.api(lambda client: _people(built, client))
        yield built
    finally:
        running.stop()


async def _people(world: World, client: Any) -> None:
    services = world.server.app[SERVICES]
    world.patient = await login_patient(client, world.outbox)
    admin = await make_staff(client, services, Role.ADMIN)
    world.owner, shop = await pharmacy(client, services, admin, {"DOLO-650": 4})
    found = await call(client, "GET", "/medicines", params={"q": "dolo"})
    medicine = next(m for m in found["items"] if m["sku"] == "DOLO-650")
    for _ in range(2):
        order = await call(client, "POST", "/orders", world.patient, 201, json={
            "pharmacy_id": shop, "pin_code": PIN, "address": "12 MG Road",
            "items": [{"medicine_id": medicine["id"], "quantity": 1}]})
        world.orders.append(order["id"])


def test_the_page_hears_changes_reconnects_and_stops_once_signed_out(
        world: World, playwright_instance: Any) -> None:
    browser = launch(playwright_instance)
    try:
        page = browser.new_page()
        problems: list[str] = []
        page.on("console", lambda m: problems.append(m.text) if m.type == "error"
                and not m.location.get("url", "").endswith("/favicon.ico") else None)
        page.on("pageerror", lambda exc: problems.append(str(exc)))
        page.goto(f"{world.server.url}/harness/live.html#{world.patient.access}")
        page_until(page, "window.seen && window.seen.states.join()", 30,
                   done=lambda states: states == "true")

        world.cancel(world.orders[0])
        heard = page_until(page, "window.seen.changes", 30, done=bool)
        assert heard == [{"kind": "order", "id": world.orders[0], "status": "cancelled"}]

        # The server loses its bus: the socket closes (1011); the page is told, reconnects.
        world.server.call(world.bus.close())
        page_until(page, "window.seen.states.join()", 30,
                   done=lambda states: states == "true,false,true")

        # Signed out: the next change closes the socket (4401) instead of reaching the page.
        logout = world.api(lambda c: c.post(
            "/api/v1/auth/logout", headers=world.patient.headers,
            json={"refresh_token": world.patient.refresh}))
        assert logout.status == 204
        asked = page.evaluate("window.seen.asked")
        world.cancel(world.orders[1])
        page_until(page, "window.seen.states.join()", 30,
                   done=lambda states: states == "true,false,true,false")
        # After the backoff the token is asked for once more; unchanged, so the page stops.
        page_until(page, "window.seen.asked", 30, done=lambda count: count == asked + 1)
        assert page.evaluate("window.seen.states.join()") == "true,false,true,false"
        assert len(page.evaluate("window.seen.changes")) == 1
        assert problems == []
    finally:
        browser.close()

