"""The WebRTC transport: two real peer connections in-process against the real route.

The patient side is a real ``RTCPeerConnection`` sending a WAV as its microphone, with the
``events`` data channel and a receive-only avatar transceiver; the models are stand-ins (the
transport is under test; the real models run in ``test_ws_models.py``).
"""

from __future__ import annotations

import asyncio
import fractions
import json
import time
from typing import Any

import av
import numpy as np
import pytest
from aiohttp.test_utils import TestClient
from aiortc import (
    AudioStreamTrack,
    RTCConfiguration,
    RTCPeerConnection,
    RTCSessionDescription,
)
from aiortc.mediastreams import MediaStreamError

from dhanvantri.realtime.state import RUNTIME
from tests.support.waiting import wait_until_async


@pytest.fixture(autouse=True)
def loopback_ice(monkeypatch: pytest.MonkeyPatch) -> None:
    """aioice leaves loopback out of host candidates; both peers live on this machine."""
    import aioice.ice

    monkeypatch.setattr(aioice.ice, "get_host_addresses", lambda use_ipv4, use_ipv6: ["127.0.0.1"])


class WavTrack(AudioStreamTrack):
    """A microphone that plays ``audio`` (int16 16 kHz mono) once, then silence, at 20 ms."""

    kind = "audio"

    def __init__(self, audio: np.ndarray, rate: int = 16000) -> None:
        super().__init__()
        self.audio, self.rate, self.step = audio, rate, rate // 50
        self.sent = 0
        self._start: float | None = None

    async def recv(self) -> av.AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        if self._start is None:
            self._start = time.monotonic()
        wait = self._start + self.sent / self.rate - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        chunk = self.audio[self.sent:self.sent + self.step]
        chunk = np.pad(chunk, (0, self.step - len(chunk)))
        frame = av.AudioFrame.from_ndarray(chunk.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate, frame.pts = self.rate, self.sent
        frame.time_base = fractions.Fraction(1, self.rate)
        self.sent += self.step
        return frame


class Patient:
    """The browser's side of the call."""

    def __init__(self, audio: np.ndarray) -> None:
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.events: list[dict[str, Any]] = []
        self.reply: list[np.ndarray] = []
        self.video_frames = 0
        self._readers: list[asyncio.Task[None]] = []
        self.channel = self.pc.createDataChannel("events")
        self.channel.on("message", lambda m: self.events.append(json.loads(m)))
        self.mic = WavTrack(audio)
        self.pc.addTrack(self.mic)
        self.pc.addTransceiver("video", direction="recvonly")
        self.pc.on("track", self._on_track)

    def _on_track(self, track: Any) -> None:
        self._readers.append(asyncio.ensure_future(self._read(track)))

    async def _read(self, track: Any) -> None:
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            if track.kind == "audio":
                self.reply.append(frame.to_ndarray().reshape(-1))
            else:
                self.video_frames += 1

    async def call(self, client: TestClient) -> str:
        cid = (await (await client.post("/api/v1/consultations")).json())["id"]
        await self.pc.setLocalDescription(await self.pc.createOffer())
        offer = {"sdp": self.pc.localDescription.sdp, "type": self.pc.localDescription.type}
        response = await client.post(f"/api/v1/consultations/{cid}/webrtc", json=offer)
        assert response.status == 200, await response.text()
        answer = await response.json()
        assert answer["type"] == "answer"
        await self.pc.setRemoteDescription(RTCSessionDescription(**answer))
        return cid

    def loud_reply_ms(self) -> int:
        """Milliseconds of reply audio frames that are not silence."""
        return 20 * sum(1 for f in self.reply if np.abs(f).max() > 500)

    async def hang_up(self) -> None:
        await self.pc.close()
        for reader in self._readers:
            reader.cancel()
        await asyncio.gather(*self._readers, return_exceptions=True)


async def test_a_call_carries_speech_in_and_reply_audio_and_events_out(
        client: TestClient, speech: Any) -> None:
    audio = np.concatenate([np.zeros(8000, np.int16), speech("I have a fever since yesterday."),
                            np.zeros(16000, np.int16)])
    patient = Patient(audio)
    cid = await patient.call(client)
    assert client.app[RUNTIME].registry.get(cid).transport == "webrtc"
    await wait_until_async(lambda: any(e["type"] == "metrics" for e in patient.events), 20)
    await wait_until_async(lambda: patient.loud_reply_ms() >= 200, 20)
    finals = [e["text"] for e in patient.events
              if e["type"] == "transcript" and e["role"] == "patient" and e["final"]]
    assert finals == ["I have a fever"]
    states = [e["value"] for e in patient.events if e["type"] == "state"]
    assert states[0] == "listening" and "thinking" in states and "speaking" in states
    # Reply audio arrives as 48 kHz frames decoded from Opus; the avatar's video flows too.
    assert patient.reply and patient.video_frames > 0
    await patient.hang_up()
    await wait_until_async(lambda: cid not in client.app[RUNTIME].registry, 40)


async def test_sessions_open_and_close_without_leaks(client: TestClient) -> None:
    runtime = client.app[RUNTIME]
    before = set(asyncio.all_tasks())
    for round_ in range(3):
        patient = Patient(np.zeros(1600, np.int16))
        cid = await patient.call(client)
        await wait_until_async(lambda p=patient: p.channel.readyState == "open" and p.events, 20)
        if round_ == 0:  # hang up through the API
            assert (await client.delete(f"/api/v1/consultations/{cid}")).status == 204
        else:  # or by closing the connection
            await patient.pc.close()
        await wait_until_async(lambda c=cid: c not in runtime.registry, 40)
        await patient.hang_up()
    assert len(runtime.registry) == 0

    def leftovers() -> list[asyncio.Task[Any]]:
        # The test client's keep-alive HTTP connection is the only task allowed to stay.
        return [t for t in asyncio.all_tasks() - before if t is not asyncio.current_task()
                and t.get_coro().__qualname__ != "RequestHandler.start"]

    try:
        await wait_until_async(lambda: not leftovers(), 10)
    except AssertionError:
        pytest.fail(f"tasks left behind: {[t.get_coro() for t in leftovers()]}")
    text = await (await client.get("/metrics")).text()
    assert 'dhanvantri_sessions_active{transport="webrtc"} 0.0' in text
    assert 'dhanvantri_sessions_total{transport="webrtc"} 3.0' in text


async def test_server_shutdown_ends_calls(client: TestClient) -> None:
    patient = Patient(np.zeros(1600, np.int16))
    await patient.call(client)
    await wait_until_async(lambda: patient.channel.readyState == "open", 20)
    await client.app[RUNTIME].registry.close_all()
    await wait_until_async(lambda: patient.pc.connectionState in ("closed", "failed"), 40)
    await patient.hang_up()


@pytest.mark.parametrize("body, field", [
    ({"sdp": "", "type": "offer"}, "sdp"),
    ({"sdp": "v=0", "type": "answer"}, "type"),
    ({"sdp": "not an sdp at all", "type": "offer"}, "sdp"),
])
async def test_bad_offers_are_422_naming_the_field(client: TestClient, body: dict[str, str],
                                                   field: str) -> None:
    cid = (await (await client.post("/api/v1/consultations")).json())["id"]
    response = await client.post(f"/api/v1/consultations/{cid}/webrtc", json=body)
    assert response.status == 422
    error = (await response.json())["error"]
    assert any(d["field"] == field for d in error["details"])
    registry = client.app[RUNTIME].registry
    if body["type"] == "offer" and body["sdp"]:  # read, then negotiation failed: slot freed
        assert cid not in registry
    else:  # refused before any work: may try again
        assert registry.get(cid).transport is None
