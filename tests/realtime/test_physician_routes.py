"""The physician desk over HTTP and WebSocket: live queue, presence, accept, audit, the hook."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import WSMsgType
from aiohttp.test_utils import TestClient, TestServer

from dhanvantri.desk.routes import DESK
from dhanvantri.http.principal import Role
from dhanvantri.platform.audit import list_events
from dhanvantri.platform.bootstrap import SERVICES
from tests.platform.helpers import Person, make_staff
from tests.realtime.physician_app import cheap_passwords, physician_app, physician_settings
from tests.support.waiting import wait_until_async, watch

__all__ = ["cheap_passwords"]
WS = "/api/v1/physician/ws"


@pytest.fixture
async def client(tmp_path: Path, cheap_passwords: None) -> AsyncIterator[TestClient]:
    app = physician_app(physician_settings(tmp_path, escalation_timeout_s=30.0))
    async with TestClient(TestServer(app)) as test_client:
        yield test_client


async def doctor(client: TestClient) -> Person:
    return await make_staff(client, client.app[SERVICES], Role.PHYSICIAN)


async def receive(ws: Any) -> dict[str, Any]:
    msg = await asyncio.wait_for(ws.receive(), 5)
    assert msg.type is WSMsgType.TEXT, msg
    return msg.json()  # type: ignore[no-any-return]


async def open_dashboard(client: TestClient, person: Person) -> tuple[Any, list[dict[str, Any]]]:
    ws = await client.ws_connect(WS, headers=person.headers)
    hello, snapshot = await receive(ws), await receive(ws)
    assert hello["type"] == "hello" and hello["physician_id"] == str(person.user_id)
    assert snapshot["type"] == "queue"
    return ws, snapshot["items"]


async def test_dashboard_gets_the_queue_then_each_change(client: TestClient,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    desk = client.app[DESK]
    gone = watch(monkeypatch, desk.physicians, "remove")
    early = await desk.escalations.raise_escalation("c0", reason="patient_request")
    me = await doctor(client)
    ws, items = await open_dashboard(client, me)
    assert [i["id"] for i in items] == [early.id]
    raised = await desk.escalations.raise_escalation(
        "c1", reason="red_flag", red_flags=["chest_pain"], emergency=True)
    first, second = await receive(ws), await receive(ws)
    assert (first["event"], second["event"]) == ("raised", "offered")
    assert second["escalation"]["id"] == raised.id
    assert second["escalation"]["offered_to"] == 1  # this physician is online
    assert raised.offered_to == [str(me.user_id)]
    response = await client.get("/api/v1/escalations", headers=me.headers)
    assert [i["id"] for i in (await response.json())["items"]] == [raised.id, early.id]
    await ws.close()
    await wait_until_async(lambda: str(me.user_id) in gone, 10,
                           what="the closed dashboard's physician to leave the directory")
    assert await desk.physicians.items() == {}  # offline once the dashboard closed


async def test_token_as_first_message(client: TestClient) -> None:
    me = await doctor(client)
    ws = await client.ws_connect(WS)
    await ws.send_json({"type": "auth", "token": me.access})
    assert (await receive(ws))["type"] == "hello"
    assert (await receive(ws))["type"] == "queue"
    await ws.close()


async def test_bad_tokens_and_other_roles_are_refused(client: TestClient) -> None:
    ws = await client.ws_connect(WS)
    await ws.send_json({"type": "auth", "token": "not-a-token"})
    error = await receive(ws)
    assert error["code"] == "UNAUTHORIZED"
    assert (await ws.receive()).type is WSMsgType.CLOSE
    assert ws.close_code == 4401
    pharmacist = await make_staff(client, client.app[SERVICES], Role.PHARMACY)
    response = await client.get(WS, headers=pharmacist.headers)
    assert response.status == 403
    assert (await response.json())["error"]["code"] == "FORBIDDEN"
    response = await client.get("/api/v1/escalations")
    assert response.status == 401


async def test_one_physician_accepts_and_it_is_audited(client: TestClient) -> None:
    desk = client.app[DESK]
    raised = await desk.escalations.raise_escalation("c1", reason="red_flag", emergency=True)
    first, second = await doctor(client), await doctor(client)
    ws, _ = await open_dashboard(client, second)
    response = await client.post(f"/api/v1/escalations/{raised.id}/accept",
                                 headers=first.headers)
    assert response.status == 200, await response.text()
    body = await response.json()
    assert body["status"] == "accepted" and body["accepted_by"] == str(first.user_id)
    news = await receive(ws)
    assert news["event"] == "accepted" and news["escalation"]["id"] == raised.id
    late = await client.post(f"/api/v1/escalations/{raised.id}/accept", headers=second.headers)
    assert late.status == 409
    assert (await late.json())["error"]["code"] == "ESCALATION_STATE"
    missing = await client.post("/api/v1/escalations/nope/accept", headers=second.headers)
    assert missing.status == 404
    done = await client.post(f"/api/v1/escalations/{raised.id}/resolve", headers=first.headers)
    assert done.status == 200
    events = await list_events(client.app[SERVICES].uow(), "escalation", raised.id, 0, 50)
    assert [e["action"] for e in events] == ["escalation_raised", "escalation_offered",
                                             "escalation_accepted", "escalation_resolved"]
    assert events[2]["actor_id"] == str(first.user_id)
    assert events[2]["actor_role"] == "physician"
    assert events[2]["request_id"]
    await ws.close()


async def test_consultation_hook_raises_holds_and_relays_the_timeout(
        tmp_path: Path, cheap_passwords: None, monkeypatch: pytest.MonkeyPatch) -> None:
    app = physician_app(physician_settings(tmp_path, escalation_timeout_s=0.3))
    async with TestClient(TestServer(app)) as client:
        desk = app[DESK]
        released = watch(monkeypatch, desk.consultations, "remove")
        to_patient: list[dict[str, Any]] = []
        ended = asyncio.Event()
        desk.on_consultation_event("c9", {"type": "transcript", "text": "ignored"},
                                   to_patient.append, ended)
        desk.on_consultation_event("c9", {"type": "escalation", "reason": "red_flag",
                                          "red_flags": ["stroke_signs"], "emergency": True},
                                   to_patient.append, ended)
        await wait_until_async(lambda: to_patient, 10,
                               what="the escalation timeout relayed to the patient")
        assert await desk.holder("c9") == desk.node
        (queued,) = await desk.escalations.queue()
        assert queued["red_flags"] == ["stroke_signs"]
        assert [e["type"] for e in to_patient] == ["escalation_timeout"]
        assert "112" in to_patient[0]["advice"]
        ended.set()
        await wait_until_async(lambda: "c9" in released, 10,
                               what="the ended consultation to leave the directory")
        assert await desk.holder("c9") is None
        assert (await desk.escalations.queue())[0]["status"] == "timed_out"  # still visible
        assert client.server is not None


async def test_openapi_lists_the_physician_endpoints(client: TestClient) -> None:
    document = await (await client.get("/api/v1/openapi.json")).json()
    for path in (WS, "/api/v1/escalations", "/api/v1/escalations/{id}/accept",
                 "/api/v1/escalations/{id}/resolve"):
        assert path in document["paths"]
    assert "Escalation" in document["components"]["schemas"]


async def test_dashboard_is_closed_when_the_bus_goes_away(client: TestClient) -> None:
    me = await doctor(client)
    ws, _ = await open_dashboard(client, me)
    await client.app[DESK].bus.close()  # every subscription ends, as when Redis goes away
    msg = await asyncio.wait_for(ws.receive(), 5)
    assert msg.type is WSMsgType.CLOSE
    assert ws.close_code == 1011  # the page reconnects for a fresh snapshot


async def test_commands_reach_the_process_holding_the_consultation(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Desk B sends, desk A (holding the consultation) runs the handler: over one bus."""
    from dhanvantri.desk.cluster.bus import MemoryBus
    from dhanvantri.desk.desk import PhysicianDesk
    from dhanvantri.desk.escalations import consultation_channel
    from tests.realtime.physician_app import physician_settings

    settings = physician_settings(tmp_path)
    shared = MemoryBus()
    holder, other = PhysicianDesk(shared, settings), PhysicianDesk(shared, settings)
    other.consultations = holder.consultations  # one directory, as Redis gives both processes
    subscribed = watch(monkeypatch, shared, "subscribe")
    received: list[dict[str, Any]] = []
    with pytest.raises(LookupError):
        await other.command("c1", {"type": "takeover"})
    holder.on_consultation_event("c1", {"type": "escalation", "reason": "red_flag"},
                                 received.append, asyncio.Event())
    # The holder lists the consultation, then subscribes to its channel to take commands.
    await wait_until_async(lambda: consultation_channel("c1") in subscribed, 10,
                           what="the holding desk to take commands for the consultation")
    assert await other.command("c1", {"type": "takeover", "physician_id": "p1"}) == holder.node
    with pytest.raises(ValueError, match="type"):
        await other.command("c1", {"type": "shutdown"})
    await wait_until_async(lambda: received, 10, what="the command to reach the holding desk")
    assert received == [{"type": "takeover", "physician_id": "p1"}]
    await holder.close()
    await other.close()
