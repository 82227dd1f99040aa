"""``/api/v1/me/events``: each user's socket hears the changes that concern them, pushed.

A pharmacy's API calls move an order; its patient's socket and the pharmacy's own hear each
state, another patient's hears nothing of it. On the in-process bus and on Redis, also with the
socket on one server process and the pharmacy on another. A bad token, or a session signed out
since, is refused with the dashboard's close code. Real back office on SQLite; no sleeps: every
test waits for the message it expects.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import WSMsgType, web
from aiohttp.test_utils import TestClient

from dhanvantri.desk.cluster.bus import EventBus, RedisBus
from dhanvantri.http.principal import Role
from dhanvantri.http.sockets import CLOSE_UNAUTHORIZED
from dhanvantri.live_updates import install_live_updates
from dhanvantri.platform.bootstrap import SERVICES, Services
from dhanvantri.platform.notifier import OutboxNotifier
from dhanvantri.platform.web import install
from dhanvantri.settings import Settings
from tests.platform.commerce_setup import PIN, call, key, pay_by_sandbox, pharmacy
from tests.platform.helpers import Person, login_patient, make_staff
from tests.realtime.buses import bus, drop_keys, require_redis, unique_prefix
from tests.realtime.conftest import start
from tests.realtime.physician_app import cheap_passwords

__all__ = ["bus", "cheap_passwords"]
EVENTS = "/api/v1/me/events"
OTC = {"DOLO-650": 4}
LIMIT_S = 30.0  # generous for a loaded machine; a passing test waits only for its message


def live_app(settings: Settings, bus: EventBus, outbox: OutboxNotifier) -> web.Application:
    """The back office with the live-updates socket on ``bus``, nothing else."""
    app = web.Application()
    install(app, settings, notifier=outbox)
    install_live_updates(app, bus)
    return app


def settings_in(folder: Path) -> Settings:
    return Settings(data_dir=folder / "data",
                    database_url=f"sqlite+aiosqlite:///{folder / 'live.sqlite3'}")


@pytest.fixture
def outbox() -> OutboxNotifier:
    return OutboxNotifier()


@pytest.fixture
async def client(tmp_path: Path, bus: EventBus, outbox: OutboxNotifier, cheap_passwords: None
                 ) -> AsyncIterator[TestClient]:
    test_client = await start(live_app(settings_in(tmp_path), bus, outbox))
    yield test_client
    await test_client.close()


async def open_events(client: TestClient, person: Person, *, header: bool = False) -> Any:
    """A live socket for ``person``, subscribed (its ``ready`` received)."""
    if header:
        ws = await client.ws_connect(EVENTS, headers=person.headers)
    else:  # as browsers do: the token in the first message
        ws = await client.ws_connect(EVENTS)
        await ws.send_json({"type": "auth", "token": person.access})
    assert await ws.receive_json(timeout=LIMIT_S) == {"type": "ready"}
    return ws


async def changes_until(ws: Any, last: Callable[[dict[str, Any]], bool]
                        ) -> list[dict[str, Any]]:
    """Every message up to and including the first ``last`` accepts."""
    seen: list[dict[str, Any]] = []
    async with asyncio.timeout(LIMIT_S):
        while True:
            msg = await ws.receive()
            if msg.type is not WSMsgType.TEXT:
                raise AssertionError(f"socket ended after {seen}: {msg}")
            seen.append(msg.json())
            if last(seen[-1]):
                return seen


async def hear_all(ws: Any, expected: list[dict[str, str]]) -> list[dict[str, Any]]:
    """Every message until each of ``expected`` has come, in any order."""
    missing = list(expected)

    def complete(message: dict[str, Any]) -> bool:
        if message in missing:
            missing.remove(message)
        return not missing

    return await changes_until(ws, complete)


def change(kind: str, record_id: str, status: str) -> dict[str, str]:
    return {"type": "change", "kind": kind, "id": record_id, "status": status}


async def place_order(client: TestClient, patient: Person, shop: str) -> dict[str, Any]:
    found = await call(client, "GET", "/medicines", params={"q": "dolo"})
    medicine = next(m for m in found["items"] if m["sku"] == "DOLO-650")
    return await call(client, "POST", "/orders", patient, 201, json={
        "pharmacy_id": shop, "pin_code": PIN, "address": "12 MG Road",
        "items": [{"medicine_id": medicine["id"], "quantity": 2}]})


async def people(client: TestClient, services: Services, outbox: OutboxNotifier
                 ) -> tuple[Person, Person, Person, str]:
    """A patient, another patient, a pharmacy user and their pharmacy's id."""
    patient = await login_patient(client, outbox)
    other = await login_patient(client, outbox, phone="9988776655")
    admin = await make_staff(client, services, Role.ADMIN)
    owner, shop = await pharmacy(client, services, admin, OTC)
    return patient, other, owner, shop


async def test_an_orders_changes_reach_its_patient_and_pharmacy_only(
        client: TestClient, outbox: OutboxNotifier) -> None:
    patient, other, owner, shop = await people(client, client.app[SERVICES], outbox)
    mine = await open_events(client, patient)
    desk = await open_events(client, owner, header=True)
    theirs = await open_events(client, other)

    order = await place_order(client, patient, shop)
    placed = change("order", order["id"], "placed")
    assert await changes_until(mine, lambda m: m["kind"] == "order") == [placed]
    assert await changes_until(desk, lambda m: m["kind"] == "order") == [placed]

    started = await call(client, "POST", f"/orders/{order['id']}/pay", patient, 201,
                         headers=key(), json={"method": "gateway"})
    await pay_by_sandbox(client, patient, started)
    paid = change("order", order["id"], "paid")
    captured = change("payment", started["payment"]["id"], "captured")
    heard = await hear_all(mine, [paid, captured])  # one commit: in either order
    assert all(m["kind"] == "payment" for m in heard if m != paid)  # and its "created"
    assert await changes_until(desk, lambda m: m["kind"] == "order") == [paid]

    for step, status in (("pack", "packed"), ("ship", "shipped")):
        await call(client, "POST", f"/orders/{order['id']}/{step}", owner)
        moved = change("order", order["id"], status)
        assert await changes_until(mine, lambda m: True) == [moved]
        assert await changes_until(desk, lambda m: True) == [moved]

    # The other patient's first change is their own: nothing of the order came before it.
    topup = await call(client, "POST", "/wallet/topup", other, 201, headers=key(),
                       json={"amount": "10"})
    assert await changes_until(theirs, lambda m: True) == [
        change("payment", topup["payment"]["id"], "created")]
    for ws in (mine, desk, theirs):
        await ws.close()


async def test_a_bad_token_is_refused_with_the_dashboards_code(client: TestClient) -> None:
    ws = await client.ws_connect(EVENTS)
    await ws.send_json({"type": "auth", "token": "not-a-token"})
    refused = await ws.receive_json(timeout=LIMIT_S)
    assert (refused["type"], refused["code"]) == ("error", "UNAUTHORIZED")
    closed = await ws.receive(timeout=LIMIT_S)
    assert (closed.type, ws.close_code) == (WSMsgType.CLOSE, CLOSE_UNAUTHORIZED)
    # A bad bearer header is refused before the upgrade, as on any endpoint.
    response = await client.get(EVENTS, headers={"Authorization": "Bearer not-a-token"})
    assert response.status == 401


async def test_a_signed_out_session_hears_nothing_more(
        client: TestClient, outbox: OutboxNotifier) -> None:
    patient, _other, owner, shop = await people(client, client.app[SERVICES], outbox)
    order = await place_order(client, patient, shop)
    mine = await open_events(client, patient)
    desk = await open_events(client, owner)
    response = await client.post("/api/v1/auth/logout", headers=patient.headers,
                                 json={"refresh_token": patient.refresh})
    assert response.status == 204

    await call(client, "POST", f"/orders/{order['id']}/cancel", owner, json={})
    assert await changes_until(desk, lambda m: True) == [
        change("order", order["id"], "cancelled")]
    refused = await mine.receive_json(timeout=LIMIT_S)  # the change itself is not sent
    assert (refused["type"], refused["code"]) == ("error", "UNAUTHORIZED")
    assert (await mine.receive(timeout=LIMIT_S)).type is WSMsgType.CLOSE
    assert mine.close_code == CLOSE_UNAUTHORIZED
    await desk.close()


@pytest.mark.redis
async def test_a_change_made_on_one_process_reaches_a_socket_on_another(
        tmp_path: Path, outbox: OutboxNotifier, cheap_passwords: None) -> None:
    """Two apps on one database, each with its own Redis connection: the pharmacy acts on
    one, the patient listens on the other."""
    url, prefix = require_redis(), unique_prefix()
    settings = settings_in(tmp_path)
    buses = [RedisBus(url, prefix), RedisBus(url, prefix)]
    acting = await start(live_app(settings, buses[0], outbox))
    listening = await start(live_app(settings, buses[1], outbox))
    try:
        patient, _other, owner, shop = await people(acting, acting.app[SERVICES], outbox)
        mine = await open_events(listening, patient)
        order = await place_order(acting, patient, shop)
        await call(acting, "POST", f"/orders/{order['id']}/pay", patient, 201, headers=key(),
                   json={"method": "gateway"})
        await call(acting, "POST", f"/orders/{order['id']}/cancel", owner, json={})
        heard = await changes_until(mine, lambda m: m["status"] == "cancelled")
        assert [m for m in heard if m["kind"] == "order"] == [
            change("order", order["id"], status) for status in ("placed", "cancelled")]
        await mine.close()
    finally:
        await listening.close()
        await acting.close()
        await drop_keys(buses[0])
        for opened in buses:
            await opened.close()

