"""A patient on the WebSocket transport: speaks at real-time pace, records what comes back.

Tests and ``benchmarks/load_ws.py`` share it. Audio goes out in 20 ms frames on a clock, as a
microphone sends it; events and reply audio are recorded, with their arrival times, by a reader
task, so a test waits for the event it expects instead of reading the socket in order.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from aiohttp import ClientSession, WSMsgType

from tests.support.waiting import wait_until_async

FRAME_S = 0.02  # the frame a browser's microphone sends

Event = dict[str, Any]


async def stream(ws: Any, audio: np.ndarray, rate: int = 16000, *, speed: float = 1.0,
                 start: float | None = None) -> float:
    """Send int16 ``audio`` in 20 ms frames as a microphone does, ``speed`` times real time.

    Each frame goes out once its time has passed (a microphone cannot send sound before it
    was heard), so even one frame takes its 20 ms.

    Args:
        ws: the consultation's WebSocket.
        audio: mono samples at ``rate``.
        rate: the sample rate agreed in the ``start`` message.
        speed: 1 is a live microphone; more sends faster (the server still hears every frame).
        start: when the audio begins (``time.monotonic()``; default now), so that consecutive
            calls keep one steady clock.

    Returns:
        When the audio ends on that clock.
    """
    step = int(rate * FRAME_S)
    clock = time.monotonic() if start is None else start
    for offset in range(0, len(audio), step):
        clock += FRAME_S / speed
        await asyncio.sleep(max(0.0, clock - time.monotonic()))
        await ws.send_bytes(audio[offset:offset + step].astype("<i2").tobytes())
    return clock


class Patient:
    """The patient's side of a WebSocket consultation whose ``start`` was already sent.

    Attributes:
        consultation_id: the consultation, when made by :meth:`join`.
        events: every event received, in order.
        event_at: each event's arrival (``time.monotonic()``).
        audio: every frame of reply audio received.
        audio_at: each frame's arrival.
        reader: the task recording them (ends with the socket).
    """

    def __init__(self, ws: Any, rate: int = 16000, *, room_dbfs: float | None = None) -> None:
        self.ws, self.rate = ws, rate
        # A room's steady noise (white, at this level) under everything the microphone sends:
        # digital silence between words is kinder to a voice detector than any real room.
        self.room_dbfs = room_dbfs
        self._noise = np.random.default_rng(0)
        self.events: list[Event] = []
        self.event_at: list[float] = []
        self.audio: list[np.ndarray] = []
        self.audio_at: list[float] = []
        self.consultation_id: str | None = None
        self._clock = 0.0  # when the audio sent so far ends
        self.reader = asyncio.ensure_future(self._read())

    @classmethod
    async def join(cls, http: ClientSession, base_url: str, rate: int = 16000, *,
                   room_dbfs: float | None = None) -> Patient:
        """Create a consultation at ``base_url``, connect and start it; fails if refused."""
        async with http.post(base_url + "/api/v1/consultations") as response:
            if response.status != 201:
                raise AssertionError(f"consultation refused: {response.status} "
                                     f"{await response.text()}")
            body = await response.json()
        ws = await http.ws_connect(body["ws_url"])
        await ws.send_json({"type": "start", "sample_rate": rate, "encoding": "pcm_s16le"})
        patient = cls(ws, rate, room_dbfs=room_dbfs)
        patient.consultation_id = body["id"]
        answer = await patient.wait_for(lambda e: e.get("type") in ("ready", "error"), 10)
        if answer["type"] != "ready":
            raise AssertionError(f"start refused: {answer}")
        return patient

    async def _read(self) -> None:
        async for msg in self.ws:
            if msg.type is WSMsgType.TEXT:
                self.events.append(json.loads(msg.data))
                self.event_at.append(time.monotonic())
            elif msg.type is WSMsgType.BINARY:
                self.audio.append(np.frombuffer(msg.data, dtype="<i2"))
                self.audio_at.append(time.monotonic())

    async def say(self, audio: np.ndarray, *, speed: float = 1.0) -> float:
        """Send ``audio`` at real-time pace (or ``speed`` times faster).

        Consecutive calls keep one clock, as a microphone does; after a pause the clock starts
        again from now. Returns when the last frame went out (``time.monotonic()``).
        """
        if self.room_dbfs is not None:
            noise = self._noise.normal(0, 32768 * 10 ** (self.room_dbfs / 20), len(audio))
            audio = np.clip(audio + noise, -32768, 32767).astype(np.int16)
        self._clock = await stream(self.ws, audio, self.rate, speed=speed,
                                   start=max(self._clock, time.monotonic()))
        return time.monotonic()

    async def wait_for(self, check: Callable[[Event], Any],
                       timeout: float = 20.0, *, after: int = 0) -> Event:  # noqa: ASYNC109
        """The first event from index ``after`` on that ``check`` accepts, waiting for it."""

        def found() -> Event | None:
            return next((e for e in self.events[after:] if check(e)), None)

        return await wait_until_async(found, timeout, what=lambda: f"an event; got {self.events}")

    def since(self, mark: int, kind: str) -> list[Event]:
        """Events of type ``kind`` from index ``mark`` on."""
        return [e for e in self.events[mark:] if e.get("type") == kind]

    async def hang_up(self) -> None:
        """Send ``hangup``, close the socket and stop recording."""
        if not self.ws.closed:
            await self.ws.send_json({"type": "hangup"})
            await self.ws.close()
        self.reader.cancel()
        await asyncio.gather(self.reader, return_exceptions=True)
