"""One joined consultation's voice pipeline, shared by both transports.

The transport supplies ``send_event`` (a non-blocking JSON sender) and drains reply audio from
``output``; this class adds the per-turn metrics event and the Prometheus observations, and
takes what the physician desk addresses to the consultation: escalation news for the patient
and the commands of a physician on the call (see ``desk/physician_link.py``). A physician joins
through :meth:`LiveSession.attach_physician`, which wires what they hear, say and see, and may
end the call (:meth:`LiveSession.end`).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from dhanvantri.background import Background
from dhanvantri.pipeline.frames import Direction, Frame, TurnEndFrame
from dhanvantri.pipeline.latency import TurnTimes
from dhanvantri.pipeline.output import ClientOutput
from dhanvantri.pipeline.voice import VoiceModels, VoiceSession
from dhanvantri.realtime.memory import release_free_memory
from dhanvantri.realtime.metrics import ServerMetrics

if TYPE_CHECKING:
    from dhanvantri.desk.physician_link import PhysicianLink

log = logging.getLogger(__name__)

EventSink = Callable[[dict[str, Any]], None]
EventHook = Callable[[str, dict[str, Any], EventSink], None]
# The longest a farewell may hold an ending call open: a transport that stopped playing audio
# (a stalled peer connection) must not keep the call alive. A sentence takes ~5 s to say.
FAREWELL_LIMIT_S = 20.0


class Badge(Protocol):
    """Where the patient sees who is on the call (the avatar's renderer)."""

    def set_badge(self, text: str | None) -> None: ...


class Video(Protocol):
    """A visit's video (``transport/visit_video.py``): how the call was held, for the record."""

    @property
    def mode(self) -> str: ...


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
        on_event: also sees every event, with a sender to the patient (escalation routing,
            the consultation record); after :meth:`close` it sees one last ``{"type":
            "ended"}`` (with ``reason`` when the server ended the call) that the patient does not
            get, and :meth:`end` asks it to hang up with ``{"type": "hang_up"}``.
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
        self._event_sink = send_event
        self._metrics = metrics
        self._on_event = on_event
        self.output = ClientOutput(output_rate, send_event=self.send_event)
        self.voice = VoiceSession(models, self.output, consultation_id=consultation_id,
                                  observers=[_TurnCounter(metrics)],
                                  on_reply_audio=self._on_reply_audio)
        self.started = False
        self._physician: PhysicianLink | None = None
        self._badge: Badge | None = None
        # A booked visit's video (the patient's WebRTC peer sets it; the physician's finds it).
        self.video: Video | None = None
        self._tasks = Background(log, f"consultation {consultation_id}")
        self._ended = False
        self._end_reason: str | None = None
        # Follow the playout state: a farewell is let play to its end before the hang-up.
        self._audible, self._silent = asyncio.Event(), asyncio.Event()

    @property
    def output_rate(self) -> int:
        """The rate the patient hears reply audio at."""
        return self.output.playout.sample_rate

    @property
    def physician(self) -> PhysicianLink | None:
        """The physician on the call, if one joined."""
        return self._physician

    def send_event(self, event: dict[str, Any]) -> None:
        """Deliver one JSON event to the patient (and to a physician on the call)."""
        if event.get("type") == "state":
            speaking = event.get("value") == "speaking"
            # "thinking" (a turn just ended) can come while a reply still plays: silence is
            # when the playout stops, or a state change finds it stopped.
            if speaking or not self.output.playout.playing:
                (self._audible if speaking else self._silent).set()
                (self._silent if speaking else self._audible).clear()
        self._event_sink(event)
        if self._physician is not None:
            self._physician.forward(event)
        if self._on_event is not None:
            self._on_event(self.id, event, self.receive)

    def receive(self, message: dict[str, Any]) -> None:
        """Take what the physician desk addresses to this consultation; must not block."""
        kind = message.get("type")
        if kind in ("escalation_timeout", "escalation_resolved"):
            self.send_event(message)
            self.spawn(self.say(str(message.get("advice") or "")))  # told, not only shown
        elif kind == "escalation_accepted":
            self.send_event(message)
        elif self._physician is not None and self._physician.commands(message):
            self.spawn(self._physician.apply(message))
        else:
            log.warning("consultation %s: %s ignored (no physician on the call)", self.id, kind)

    # ------------------------------------------------------------------ what the record reads
    def tokenize(self, text: str) -> str:
        """``text`` with identifiers replaced by this consultation's tokens (the Redactor's
        vault, so the same person gets the same token); blocking: call from a thread."""
        return str(self.voice.vault.tokenize(text).text)

    def clinical_record(self) -> dict[str, Any]:
        """The clinical notes as data: structured intake, red flags, draft, physician notes."""
        return self.voice.guide.record()

    @property
    def held_as(self) -> str:
        """How the call was held: ``"video"`` once video flowed both ways in a visit, else
        ``"audio"``."""
        return self.video.mode if self.video is not None else "audio"

    # ------------------------------------------------------------------ who else is on the call
    def attach_physician(self, link: PhysicianLink) -> None:
        """A physician joins: they hear the patient and the replies, their voice is mixed into
        what the patient hears (while they speak to the patient), and they see the notes."""
        if self._physician is not None:
            raise RuntimeError(f"consultation {self.id}: a physician is already on the call")
        self._physician = link
        self.output.add_tap(link.hear_reply)
        self.output.add_feed(link.to_patient)
        self.voice.guide.add_notes_listener(link.send_notes)

    def detach_physician(self, link: PhysicianLink) -> None:
        """The physician left; a link that is not the one on the call is ignored."""
        if self._physician is not link:
            return
        self._physician = None
        self.output.remove_tap(link.hear_reply)
        self.output.remove_feed(link.to_patient)
        self.voice.guide.remove_notes_listener(link.send_notes)

    def attach_badge(self, badge: Badge) -> None:
        """Show who is on the call on ``badge`` (the avatar the patient sees)."""
        self._badge = badge

    def set_badge(self, text: str | None) -> None:
        """Show ``text`` on the patient's avatar (None: no badge); ignored without an avatar."""
        if self._badge is not None:
            self._badge.set_badge(text)

    # ------------------------------------------------------------------ the call
    async def say(self, text: str) -> None:
        """Speak fixed text to the patient now (it is not held for a turn)."""
        if text and not self.voice.task.ended:
            await self.voice.say(text, turn=self.output.committed_turn)

    async def end(self, reason: str, farewell: str = "") -> None:
        """End the call from the server's side (a physician ended it).

        ``farewell`` is said and let play to its end (at most ``FAREWELL_LIMIT_S``); then the
        observers are asked to hang up (``{"type": "hang_up"}``: the server tears the transport
        down, which closes this session) and the record closes with ``reason``.
        """
        self._end_reason = reason
        if farewell and not self.voice.task.ended:
            try:
                async with asyncio.timeout(FAREWELL_LIMIT_S):
                    await self._silent.wait()  # a reply being played ends first
                    await self.say(farewell)
                    await self._audible.wait()
                    await self._silent.wait()
            except TimeoutError:
                log.warning("consultation %s: the farewell did not finish playing", self.id)
        log.info("consultation %s: ending (%s)", self.id, reason)
        if self._on_event is not None:
            self._on_event(self.id, {"type": "hang_up", "reason": reason}, self.receive)

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
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
            if self._physician is not None:
                self._physician.hear_patient(audio)
            await self.voice.push_audio(audio, received_at=received_at)

    async def close(self, reason: str | None = None) -> None:
        """Stop the pipeline (and a physician's link) now and drop queued reply audio.

        Every stage is closed once the cancel has passed: none starts a task again.

        Args:
            reason: why the call ended, for the record (default: the one :meth:`end` was
                given; None leaves it to the observers, e.g. a hang-up or a shutdown).
        """
        reason = reason or self._end_reason
        try:
            await self._tasks.cancel_all()
            if self._physician is not None:
                await self._physician.close()
            self.output.close()
            await self.voice.cancel()
            log.info("session %s pipeline closed", self.id)
            # The pipeline's native buffers are free now but glibc keeps them: give them back,
            # or every call leaves the server a few MB larger (benchmarks/soak.py).
            await asyncio.to_thread(release_free_memory)
        finally:
            if not self._ended and self._on_event is not None:
                # Observers only (the record closes on it): the patient has gone.
                self._ended = True
                ended: dict[str, Any] = {"type": "ended"}
                if reason is not None:
                    ended["reason"] = reason
                self._on_event(self.id, ended, self.receive)
