"""The WebSocket transport with stand-in models: protocol, paced audio, resampling, teardown."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import numpy as np
import pytest
from aiohttp import WSMsgType
from aiohttp.test_utils import TestClient

from dhanvantri.realtime.app import create_app
from dhanvantri.realtime.state import RUNTIME
from dhanvantri.settings import Settings
from tests.realtime.conftest import stand_in_models, start
from tests.support.patient import stream
from tests.support.waiting import wait_until_async

FRAME_MS = 20
LISTENING = {"type": "state", "value": "listening"}
THINKING = {"type": "state", "value": "thinking"}


async def join(client: TestClient) -> Any:
    cid = (await (await client.post("/api/v1/consultations")).json())["id"]
    return cid, await client.ws_connect(f"/api/v1/consultations/{cid}/ws")


async def send_paced(ws: Any, audio: np.ndarray, rate: int) -> None:
    await stream(ws, audio, rate, speed=4)  # 4x real time: enough for the VAD, quick


async def collect(ws: Any, until: str, limit: float = 30.0
                  ) -> tuple[list[dict[str, Any]], list[tuple[float, bytes]]]:
    """Events and (arrival time, audio) until an event of type ``until`` came and the reply audio
    stopped: the state went back to "listening" after it."""
    events: list[dict[str, Any]] = []
    audio: list[tuple[float, bytes]] = []
    try:
        async with asyncio.timeout(limit):
            while True:
                msg = await ws.receive()
                if msg.type is WSMsgType.BINARY:
                    audio.append((time.monotonic(), msg.data))
                elif msg.type is WSMsgType.TEXT:
                    events.append(json.loads(msg.data))
                    if (events[-1] == LISTENING and audio
                            and any(e.get("type") == until for e in events)):
                        break
                else:
                    break
    except TimeoutError:
        raise AssertionError(f"timed out after {limit:g} s waiting for {until!r} and the reply "
                             f"audio to end; got {len(audio)} audio frames and {events}") from None
    return events, audio


@pytest.mark.parametrize("start", [
    "not json",
    json.dumps({"type": "hello"}),
    json.dumps({"type": "start", "sample_rate": 16000, "encoding": "opus"}),
    json.dumps({"type": "start", "sample_rate": 1000, "encoding": "pcm_s16le"}),
    json.dumps({"type": "start", "sample_rate": "16000", "encoding": "pcm_s16le"}),
])
async def test_bad_start_message_gets_error_event_and_close_4400(client: TestClient,
                                                                 start: str) -> None:
    cid, ws = await join(client)
    await ws.send_str(start)
    msg = await ws.receive(timeout=5)
    event = json.loads(msg.data)
    assert event["type"] == "error" and event["code"] == "BAD_START" and event["message"]
    assert (await ws.receive(timeout=5)).type is WSMsgType.CLOSE
    assert ws.close_code == 4400
    await ws.close()
    # A failed start ends the consultation at once: its slot is free for a new one.
    registry = client.app[RUNTIME].registry
    await wait_until_async(lambda: cid not in registry, 10, what="the slot to come back")
    _, retry = await join(client)
    await retry.send_json({"type": "start", "sample_rate": 16000, "encoding": "pcm_s16le"})
    assert json.loads((await retry.receive(timeout=5)).data)["type"] == "ready"
    await retry.close()


async def test_binary_before_start_is_refused(client: TestClient) -> None:
    _, ws = await join(client)
    await ws.send_bytes(b"\x00\x00" * 320)
    assert json.loads((await ws.receive(timeout=5)).data)["code"] == "BAD_START"
    await ws.receive(timeout=5)
    assert ws.close_code == 4400


async def test_second_join_is_409(client: TestClient) -> None:
    cid, ws = await join(client)
    await ws.send_json({"type": "start", "sample_rate": 16000, "encoding": "pcm_s16le"})
    assert json.loads((await ws.receive(timeout=5)).data)["type"] == "ready"
    response = await client.get(f"/api/v1/consultations/{cid}/ws")
    assert response.status == 409
    assert (await response.json())["error"]["code"] == "ALREADY_JOINED"
    await ws.close()


@pytest.mark.parametrize("rate", [16000, 8000])
async def test_a_turn_gives_events_and_real_time_reply_audio(client: TestClient, speech: Any,
                                                             rate: int) -> None:
    from dhanvantri.pipeline.resampling import resample

    cid, ws = await join(client)
    await ws.send_json({"type": "start", "sample_rate": rate, "encoding": "pcm_s16le"})
    ready = json.loads((await ws.receive(timeout=5)).data)
    assert ready == {"type": "ready", "sample_rate": rate, "encoding": "pcm_s16le"}
    said = resample(speech("I have a fever since yesterday."), 16000, rate)
    silence = np.zeros(rate, dtype=np.int16)
    sender = asyncio.ensure_future(send_paced(ws, np.concatenate([silence, said, silence,
                                                                  silence]), rate))
    events, audio = await collect(ws, until="metrics")
    await sender
    kinds = [e["type"] for e in events]
    assert kinds[0] == "state" and events[0]["value"] == "listening"
    patient = [e for e in events if e["type"] == "transcript" and e["role"] == "patient"
               and e["final"]]
    assert [e["text"] for e in patient] == ["I have a fever"]
    assistant = " ".join(e["text"] for e in events
                         if e["type"] == "transcript" and e["role"] == "assistant")
    assert assistant.strip()  # the clinical guide's question, phrased by the stand-in LLM
    states = [e["value"] for e in events if e["type"] == "state"]
    assert "thinking" in states and "speaking" in states
    metrics = next(e for e in events if e["type"] == "metrics")
    assert metrics["turn"] == 1 and metrics["ms"]["tts_first_audio"] > 0
    # Reply audio: 20 ms frames at the client's rate, paced no faster than real time.
    frame_bytes = rate * FRAME_MS // 1000 * 2
    assert audio and all(len(data) == frame_bytes for _, data in audio)
    assert np.abs(np.frombuffer(b"".join(d for _, d in audio), "<i2")).max() > 1000
    played = len(audio) * FRAME_MS / 1000
    assert audio[-1][0] - audio[0][0] >= 0.8 * (played - FRAME_MS / 1000)
    await ws.send_json({"type": "hangup"})
    assert (await ws.receive(timeout=5)).type is WSMsgType.CLOSE
    registry = client.app[RUNTIME].registry
    await wait_until_async(lambda: cid not in registry, 10,
                           what="the hung-up consultation to leave the registry")
    assert cid not in registry


async def test_sessions_leave_nothing_behind(client: TestClient, speech: Any) -> None:
    runtime = client.app[RUNTIME]
    before = {t.get_name() for t in asyncio.all_tasks()}
    said = speech("Hello doctor.")
    for _ in range(4):
        _, ws = await join(client)
        await ws.send_json({"type": "start", "sample_rate": 16000, "encoding": "pcm_s16le"})
        await ws.receive(timeout=5)
        await ws.send_bytes(said.astype("<i2").tobytes())
        await ws.close()
    await wait_until_async(lambda: len(runtime.registry) == 0, 10,
                           what=lambda: f"the registry to empty ({len(runtime.registry)} left)")
    assert len(runtime.registry) == 0

    def leftovers() -> list[str]:
        left = {t.get_name() for t in asyncio.all_tasks()} - before
        return [name for name in left if name.startswith(("ws-", "webrtc-"))
                or "Transcriber" in name or "Speaker" in name]

    await wait_until_async(lambda: not leftovers(), 10,
                           what=lambda: f"the sessions' tasks to end (left: {leftovers()})")
    assert not leftovers(), leftovers()
    text = await (await client.get("/metrics")).text()
    assert 'dhanvantri_sessions_active{transport="ws"} 0.0' in text
    assert 'dhanvantri_sessions_total{transport="ws"} 4.0' in text


async def test_server_shutdown_closes_live_sockets(client: TestClient) -> None:
    _, ws = await join(client)
    await ws.send_json({"type": "start", "sample_rate": 16000, "encoding": "pcm_s16le"})
    await ws.receive(timeout=5)
    await client.app[RUNTIME].registry.close_all()
    while True:
        msg = await ws.receive(timeout=5)
        if msg.type is not WSMsgType.TEXT:
            break
    assert msg.type is WSMsgType.CLOSE and ws.close_code == 1001


async def test_barge_in_cuts_the_reply_audio_off(settings: Settings, speech: Any) -> None:
    # A slow-spoken reply (0.3 s a word) that the patient talks over.
    client = await start(create_app(settings, models=stand_in_models(settings, 0.3)))
    try:
        _, ws = await join(client)
        await ws.send_json({"type": "start", "sample_rate": 16000, "encoding": "pcm_s16le"})
        await ws.receive(timeout=5)
        said = speech("I have a fever since yesterday.")
        silence = np.zeros(16000, np.int16)
        log: list[tuple[float, str, Any]] = []

        async def read() -> None:
            async for msg in ws:
                if msg.type is WSMsgType.BINARY:
                    log.append((time.monotonic(), "audio", len(msg.data)))
                elif msg.type is WSMsgType.TEXT:
                    log.append((time.monotonic(), "event", json.loads(msg.data)))

        def reply_frames() -> int:
            return sum(kind == "audio" for _, kind, _ in log)

        def barge_in_turn_ended() -> bool:
            """The patient was heard (listening) after ``barge_at``, then their turn ended."""
            heard = next((t for t, kind, e in log
                          if kind == "event" and t > barge_at and e == LISTENING), None)
            return heard is not None and any(kind == "event" and t > heard and e == THINKING
                                             for t, kind, e in log)

        reader = asyncio.ensure_future(read())
        await send_paced(ws, np.concatenate([silence, said, silence]), 16000)
        # The microphone stays open (silence) until the reply has played for a while.
        microphone = asyncio.ensure_future(send_paced(ws, np.zeros(60 * 16000, np.int16), 16000))
        await wait_until_async(lambda: reply_frames() >= 25, 30,
                               what=lambda: f"25 frames of reply audio (got {reply_frames()})")
        microphone.cancel()
        await asyncio.gather(microphone, return_exceptions=True)
        barge_at = time.monotonic()
        await send_paced(ws, np.concatenate([said, silence]), 16000)
        # No reply audio may come from shortly after the patient is heard until their turn ends
        # ("thinking"): that event closes the window checked below.
        await wait_until_async(barge_in_turn_ended, 30, what=lambda: "the barge-in turn to end; "
                               f"got {[e for _, kind, e in log if kind == 'event']}")
        reader.cancel()
        await asyncio.gather(reader, return_exceptions=True)
        await ws.close()
    finally:
        await client.close()
    reply_words = sum(len(e["text"].split()) for t, kind, e in log if kind == "event"
                      and t < barge_at and e["type"] == "transcript" and e["role"] == "assistant")
    first_reply = [t for t, kind, _ in log if kind == "audio" and t < barge_at]
    assert first_reply and reply_words * 0.3 > 3  # seconds the whole first reply would last
    # The patient's voice is detected, the state returns to listening and the audio stops.
    heard_at = next(t for t, kind, e in log if kind == "event" and t > barge_at
                    and e == {"type": "state", "value": "listening"})
    thinking_at = next((t for t, kind, e in log if kind == "event" and t > heard_at
                        and e == {"type": "state", "value": "thinking"}), float("inf"))
    after = [t for t, kind, _ in log if kind == "audio" and heard_at + 0.1 < t < thinking_at]
    assert after == []
    played = len(first_reply) + len([t for t, kind, _ in log if kind == "audio"
                                     and barge_at <= t <= heard_at])
    assert played * FRAME_MS / 1000 < reply_words * 0.3 / 2
