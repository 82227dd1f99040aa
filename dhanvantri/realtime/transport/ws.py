"""``GET /api/v1/consultations/{id}/ws``: the WebSocket fallback transport.

Protocol: the client sends ``{"type":"start","sample_rate":16000,"encoding":"pcm_s16le"}``
(a signed-in patient adds ``"access_token"``: a token in the URL would reach access logs and
proxies), then binary 16-bit little-endian mono audio at that rate. The server answers
``{"type":"ready","sample_rate":N,"encoding":"pcm_s16le"}``, then JSON events and binary reply
audio at the same rate, sent in 20 ms frames at real-time pace so barge-in cuts it off at once.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import deque
from typing import Any

import numpy as np
from aiohttp import WSMsgType, web

from dhanvantri.http.auth import optional_caller
from dhanvantri.http.errors import ApiError, Conflict
from dhanvantri.pipeline.frames import now
from dhanvantri.pipeline.voice import VoiceModels
from dhanvantri.realtime.access import check_access, start_caller
from dhanvantri.realtime.consultations import Consultation
from dhanvantri.realtime.live import LiveSession
from dhanvantri.realtime.state import RUNTIME, Runtime

log = logging.getLogger(__name__)

FRAME_SECONDS = 0.020
START_TIMEOUT = 10.0  # seconds to wait for the start message
MIN_RATE, MAX_RATE = 8000, 48000
# Application close codes (4000-4999): the HTTP status they echo.
CLOSE_BAD_START = 4400
CLOSE_SHUTDOWN = 1001  # going away


class BadStart(ValueError):
    """The start message is missing or wrong."""


def parse_start(message: str | dict[str, Any]) -> int:
    """The client's sample rate from its start message; raises :class:`BadStart`."""
    start = _start_message(message) if isinstance(message, str) else message
    if start.get("encoding", "pcm_s16le") != "pcm_s16le":
        raise BadStart("encoding: only pcm_s16le is supported")
    rate = start.get("sample_rate")
    if not isinstance(rate, int) or isinstance(rate, bool) or not MIN_RATE <= rate <= MAX_RATE:
        raise BadStart(f"sample_rate: must be an integer from {MIN_RATE} to {MAX_RATE}")
    return rate


def _start_message(text: str) -> dict[str, Any]:
    try:
        start = json.loads(text)
    except ValueError as exc:
        raise BadStart("start message is not JSON") from exc
    if not isinstance(start, dict) or start.get("type") != "start":
        raise BadStart('the first message must be {"type": "start", ...}')
    return start


async def websocket(request: web.Request) -> web.StreamResponse:
    """Upgrade to a WebSocket and run the consultation until either side hangs up.

    What can be refused before the upgrade is answered in JSON (404, 409); after it, with an
    error event and a close code (``4000 + status``). A duplicate socket never touches the
    live session; a failed start by whoever may join frees the slot at once.
    """
    runtime = request.app[RUNTIME]
    models = runtime.require_models()
    consultation = runtime.registry.get(request.match_info["id"])
    if optional_caller(request) is not None:
        check_access(request, consultation)  # a header token: refused before the upgrade
    if consultation.transport is not None:
        raise Conflict("consultation already joined", code="ALREADY_JOINED")
    ws = web.WebSocketResponse(heartbeat=20.0, max_msg_size=1 << 20)
    await ws.prepare(request)
    # Entitled: may end this consultation by a failed start (its owner, or anyone: a guest's).
    entitled = consultation.owner is None or optional_caller(request) is not None
    try:
        start = await _read_start(ws)
        if start is None:
            return ws
        await start_caller(request, consultation, start.get("access_token"))
        entitled = True
        rate = parse_start(start)
        consultation.claim("ws")
    except BadStart as exc:
        await _refuse(ws, {"type": "error", "code": "BAD_START", "message": str(exc)},
                      CLOSE_BAD_START)
        if entitled and consultation.transport is None:  # never another socket's live call
            await runtime.registry.close(consultation.id)
        return ws
    except ApiError as exc:
        await _refuse(ws, {"type": "error", "code": exc.code, "message": exc.message},
                      4000 + exc.status)
        return ws
    try:
        await WsPeer(ws, consultation, runtime, models, rate).run()
    finally:
        # aiohttp cancels the handler when the client's connection drops; the teardown must
        # still run to the end, so it runs as its own task.
        closing = runtime.background.spawn(runtime.registry.close(consultation.id),
                                name=f"ws-close-{consultation.id}")
        await asyncio.shield(closing)
    return ws


async def _read_start(ws: web.WebSocketResponse) -> dict[str, Any] | None:
    """The start message; None when the client left first."""
    try:
        msg = await ws.receive(timeout=START_TIMEOUT)
    except TimeoutError as exc:
        raise BadStart("no start message within 10 s") from exc
    if msg.type in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED, WSMsgType.ERROR):
        return None
    if msg.type is not WSMsgType.TEXT:
        raise BadStart("the first message must be the JSON start message")
    return _start_message(msg.data)


async def _refuse(ws: web.WebSocketResponse, error: dict[str, str], close_code: int) -> None:
    """Tell the client why (the ``error`` event), then close with ``close_code``."""
    if ws.closed:
        return
    try:
        await ws.send_json(error)
        await ws.close(code=close_code, message=error["code"].encode())
    except (ConnectionError, RuntimeError):
        log.info("WebSocket gone while refusing its start (%s)", error["code"])


class WsPeer:
    """One consultation over a WebSocket: reads audio in, writes events and paced audio out.

    Args:
        ws: the prepared WebSocket.
        consultation: the consultation it joins.
        runtime: the server's state (metrics, the escalation hook).
        models: the shared models for its live session.
        rate: the client's audio rate, both ways.
    """

    def __init__(self, ws: web.WebSocketResponse, consultation: Consultation, runtime: Runtime,
                 models: VoiceModels, rate: int) -> None:
        self.ws = ws
        self.consultation = consultation
        self.runtime = runtime
        self.rate = rate
        self.frame_samples = int(self.rate * FRAME_SECONDS)
        self._events: deque[dict[str, Any]] = deque()
        self._wake = asyncio.Event()
        self._sender: asyncio.Task[None] | None = None
        self._resampler: Any = None
        self._odd = b""  # a trailing byte of a split sample
        self._closed = False
        self.live = live = LiveSession(models, consultation.id, rate, self._queue_event,
                                       runtime.metrics, on_event=runtime.on_event)
        if self.rate != live.sample_rate:
            import soxr

            self._resampler = soxr.ResampleStream(self.rate, live.sample_rate, 1, dtype="int16")

    def _queue_event(self, event: dict[str, Any]) -> None:
        self._events.append(event)
        self._wake.set()

    async def run(self) -> None:
        """Serve the consultation until the client leaves or the server closes it."""
        self.consultation.join("ws", self.close, live=self.live)
        metrics = self.runtime.metrics
        metrics.sessions_active.labels(transport="ws").inc()
        metrics.sessions_total.labels(transport="ws").inc()
        try:
            await self.ws.send_json({"type": "ready", "sample_rate": self.rate,
                                     "encoding": "pcm_s16le"})
            await self.live.start()
            self._sender = asyncio.get_running_loop().create_task(
                self._send_loop(), name=f"ws-send-{self.consultation.id}")
            log.info("consultation %s joined over WebSocket at %d Hz", self.consultation.id,
                     self.rate)
            await self._receive_loop()
        finally:
            metrics.sessions_active.labels(transport="ws").dec()

    async def _receive_loop(self) -> None:
        async for msg in self.ws:
            if msg.type is WSMsgType.BINARY:
                await self._on_audio(msg.data)
            elif msg.type is WSMsgType.TEXT:
                if not await self._on_text(msg.data):
                    return
            elif msg.type is WSMsgType.ERROR:
                return

    async def _on_audio(self, data: bytes) -> None:
        data = self._odd + data
        cut = len(data) - len(data) % 2
        self._odd = data[cut:]
        samples = np.frombuffer(data[:cut], dtype="<i2").astype(np.int16)
        if self._resampler is not None:
            samples = self._resampler.resample_chunk(samples)
        if len(samples):
            await self.live.push_audio(samples, received_at=now())

    async def _on_text(self, text: str) -> bool:
        """Handle a control message; False ends the session."""
        try:
            kind = json.loads(text).get("type")
        except (ValueError, AttributeError):
            kind = None
        if kind in ("hangup", "stop"):
            return False
        self._queue_event({"type": "error", "code": "BAD_MESSAGE",
                           "message": 'expected binary audio or {"type": "hangup"}'})
        return True

    async def _send_loop(self) -> None:
        """Events as soon as they exist; reply audio one frame per 20 ms tick."""
        loop = asyncio.get_running_loop()
        next_tick = loop.time()
        try:
            while not self.ws.closed:
                delay = next_tick - loop.time()
                if delay > 0 and not self._events:
                    try:
                        async with asyncio.timeout(delay):
                            await self._wake.wait()
                    except TimeoutError:
                        pass
                self._wake.clear()
                while self._events:
                    await self.ws.send_str(json.dumps(self._events.popleft()))
                current = loop.time()
                if current >= next_tick:
                    audio = self.live.output.pull(self.frame_samples)
                    if audio is not None:
                        await self.ws.send_bytes(audio.astype("<i2").tobytes())
                    # Fell behind (a stalled loop): skip ahead rather than send a burst.
                    next_tick = max(next_tick + FRAME_SECONDS, current - 2 * FRAME_SECONDS)
        except (ConnectionError, RuntimeError):
            log.info("consultation %s: WebSocket gone while sending", self.consultation.id)

    async def close(self) -> None:
        """Stop sending, stop the pipeline and close the socket; safe to call twice."""
        if self._closed:
            return
        self._closed = True
        sender, self._sender = self._sender, None
        if sender is not None:
            sender.cancel()
            await asyncio.gather(sender, return_exceptions=True)
        await self.live.close()
        if not self.ws.closed:
            await self.ws.close(code=CLOSE_SHUTDOWN, message=b"consultation ended")
