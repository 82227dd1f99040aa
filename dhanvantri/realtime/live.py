"""One joined consultation's voice pipeline, shared by both transports.

The transport supplies ``send_event`` (a non-blocking JSON sender) and drains reply audio from
``output``; this class adds the per-turn metrics event and the Prometheus observations, and
takes what the physician desk addresses to the consultation: escalation news for the patient
and the commands of a physician on the call (see ``physician_link.py``).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Callable
from typing import Any

import numpy as np

from dhanvantri.background import Background
from dhanvantri.pipeline.frames import Direction, Frame, TurnEndFrame
from dhanvantri.pipeline.latency import TurnTimes
from dhanvantri.pipeline.output import ClientOutput
from dhanvantri.pipeline.voice import VoiceModels, VoiceSession
from dhanvantri.realtime.metrics import ServerMetrics

log = logging.getLogger(__name__)

EventSink = Callable[[dict[str, Any]], None]
EventHook = Callable[[str, dict[str, Any], EventSink], None]


class _TurnCounter:
    """Pipeline observer counting ended patient turns."""

    def __init__(self, metrics: ServerMetrics) -> None:
        self.metrics = metrics

    def on_push(self, source: object, frame: Frame, direction: Direction) -> None:
        if isinstance(frame, TurnEndFrame) and direction is Direction.DOWNSTREAM:
            self.metrics.turns.inc()


class LiveSession:
    """The voice pipeline of one consultation, producing audio at ``output_rate``.

    Args:
        models: the process's shared models.
        consultation_id: id for the PHI vault and logs.
        output_rate: sample rate the transport plays reply audio at.
        send_event: delivers a JSON event to the patient; must not block.
        metrics: where latencies are recorded.
        on_event: also sees every event, with a sender to the patient (escalation routing).
    """

    def __init__(self, models: VoiceModels, consultation_id: str, output_rate: int,
                 send_event: EventSink, metrics: ServerMetrics, *,
                 on_event: EventHook | None = None) -> None:
        if output_rate != models.settings.output_sample_rate:
            # The Speaker resamples TTS output to the rate the pipeline starts with.
            settings = models.settings.model_copy(update={"output_sample_rate": output_rate})
            models = dataclasses.replace(models, settings=settings)
        self.id = consultation_id
        self.sample_rate = models.settings.sample_rate
        self.event_sink = send_event  # the transport may swap it once its channel exists
        self._metrics = metrics
        self._on_event = on_event
        self.output = ClientOutput(output_rate, send_event=self.send_event)
        self.voice = VoiceSession(models, self.output, consultation_id=consultation_id,
                                  observers=[_TurnCounter(metrics)])
        self.voice.latency.on_reply_audio = self._on_reply_audio
        self.started = False
        # Called with the patient's audio (16 kHz int16) as it arrives: a listening physician.
        self.input_taps: list[Callable[[np.ndarray], None]] = []
        self.physician: Any = None  # the PhysicianLink while a physician is on the call
        self.avatar: Any = None  # the AvatarRenderer drawing this patient's video, if any
        self._tasks = Background(log, f"consultation {consultation_id}")

    def send_event(self, event: dict[str, Any]) -> None:
        """Deliver one JSON event to the patient (and to a physician on the call)."""
        self.event_sink(event)
        if self.physician is not None:
            self.physician.forward(event)
        if self._on_event is not None:
            self._on_event(self.id, event, self.receive)

    def receive(self, message: dict[str, Any]) -> None:
        """Take what the physician desk addresses to this consultation; must not block."""
        kind = message.get("type")
        if kind == "escalation_timeout":
            self.send_event(message)
            self.spawn(self.say(str(message.get("advice") or "")))  # told, not only shown
        elif kind == "escalation_accepted":
            self.send_event(message)
        elif self.physician is not None and self.physician.commands(message):
            self.spawn(self.physician.apply(message))
        else:
            log.warning("consultation %s: %s ignored (no physician on the call)", self.id, kind)

    async def say(self, text: str) -> None:
        """Speak fixed text to the patient now (it is not held for a turn)."""
        if text and not self.voice.task.ended:
            await self.voice.say(text, turn=self.output.committed_turn)

    def spawn(self, coro: Any) -> asyncio.Task[Any]:
        """Run ``coro`` until it ends or the session closes."""
        return self._tasks.spawn(coro, name=f"live-{self.id}")

    def _on_reply_audio(self, times: TurnTimes) -> None:
        self._metrics.observe_turn(times)
        self.send_event({"type": "metrics", "turn": times.turn,
                          "ms": times.ms_since(times.speech_end)})

    async def start(self) -> None:
        """Start the pipeline; tell the client it is listening."""
        await self.voice.start()
        self.started = True
        self.send_event({"type": "state", "value": "listening"})

    async def push_audio(self, audio: np.ndarray, received_at: float | None = None) -> None:
        """Patient audio, int16 mono at the pipeline rate (16 kHz)."""
        if not self.voice.task.ended:
            for tap in self.input_taps:
                tap(audio)
            await self.voice.push_audio(audio, received_at=received_at)

    async def close(self) -> None:
        """Stop the pipeline (and a physician's link) now and drop queued reply audio."""
        await self._tasks.cancel_all()
        if self.physician is not None:
            await self.physician.close()
        self.output.playout.clear()
        self.output.viseme_listeners.clear()
        await self.voice.cancel()
        await asyncio.sleep(0)
        self._reap_stages()
        log.info("session %s pipeline closed", self.id)

    def _reap_stages(self) -> None:
        """Make sure no stage task outlives the session.

        A frame an upstream stage pushes in the instant before the cancel reaches it (or a
        transcription finishing in its worker thread afterwards) restarts the downstream stage's
        task after that stage shut down, and the task would then wait on its queue forever.
        """
        for stage in self.voice.task.processors:
            stage._ensure_task = _no_task  # type: ignore[method-assign]
            task = stage._task
            if task is not None and not task.done():
                task.cancel()


def _no_task() -> None:
    """A closed session's stages start no new task."""
