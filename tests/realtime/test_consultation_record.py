"""A signed-in patient's consultation is recorded as it goes and reaches the review queue once,
also when the server process is killed mid-call (stand-in models; real VAD, database, crypto).

Also a server for the restart test: ``python -m tests.realtime.test_consultation_record
--port N --folder DIR`` (stand-in models, sign-in required, SQLite in DIR).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sqlite3
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import closing
from pathlib import Path
from typing import Any

import aiohttp
import numpy as np
import pytest
from aiohttp.test_utils import TestClient

from dhanvantri.background import Background
from dhanvantri.http.principal import Role
from dhanvantri.platform import consultations
from dhanvantri.platform.accounts import request_login_code, verify_login_code
from dhanvantri.platform.bootstrap import Services, bootstrap
from dhanvantri.platform.domain.consultations import record_id
from dhanvantri.platform.notifier import OutboxNotifier
from dhanvantri.platform.web import SERVICES
from dhanvantri.platform.web.consultation_routes import CIPHER
from dhanvantri.realtime.app import RECORDERS, create_app
from dhanvantri.realtime.recorder import Recorder
from dhanvantri.settings import Settings
from tests.platform.helpers import make_staff
from tests.realtime.conftest import make_settings, stand_in_models, start
from tests.support.patient import Patient
from tests.support.server import ServerProcess
from tests.support.waiting import wait_until, wait_until_async

API = "/api/v1"
ROOT = Path(__file__).resolve().parents[2]
START = {"type": "start", "sample_rate": 16000, "encoding": "pcm_s16le"}
SAID = "I have a fever since yesterday."  # the stand-in STT hears "I have a fever"
LISTENING = {"type": "state", "value": "listening"}
RECORD_TABLES = ("consultations", "consultation_turns", "audit_events")


async def sign_in(services: Services, phone: str = "9876543210") -> str:
    """A patient's access token, through the same use cases as the OTP routes."""
    outbox = OutboxNotifier()
    challenge = await request_login_code(services.uow(), services.otps, outbox, phone)
    pair = await verify_login_code(services.uow(), services.otps, services.tokens,
                                   uuid.UUID(challenge["challenge_id"]), outbox.last_code(),
                                   None)
    return pair.access_token


async def call(http: aiohttp.ClientSession, base: str, token: str) -> Patient:
    """Start and join a consultation as the signed-in patient."""
    headers = {"Authorization": f"Bearer {token}"}
    async with http.post(f"{base}{API}/consultations", headers=headers) as response:
        assert response.status == 201, await response.text()
        body = await response.json()
    ws = await http.ws_connect(body["ws_url"])
    await ws.send_json({**START, "access_token": token})  # never in the URL
    patient = Patient(ws)
    patient.consultation_id = body["id"]
    await patient.wait_for(lambda e: e.get("type") == "ready", 10)
    return patient


def finals(patient: Patient) -> list[tuple[str, str]]:
    """What was said, as the patient's screen showed it: (role, text) of final lines, the
    phrases of one assistant reply joined into one line (as the record keeps them)."""
    lines: list[tuple[str, str]] = []
    reply = None
    for e in patient.events:
        if e.get("type") != "transcript" or not e.get("final") or not e["text"].strip():
            continue
        if e["role"] == "assistant" and reply == e.get("turn") and lines:
            lines[-1] = ("assistant", f"{lines[-1][1]} {e['text'].strip()}")
            continue
        reply = e.get("turn") if e["role"] == "assistant" else None
        lines.append((e["role"], e["text"].strip()))
    return lines


def settled(patient: Patient) -> bool:
    """Every patient turn so far has had its reply, and the reply has finished playing."""
    events = patient.events
    heard = sum(1 for e in events if e.get("type") == "transcript"
                and e.get("role") == "patient" and e.get("final"))
    replies = [i for i, e in enumerate(events) if e.get("type") == "metrics"]
    return bool(heard and len(replies) >= heard and LISTENING in events[replies[-1] + 1:])


async def speak_turns(patient: Patient, speech: Any, turns: int) -> None:
    """Say ``SAID`` ``turns`` times, each time waiting until the reply has finished (however
    the turn detector split the speech)."""
    # Two seconds of silence after the words: the turn detector ends the turn.
    audio = np.concatenate([speech(SAID), np.zeros(32000, np.int16)])
    for _ in range(turns):
        mark = len(patient.events)
        await patient.say(audio, speed=4)
        await patient.wait_for(lambda e: e.get("type") == "metrics", 30, after=mark)
        await wait_until_async(lambda: settled(patient), 30,
                               what=lambda: f"the replies to finish; got {patient.events}")


def rows(database: Path, table: str) -> list[tuple[Any, ...]]:
    """Every raw row of ``table`` in the SQLite file."""
    with closing(sqlite3.connect(database)) as conn:
        return conn.execute(f"SELECT * FROM {table}").fetchall()


class GatedSink:
    """A record sink whose first write waits until the test opens the gate."""

    def __init__(self) -> None:
        self.gate = asyncio.Event()
        self.calls: list[tuple[Any, ...]] = []

    async def open(self, consultation_id: str, patient_id: uuid.UUID, *,
                   opened_by: uuid.UUID | None = None) -> None:
        await self.gate.wait()
        self.calls.append(("open", consultation_id))

    async def turn(self, consultation_id: str, role: str, text: str, tokens: str,
                   said_at: Any) -> None:
        self.calls.append(("turn", role, text, tokens))

    async def notes(self, consultation_id: str, notes: dict[str, Any],
                    escalation: dict[str, Any] | None) -> None:
        self.calls.append(("notes", escalation is not None))

    async def close(self, consultation_id: str, reason: str, notes: dict[str, Any]) -> None:
        self.calls.append(("close", reason, len(notes["escalations"])))


class Session:
    """The two things a recorder reads from a live session."""

    def tokenize(self, text: str) -> str:
        return text.replace("Rajesh", "<PERSON_1>")

    def clinical_record(self) -> dict[str, Any]:
        return {"intake": {"complaint": "fever"}}


async def test_the_recorder_never_waits_for_the_database_and_keeps_the_order() -> None:
    sink = GatedSink()
    recorder = Recorder("c1", uuid.uuid4(), Session(), sink, Background(logging.getLogger(), "t"))
    for event in [{"type": "state", "value": "listening"},
                  {"type": "transcript", "role": "patient", "text": "I am Raj", "final": False},
                  {"type": "transcript", "role": "patient", "text": "I am Rajesh", "final": True},
                  {"type": "transcript", "role": "assistant", "text": "I am sorry.",
                   "final": True, "turn": 1},
                  {"type": "state", "value": "speaking"},
                  {"type": "transcript", "role": "assistant", "text": "Since when?",
                   "final": True, "turn": 1},
                  {"type": "transcript", "role": "assistant", "text": "Take rest.",
                   "final": True, "turn": 2},
                  {"type": "escalation", "reason": "patient_request", "emergency": False},
                  {"type": "ended", "reason": "physician_ended"},
                  {"type": "transcript", "role": "patient", "text": "late", "final": True}]:
        recorder.on_event(event)  # returns at once although the sink is stuck
    assert sink.calls == []
    sink.gate.set()
    await wait_until_async(lambda: recorder.task.done(), 10, what="the recorder to finish")
    assert sink.calls == [
        ("open", "c1"),
        ("turn", "patient", "I am Rajesh", "I am <PERSON_1>"), ("notes", False),
        ("turn", "assistant", "I am sorry. Since when?", "I am sorry. Since when?"),
        ("notes", False),
        ("turn", "assistant", "Take rest.", "Take rest."), ("notes", False),
        ("notes", True), ("close", "physician_ended", 1)]


@pytest.fixture
def signed_in_settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path, require_auth=True, max_sessions=3)


@pytest.fixture
async def app_client(signed_in_settings: Settings) -> AsyncIterator[TestClient]:
    client = await start(create_app(signed_in_settings,
                                    models=stand_in_models(signed_in_settings)))
    yield client
    await client.close()


async def test_a_signed_in_call_is_recorded_in_order_and_queued_once(
        app_client: TestClient, signed_in_settings: Settings, speech: Any) -> None:
    services = app_client.app[SERVICES]
    token = await sign_in(services)
    base = str(app_client.make_url("")).rstrip("/")
    async with aiohttp.ClientSession() as http:
        patient = await call(http, base, token)
        await speak_turns(patient, speech, 2)
        said = finals(patient)
        await patient.hang_up()
    assert ("patient", "I have a fever") in said
    assert {role for role, _ in said} == {"patient", "assistant"}
    doctor = await make_staff(app_client, services, Role.PHYSICIAN, phone="9123456780")
    database = Path(str(signed_in_settings.database_url).split("///", 1)[1])
    cid = record_id(patient.consultation_id or "")

    async def queue() -> list[dict[str, Any]]:
        response = await app_client.get(f"{API}/prescriptions/queue", headers=doctor.headers)
        return (await response.json())["items"]

    await wait_until_async(lambda: rows(database, "prescriptions"), 20,
                           what="the record to reach the review queue")
    items = await queue()
    assert [item["consultation_id"] for item in items] == [str(cid)]
    headers = {"Authorization": f"Bearer {token}"}
    record = await (await app_client.get(f"{API}/consultations/{patient.consultation_id}",
                                         headers=headers)).json()
    assert [(t["role"], t["text"]) for t in record["turns"]] == said
    assert record["status"] == "completed" and record["end_reason"] == "call_ended"
    assert record["intake"]["symptoms"][0]["name"] == "fever"

    # A second close does nothing: no second record.
    again = await consultations.close_record(services.uow, app_client.app[CIPHER],
                                             services.safety, cid, "call_ended")
    assert again is None and len(await queue()) == 1
    assert (await app_client.delete(f"{API}/consultations/{patient.consultation_id}",
                                    headers=headers)).status == 404

    # The raw rows of the record hold none of the patient's words.
    raw = " ".join(str(row) for table in RECORD_TABLES for row in rows(database, table))
    assert "fever" not in raw.lower() and len(rows(database, "consultation_turns")) == len(said)


async def test_a_call_the_server_hangs_up_on_shutdown_is_completed_and_queued(
        signed_in_settings: Settings, speech: Any) -> None:
    client = await start(create_app(signed_in_settings,
                                    models=stand_in_models(signed_in_settings)))
    try:
        token = await sign_in(client.app[SERVICES])
        async with aiohttp.ClientSession() as http:
            patient = await call(http, str(client.make_url("")).rstrip("/"), token)
            await speak_turns(patient, speech, 1)
            await client.close()  # a graceful stop hangs up every call and writes its record
            await patient.hang_up()
    finally:
        await client.close()
    database = Path(str(signed_in_settings.database_url).split("///", 1)[1])
    [record] = rows(database, "consultations")
    assert (record[3], record[6]) == ("completed", "server_shutdown")
    assert [row[1] for row in rows(database, "prescriptions")] == [
        record_id(patient.consultation_id or "").hex]


async def test_a_guest_call_leaves_no_record(tmp_path: Path, speech: Any) -> None:
    settings = make_settings(tmp_path, require_auth=False)
    client = await start(create_app(settings, models=stand_in_models(settings)))
    try:
        async with aiohttp.ClientSession() as http:
            base = str(client.make_url("")).rstrip("/")
            patient = await Patient.join(http, base)
            await speak_turns(patient, speech, 1)
            # The turn went through the pipeline; nothing started recording it.
            assert len(client.app[RECORDERS]) == 0
            await patient.hang_up()
        async with client.app[SERVICES].uow() as uow:
            assert list(await uow.consultations.list()) == []
    finally:
        await client.close()


# ------------------------------------------------------------------ kill -9 mid-call, restart
def _server(folder: Path, name: str) -> ServerProcess:
    server = ServerProcess(
        lambda port: [sys.executable, "-m", "tests.realtime.test_consultation_record",
                      "--port", str(port), "--folder", str(folder)],
        log=folder / f"{name}.log", cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    server.wait_healthy(90)
    return server


@pytest.mark.timeout(240)
async def test_a_call_cut_by_a_killed_server_is_abandoned_and_queued_once(
        tmp_path: Path, speech: Any) -> None:
    settings = make_settings(tmp_path, require_auth=True)
    services = bootstrap(settings)
    await services.start()  # the database both server processes use, and the patient in it
    token = await sign_in(services)
    await services.close()
    database = tmp_path / "rt.sqlite3"

    first = _server(tmp_path, "first")
    try:
        async with aiohttp.ClientSession() as http:
            patient = await call(http, first.url, token)
            await speak_turns(patient, speech, 2)
            said = finals(patient)
            wait_until(lambda: len(rows(database, "consultation_turns")) == len(said), 20,
                       what="every turn said to reach the database")
            first.process.kill()  # kill -9: no shutdown, no close
            first.process.wait(10)
    finally:
        first.stop()
    status = rows(database, "consultations")
    assert [row[3] for row in status] == ["active"]

    second = _server(tmp_path, "second")  # start-up closes what the killed one left open
    try:
        cid = record_id(patient.consultation_id or "")
        assert [row[3] for row in rows(database, "consultations")] == ["abandoned"]
        queued = [row for row in rows(database, "prescriptions") if row[1] == cid.hex]
        assert len(queued) == 1
        async with aiohttp.ClientSession() as http, http.get(
                f"{second.url}{API}/consultations/{patient.consultation_id}",
                headers={"Authorization": f"Bearer {token}"}) as response:
            record = await response.json()
        assert record["status"] == "abandoned" and record["end_reason"] == "process_ended"
        assert [(t["role"], t["text"]) for t in record["turns"]] == said  # no turn lost
    finally:
        second.stop()
    third = _server(tmp_path, "third")  # a later start finds nothing left to close
    third.stop()
    assert len([r for r in rows(database, "prescriptions") if r[1] == cid.hex]) == 1


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--folder", type=Path, required=True)
    args = parser.parse_args()
    from aiohttp import web

    settings = make_settings(args.folder, require_auth=True)
    web.run_app(create_app(settings, models=stand_in_models(settings)), host="127.0.0.1",
                port=args.port, print=None, shutdown_timeout=2)


if __name__ == "__main__":
    main()
