"""A physician on a live consultation: what they hear and see, and the modes they switch.

* ``listen``: the assistant goes on. The physician hears the patient and the assistant, and
  sees the transcript and the assistant's working notes (red flags, intake state, the draft).
* ``takeover``: the assistant stops at once and answers nothing; the physician's voice is mixed
  into what the patient hears, and their speech is transcribed and kept like the patient's.
* ``handback`` (or ``listen`` again): the assistant resumes, with the physician's notes and
  words (tokenised) in its context and in the draft.
* ``leave``: the physician hangs up; a call they had taken goes back to the assistant.
* ``end``: the physician ends the consultation: the patient is shown ``{"type":
  "ended_by_physician"}`` and told so aloud, then the call ends and its record closes as
  ``physician_ended``.

The patient sees a "doctor joined" badge (page and avatar) and hears the assistant say so. The
link is transport-agnostic: the physician's transport feeds :meth:`PhysicianLink.push_audio`
and plays :meth:`PhysicianLink.next_audio`. The live session wires the link in itself
(``attach_physician``); mode changes reach the assistant as frames through its pipeline.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Protocol

import numpy as np

from dhanvantri.desk.desk import COMMANDS
from dhanvantri.pipeline.frames import Frame, InputAudioFrame, TranscriptionFrame
from dhanvantri.pipeline.playout import LiveFeed, mix
from dhanvantri.pipeline.task import PipelineTask
from dhanvantri.pipeline.transcriber import Transcriber
from dhanvantri.pipeline.turn_detector import TurnDetector
from dhanvantri.pipeline.vad_silero import SileroVAD
from dhanvantri.pipeline.voice import VoiceModels, VoiceSession

log = logging.getLogger(__name__)

EventSink = Callable[[dict[str, Any]], None]
# Events of the consultation the physician's screen shows (not visemes or latency metrics).
FORWARDED = frozenset({"transcript", "state", "escalation", "escalation_accepted",
                       "escalation_timeout", "draft_ready", "doctor"})
SCRIBE_RATE = 16000
SCRIBE_PARTIAL_MS = 1000  # the physician's partial transcripts: fewer, to spare the CPU
PHYSICIAN_ENDED = "physician_ended"  # the record's end reason when a physician ends the call


class Call(Protocol):
    """What a link needs of the live consultation (``dhanvantri.realtime.live.LiveSession``)."""

    id: str
    sample_rate: int  # of the patient's audio
    voice: VoiceSession

    @property
    def output_rate(self) -> int: ...

    def send_event(self, event: dict[str, Any]) -> None: ...

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]: ...

    async def say(self, text: str) -> None: ...

    def set_badge(self, text: str | None) -> None: ...

    def attach_physician(self, link: PhysicianLink) -> None: ...

    def detach_physician(self, link: PhysicianLink) -> None: ...

    async def end(self, reason: str, farewell: str = "") -> None: ...


def resampler(source: int, target: int) -> Callable[[np.ndarray], np.ndarray]:
    """A streaming int16 mono resampler (identity when the rates match)."""
    if source == target:
        return lambda audio: audio
    import soxr

    stream = soxr.ResampleStream(source, target, 1, dtype="int16")
    return lambda audio: stream.resample_chunk(audio)


class PhysicianLink:
    """One physician joined to one live consultation.

    Args:
        live: the consultation's live session (this process holds it).
        models: the shared models (speech-to-text for the physician's words).
        physician_id: who joined (commands must carry the same id).
        name: how the patient is told who joined.
        send_event: delivers a JSON event to the physician; must not block.
        on_close: tears down the physician's transport when the link ends.
        rate: the physician's audio rate, in and out.
    """

    def __init__(self, live: Call, models: VoiceModels, *, physician_id: str, name: str,
                 send_event: EventSink, on_close: Callable[[], Awaitable[None]] | None = None,
                 rate: int = 48000) -> None:
        self.live = live
        self.physician_id = physician_id
        self.name = name.strip() or "A doctor"
        self.send_event = send_event
        self.on_close = on_close
        self.rate = rate
        self.mode = "listen"
        self.closed = False
        self._joined = False
        patient_rate = live.output_rate
        # What the physician hears: the patient's voice and the assistant's replies.
        self.patient_voice, self.reply = LiveFeed(rate), LiveFeed(rate)
        self._from_patient = resampler(live.sample_rate, rate)
        self._from_reply = resampler(patient_rate, rate)
        # The physician's voice as the patient hears it (it carries sound only while they have
        # the call).
        self.to_patient = LiveFeed(patient_rate)
        self._to_patient = resampler(rate, patient_rate)
        self._to_scribe = resampler(rate, SCRIBE_RATE)
        settings = models.settings
        self.scribe = PipelineTask(
            [TurnDetector(SileroVAD(), threshold=settings.vad_threshold,
                          min_speech_ms=settings.vad_min_speech_ms,
                          hangover_ms=settings.vad_hangover_ms, sample_rate=SCRIBE_RATE),
             Transcriber(models.stt, partial_interval_ms=SCRIBE_PARTIAL_MS)],
            on_output=self._on_scribe)
        self._notes_sent: dict[str, Any] | None = None
        self._lock = asyncio.Lock()

    # ------------------------------------------------------------------ joining
    async def start(self) -> None:
        """Join: hear the call, see the notes; the patient is told and shown."""
        await self.scribe.start(sample_rate=SCRIBE_RATE, output_sample_rate=self.rate)
        live = self.live
        live.attach_physician(self)
        self._joined = True
        self.send_event({"type": "joined", "consultation_id": live.id, "mode": self.mode})
        self.send_notes()
        self._show_patient(joined=True)
        await live.say(f"{self.name} has joined the call and is listening.")
        log.info("consultation %s: physician joined", live.id)

    def commands(self, message: dict[str, Any]) -> bool:
        """Whether ``message`` is a command from this physician."""
        return (message.get("type") in COMMANDS
                and str(message.get("physician_id")) == self.physician_id)

    async def apply(self, message: dict[str, Any]) -> None:
        """Run one command (in the order they came)."""
        async with self._lock:
            if self.closed:
                return
            kind, notes = message["type"], str(message.get("notes") or "")
            if kind == "takeover" and self.mode != "takeover":
                await self._take_over()
            elif kind in ("handback", "listen") and self.mode == "takeover":
                await self._hand_back(notes)
                await self.live.say(f"{self.name} has handed the call back to me. "
                                    "I am here if there is anything else.")
            elif kind == "handback":
                await self.live.voice.take_back(notes)  # only the notes: the assistant has it
            elif kind == "leave":
                await self.close()
                return
            elif kind == "end":
                await self._end()
                return
            self.send_event({"type": "mode", "mode": self.mode})

    async def _take_over(self) -> None:
        self.mode = "takeover"
        await self.live.voice.hand_over()  # the assistant is silent from here
        self.to_patient.clear()
        self._show_patient(joined=True)
        log.info("consultation %s: physician took over", self.live.id)

    async def _hand_back(self, notes: str) -> None:
        self.mode = "listen"
        self.to_patient.clear()  # their voice stops reaching the patient at once
        await self.live.voice.take_back(notes)
        self._show_patient(joined=True)
        log.info("consultation %s: handed back to the assistant", self.live.id)

    async def _end(self) -> None:
        log.info("consultation %s: the physician ends it", self.live.id)
        self.live.send_event({"type": "ended_by_physician", "name": self.name})
        await self.live.end(PHYSICIAN_ENDED, farewell=(
            f"{self.name} has ended the consultation. Thank you for talking with us, and "
            "take care."))

    # ------------------------------------------------------------------ audio
    def hear_patient(self, audio: np.ndarray) -> None:
        """The patient's audio as it arrives (int16 at the pipeline rate)."""
        self.patient_voice.push(self._from_patient(audio))

    def hear_reply(self, audio: np.ndarray) -> None:
        """The assistant's reply as the patient hears it (int16 at the output rate)."""
        self.reply.push(self._from_reply(audio))

    async def push_audio(self, audio: np.ndarray) -> None:
        """The physician's microphone (int16 mono at ``rate``)."""
        if self.closed:
            return
        if self.mode == "takeover":
            self.to_patient.push(self._to_patient(audio))
            speech = self._to_scribe(audio)
            if len(speech):
                await self.scribe.queue_frame(InputAudioFrame(audio=speech,
                                                              sample_rate=SCRIBE_RATE))

    def next_audio(self, samples: int) -> np.ndarray:
        """The next ``samples`` the physician hears (silence when nobody speaks)."""
        heard = mix([self.patient_voice.pull(samples), self.reply.pull(samples)])
        return heard if heard is not None else np.zeros(samples, dtype=np.int16)

    # ------------------------------------------------------------------ what they see
    def forward(self, event: dict[str, Any]) -> None:
        """A consultation event the physician's screen shows too."""
        if event.get("type") in FORWARDED and not self.closed:
            self.send_event(event)

    def send_notes(self) -> None:
        """Send the assistant's working notes when they changed."""
        notes = self.live.voice.guide.notes()
        if notes != self._notes_sent and not self.closed:
            self._notes_sent = notes
            self.send_event({"type": "notes", **notes})

    def _on_scribe(self, frame: Frame) -> None:
        if not isinstance(frame, TranscriptionFrame) or not frame.text.strip():
            return
        self.live.send_event({"type": "transcript", "role": "physician", "text": frame.text,
                              "final": frame.final})
        if frame.final:  # kept (tokenised) for the context and the draft
            self.live.spawn(self.live.voice.add_physician_note(frame.text))

    def _show_patient(self, joined: bool) -> None:
        mode = self.mode if joined else None
        self.live.send_event({"type": "doctor", "joined": joined, "name": self.name,
                              "mode": mode})
        badge = None
        if joined:
            badge = f"{self.name} is speaking" if mode == "takeover" else f"{self.name} joined"
        self.live.set_badge(badge)

    # ------------------------------------------------------------------ leaving
    async def close(self) -> None:
        """Leave the call (the patient hung up, or the physician did); safe to call twice."""
        if self.closed:
            return
        live = self.live
        if self._joined:
            if self.mode == "takeover":
                await self._hand_back("")
            self._show_patient(joined=False)
        self.closed = True
        live.detach_physician(self)
        await self.scribe.cancel()
        log.info("consultation %s: physician left", live.id)
        if self.on_close is not None:
            await self.on_close()
