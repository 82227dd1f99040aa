"""Every frame type that flows through the pipeline.

Frames are immutable (``dataclasses.replace`` makes changed copies) and carry the monotonic time
they were made, so observers can measure latency without the stages timing themselves. Fields
holding patient text or audio are left out of ``repr`` so a logged frame never leaks PHI.

Three kinds, as in Pipecat: *system* frames (interruptions, errors, metrics) bypass queues and are
handled at once; *control* frames and *data* frames keep their order and are dropped on barge-in.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import numpy as np

_ids = itertools.count(1)


def now() -> float:
    """The clock every frame timestamp uses (monotonic seconds)."""
    return time.monotonic()


class Direction(Enum):
    """Which way a frame travels: towards the output (down) or back towards the input (up)."""

    DOWNSTREAM = 1
    UPSTREAM = 2


@dataclass(frozen=True, kw_only=True, slots=True)
class Frame:
    """Base frame: a unique id, the time it was made and the turn it belongs to."""

    id: int = field(default_factory=lambda: next(_ids))
    created: float = field(default_factory=now)
    turn: int = 0


# ---------------------------------------------------------------- system frames (bypass queues)
@dataclass(frozen=True, kw_only=True, slots=True)
class SystemFrame(Frame):
    """Handled immediately, ahead of anything queued."""


@dataclass(frozen=True, kw_only=True, slots=True)
class StartFrame(SystemFrame):
    """The pipeline is starting; processors open resources."""

    sample_rate: int = 16000
    output_sample_rate: int = 48000


@dataclass(frozen=True, kw_only=True, slots=True)
class CancelFrame(SystemFrame):
    """Stop now, dropping everything queued."""


@dataclass(frozen=True, kw_only=True, slots=True)
class InterruptionFrame(SystemFrame):
    """Barge-in: the patient spoke over the reply. Queued output is dropped, speech stops."""


@dataclass(frozen=True, kw_only=True, slots=True)
class UserStartedSpeakingFrame(SystemFrame):
    """The voice activity detector heard speech begin."""

    speech_start_at: float = 0.0


@dataclass(frozen=True, kw_only=True, slots=True)
class SpeechOnsetFrame(SystemFrame):
    """One chunk of speech outside a turn: the patient may be starting to talk.

    Barge-in proper waits for enough speech to be sure (``min_speech_ms``); the reply audio is
    held from this first chunk, so it stops within one chunk of the patient's voice. A
    :class:`SpeechOnsetVoidFrame` releases it when the sound was too short to be a turn.
    """


@dataclass(frozen=True, kw_only=True, slots=True)
class SpeechOnsetVoidFrame(SystemFrame):
    """The speech of the last :class:`SpeechOnsetFrame` stopped short of a turn: play on."""


@dataclass(frozen=True, kw_only=True, slots=True)
class RedFlagFrame(SystemFrame):
    """Red flags heard in the patient's words, as ids only (no text): the emergency path.

    Checked on every partial transcript (``confirmed=False``: the advice's speech is made ready)
    and on the final one before its redaction (``confirmed=True``: the advice is said at once).
    ``advice`` is the fixed texts to say, in order (the same for everyone: no patient text).
    """

    red_flags: tuple[str, ...] = ()
    advice: tuple[str, ...] = ()
    confirmed: bool = False


@dataclass(frozen=True, kw_only=True, slots=True)
class ErrorFrame(SystemFrame):
    """A stage failed. ``fatal`` ends the session; otherwise the session carries on."""

    category: str = "INTERNAL"  # the code the client sees (UPPER_SNAKE, like every error code)
    message: str = ""
    source: str = ""
    fatal: bool = False


@dataclass(frozen=True, kw_only=True, slots=True)
class MetricsFrame(SystemFrame):
    """A measurement made by a stage (e.g. model time), read by observers."""

    name: str = ""
    value_ms: float = 0.0


@dataclass(frozen=True, kw_only=True, slots=True)
class TurnCommittedFrame(SystemFrame):
    """The turn is over for sure (the hangover passed): its held reply audio may play.

    The reply is prepared speculatively from the first pause; this frame overtakes every queue
    so the output can release it the moment the turn is certain.
    """


# ---------------------------------------------------------------- physician hand-over
# System frames, so the assistant falls silent the moment a physician takes the call and so a
# barge-in never drops them: a control frame would wait behind the turn in progress and be lost
# to the next interruption, and a physician's words must never be lost.
@dataclass(frozen=True, kw_only=True, slots=True)
class HandOverFrame(SystemFrame):
    """A physician takes the call: the assistant keeps listening but says nothing."""


@dataclass(frozen=True, kw_only=True, slots=True)
class HandBackFrame(SystemFrame):
    """The physician hands the call back; ``notes`` (tokenised by the Redactor) join the context."""

    notes: str = field(default="", repr=False)


@dataclass(frozen=True, kw_only=True, slots=True)
class PhysicianNoteFrame(SystemFrame):
    """Something the physician said or wrote; the Redactor tokenises it on its way."""

    text: str = field(repr=False)


# ---------------------------------------------------------------- control frames (ordered)
@dataclass(frozen=True, kw_only=True, slots=True)
class ControlFrame(Frame):
    """Ordered with data; dropped on barge-in."""


@dataclass(frozen=True, kw_only=True, slots=True)
class EndFrame(ControlFrame):
    """Graceful end: everything queued before it is processed first."""


@dataclass(frozen=True, kw_only=True, slots=True)
class UserPausedFrame(ControlFrame):
    """Speech stopped briefly; the turn may be ending (stages may start work speculatively)."""

    speech_end_at: float = 0.0


@dataclass(frozen=True, kw_only=True, slots=True)
class UserResumedFrame(ControlFrame):
    """Speech resumed after a pause: speculative work on the pause is void."""


@dataclass(frozen=True, kw_only=True, slots=True)
class TurnEndFrame(ControlFrame):
    """The patient finished their turn. ``speech_end_at`` is the time of the last speech sample."""

    speech_end_at: float = 0.0


@dataclass(frozen=True, kw_only=True, slots=True)
class ReplyStartFrame(ControlFrame):
    """The assistant's reply to ``turn`` begins."""


@dataclass(frozen=True, kw_only=True, slots=True)
class ReplyEndFrame(ControlFrame):
    """The assistant's reply to ``turn`` is complete (all text produced)."""


# ---------------------------------------------------------------- data frames (ordered)
@dataclass(frozen=True, kw_only=True, slots=True)
class DataFrame(Frame):
    """Ordered payload; dropped on barge-in when downstream of the interruption."""


@dataclass(frozen=True, kw_only=True, slots=True)
class InputAudioFrame(DataFrame):
    """Patient audio: int16 mono samples. ``received_at`` is when its last sample arrived."""

    audio: np.ndarray = field(repr=False)
    sample_rate: int = 16000
    received_at: float = field(default_factory=now)


@dataclass(frozen=True, kw_only=True, slots=True)
class TranscriptionFrame(DataFrame):
    """Speech-to-text output. Raw patient text: only the patient may see it."""

    text: str = field(repr=False)
    final: bool = False
    role: str = "patient"
    # Clinical terms in ``text`` that were corrected from a near-miss or heard with low
    # confidence: the assistant reads them back for the patient to confirm.
    unsure: tuple[str, ...] = field(default=(), repr=False)


@dataclass(frozen=True, kw_only=True, slots=True)
class RedactedTranscriptionFrame(DataFrame):
    """The patient's final turn with PHI replaced by tokens; safe for the LLM and retrieval."""

    text: str = field(repr=False)
    entity_count: int = 0
    unsure: tuple[str, ...] = field(default=(), repr=False)  # see TranscriptionFrame.unsure


@dataclass(frozen=True, kw_only=True, slots=True)
class KnowledgeFrame(DataFrame):
    """Passages retrieved for the turn (from the redacted text only)."""

    passages: tuple[Any, ...] = field(default=(), repr=False)


@dataclass(frozen=True, kw_only=True, slots=True)
class GuidanceFrame(DataFrame):
    """What the clinical logic decided to say next; the LLM only phrases it."""

    instruction: str = field(repr=False)
    topic: str = ""
    # What was understood from the patient's turn, said before the instruction (may be empty).
    acknowledgement: str = field(default="", repr=False)


@dataclass(frozen=True, kw_only=True, slots=True)
class ListeningFrame(ControlFrame):
    """Sent upstream by the clinical logic with each question: what the patient is about to
    answer, so speech-to-text can listen for the words that answer it. No patient text."""

    topic: str = ""
    question: str = field(default="", repr=False)


@dataclass(frozen=True, kw_only=True, slots=True)
class LLMTextFrame(DataFrame):
    """A streamed piece of the assistant's reply (may hold PHI tokens such as <PERSON_1>).

    ``ends_phrase``: the reply so far is a whole phrase, to be spoken now however short (an
    opening said while the model writes the rest: "I see." must not wait for its words)."""

    text: str = field(repr=False)
    ends_phrase: bool = False


@dataclass(frozen=True, kw_only=True, slots=True)
class SpeakFrame(DataFrame):
    """A speakable phrase for text-to-speech.

    ``canned`` marks fillers that are not the reply itself; ``vetted`` marks fixed text from the
    clinical logic (emergency instructions) that the reply guard lets through.
    """

    text: str = field(repr=False)
    canned: bool = False
    vetted: bool = False


@dataclass(frozen=True, kw_only=True, slots=True)
class OutputAudioFrame(DataFrame):
    """Reply audio, int16 mono. ``canned`` audio does not count as the reply's first audio."""

    audio: np.ndarray = field(repr=False)
    sample_rate: int = 48000
    canned: bool = False
    phonemes: tuple[tuple[str, int], ...] = field(default=(), repr=False)
    phoneme_rate: int = 0  # sample rate the phoneme lengths are counted in


@dataclass(frozen=True, kw_only=True, slots=True)
class VisemeFrame(DataFrame):
    """Mouth shapes for the audio frame with the same ``audio_id``: (viseme, start_ms, dur_ms)."""

    audio_id: int = 0
    visemes: tuple[tuple[str, int, int], ...] = ()


@dataclass(frozen=True, kw_only=True, slots=True)
class EventFrame(SystemFrame):
    """A JSON event for the client (transcripts, state, escalation, metrics); never queued."""

    event: dict[str, Any] = field(repr=False)


@dataclass(frozen=True, kw_only=True, slots=True)
class EscalationFrame(SystemFrame):
    """A physician is needed now (red flag, uncertainty or the patient asked)."""

    reason: str = ""
    red_flags: tuple[str, ...] = ()
    emergency: bool = False
    topics: tuple[str, ...] = ()  # intake so far, as identifiers (symptom keys), never text
