"""The review queue pushed to the physicians' dashboards.

A signed-in patient's call ends; its record joins the review queue and every physician's
dashboard socket hears ``{"type": "review_queue", ...}`` (ids and states only), then again for
each decision. Also across two server processes' worth of apps sharing Redis, and for a record a
killed process left open, queued at start-up. Stand-in models; real database, crypto and VAD.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import WSMsgType
from aiohttp.test_utils import TestClient

from dhanvantri.http.principal import Role
from dhanvantri.platform import consultations
from dhanvantri.platform.bootstrap import SERVICES, bootstrap
from dhanvantri.platform.domain.consultations import record_id
from dhanvantri.platform.record_cipher import RecordCipher
from dhanvantri.platform.record_writer import RecordWriter
from dhanvantri.realtime.app import create_app
from dhanvantri.settings import Settings
from tests.platform.helpers import make_staff
from tests.realtime.buses import require_redis, unique_prefix
from tests.realtime.conftest import make_settings, stand_in_models, start
from tests.realtime.physician_app import cheap_passwords, physician_app
from tests.realtime.test_consultation_record import call, sign_in

__all__ = ["cheap_passwords"]
API = "/api/v1"
KEYS = {"type", "prescription_id", "status", "urgent", "published_at"}


async def review_event(ws: Any, limit: float = 30.0) -> dict[str, Any]:
    """The next review-queue event on a dashboard socket (escalation news is skipped)."""
    async with asyncio.timeout(limit):
        while True:
            msg = await ws.receive()
            if msg.type is not WSMsgType.TEXT:
                raise AssertionError(f"dashboard socket ended: {msg}")
            event = msg.json()
            if event.get("type") == "review_queue":
                return event  # type: ignore[no-any-return]


async def open_dashboard(client: TestClient, token: str) -> Any:
    ws = await client.ws_connect(f"{API}/physician/ws",
                                headers={"Authorization": f"Bearer {token}"})
    assert (await ws.receive_json())["type"] == "hello"
    assert (await ws.receive_json())["type"] == "queue"
    return ws


async def one_call(client: TestClient, token: str) -> str:
    """A signed-in patient's call over the WebSocket, hung up at once; its live id."""
    base = str(client.make_url("")).rstrip("/")
    async with aiohttp.ClientSession() as http:
        patient = await call(http, base, token)
        await patient.wait_for(lambda e: e == {"type": "state", "value": "listening"})
        await patient.hang_up()
    return patient.consultation_id or ""


@pytest.fixture
def signed_in(tmp_path: Path) -> Settings:
    return make_settings(tmp_path, require_auth=True)


@pytest.fixture
async def app_client(signed_in: Settings, cheap_passwords: None) -> AsyncIterator[TestClient]:
    client = await start(create_app(signed_in, models=stand_in_models(signed_in)))
    yield client
    await client.close()


async def test_a_queued_record_and_each_decision_reach_the_dashboard(
        app_client: TestClient) -> None:
    services = app_client.app[SERVICES]
    doctor = await make_staff(app_client, services, Role.PHYSICIAN, phone="9123456780")
    dashboard = await open_dashboard(app_client, doctor.access)
    cid = await one_call(app_client, await sign_in(services))

    queued = await review_event(dashboard)
    assert set(queued) == KEYS  # ids and states only: no patient words travel this way
    assert (queued["status"], queued["urgent"]) == ("pending_review", False)
    items = (await (await app_client.get(f"{API}/prescriptions/queue",
                                         headers=doctor.headers)).json())["items"]
    assert [(i["id"], i["consultation_id"]) for i in items] == [
        (queued["prescription_id"], str(record_id(cid)))]

    rejected = await app_client.post(f"{API}/prescriptions/{queued['prescription_id']}/reject",
                                     json={"reason": "Seen in clinic"}, headers=doctor.headers)
    assert rejected.status == 200, await rejected.text()
    decided = await review_event(dashboard)
    assert (decided["prescription_id"], decided["status"]) == (queued["prescription_id"],
                                                              "rejected")
    await dashboard.close()


@pytest.mark.redis
async def test_the_push_crosses_processes_on_redis(tmp_path: Path, cheap_passwords: None
                                                   ) -> None:
    """The call is held by one app; the physician's dashboard is on another (the desk alone)."""
    bus = {"bus": "redis", "redis_url": require_redis(), "bus_prefix": unique_prefix()}
    settings = make_settings(tmp_path, require_auth=True, **bus)
    holder = await start(create_app(settings, models=stand_in_models(settings)))
    desk = await start(physician_app(settings))  # same database and secrets, its own bus
    try:
        doctor = await make_staff(desk, desk.app[SERVICES], Role.PHYSICIAN, phone="9123456780")
        dashboard = await open_dashboard(desk, doctor.access)
        cid = await one_call(holder, await sign_in(holder.app[SERVICES]))
        queued = await review_event(dashboard)
        assert queued["status"] == "pending_review"
        async with holder.app[SERVICES].uow() as uow:
            record = await uow.consultations.get(record_id(cid))
        assert record is not None and queued["prescription_id"] == str(record.prescription_id)
        await dashboard.close()
    finally:
        await desk.close()
        await holder.close()


async def test_a_record_left_open_is_announced_when_queued_at_start_up(
        signed_in: Settings) -> None:
    services = bootstrap(signed_in)
    await services.start()
    try:
        patient = services.tokens.principal(await sign_in(services)).user_id
        left_open = record_id("cut-by-a-killed-process")
        await consultations.open_record(services.uow(), left_open, patient, "en")
        heard: list[dict[str, Any]] = []

        async def listener(change: dict[str, Any]) -> None:
            heard.append(change)

        services.review.listen(listener)
        writer = RecordWriter(services, RecordCipher.from_settings(signed_in), "en")
        assert await writer.recover() == 1
        async with services.uow() as uow:
            record = await uow.consultations.get(left_open)
        assert record is not None and record.end_reason == "process_ended"
        assert heard == [{"prescription_id": str(record.prescription_id),
                          "status": "pending_review", "urgent": False}]
    finally:
        await services.close()


async def test_a_failing_listener_does_not_fail_the_decision(signed_in: Settings) -> None:
    services = bootstrap(signed_in)

    async def broken(change: dict[str, Any]) -> None:
        raise ConnectionError("the bus is down")

    services.review.listen(broken)
    await services.review.changed(uuid.uuid4(), "approved", True)  # logged, not raised
    await services.close()
