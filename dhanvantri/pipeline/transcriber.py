"""Speech-to-text that keeps up with the patient, so little is left to do at the end of the turn.

While the patient speaks, the growing buffer is re-decoded every ``partial_interval_ms`` and the
words two decodes agree on become a forced prefix for the next (local agreement). When the
voice activity detector reports a pause, the final decode starts at once on the audio so far,
and its result is sent on as the final transcript as soon as it is ready, even before the turn
is certain, so the reply can be prepared during the hangover. If the patient speaks again, the
turn detector voids that work (an interruption) and a new final follows at the next pause.

Decodes run on worker threads; their results come back to the stage's own task
(:meth:`~dhanvantri.pipeline.processor.FrameProcessor.when_done`), which alone pushes frames.

With a :class:`Hearing` the stage listens like a clinician: each :class:`ListeningFrame` (the
question just asked, sent upstream by the clinical logic) becomes the decoder's prompt, and the
final words are checked against the clinical vocabulary; terms corrected or heard with low
confidence travel on as ``TranscriptionFrame.unsure`` for the patient to confirm.
"""

from __future__ import annotations

import asyncio
import functools
import re
import time
from collections.abc import Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from dhanvantri.pipeline.decode_gate import DecodeGate
from dhanvantri.pipeline.frames import (
    Direction,
    Frame,
    InputAudioFrame,
    ListeningFrame,
    MetricsFrame,
    TranscriptionFrame,
    TurnEndFrame,
    UserPausedFrame,
    UserResumedFrame,
    UserStartedSpeakingFrame,
    now,
)
from dhanvantri.pipeline.priority import lower_thread_priority
from dhanvantri.pipeline.processor import FrameProcessor
from dhanvantri.pipeline.services import HeardWord, SpeechToText, Transcript


class Heard(Protocol):
    """Final words after the vocabulary check (``dhanvantri.knowledge.hearing.Hearing``)."""

    @property
    def text(self) -> str: ...

    @property
    def unsure(self) -> tuple[str, ...]: ...


class Hearing(Protocol):
    """What to listen for, and how to check what was heard (``dhanvantri.knowledge.hearing``)."""

    def listening_prompt(self, topic: str, question: str = "") -> str: ...

    def correct(self, words: Sequence[HeardWord], topic: str = "") -> Heard: ...


def agreed_prefix(
    previous: tuple[int, ...], current: tuple[int, ...], holdback: int = 1
) -> tuple[int, ...]:
    """Tokens both decodes agree on, minus the last ``holdback`` (the word may be unfinished)."""
    n = 0
    for a, b in zip(previous, current, strict=False):
        if a != b:
            break
        n += 1
    return current[: max(0, n - holdback)]


_WORD = re.compile(r"[a-z0-9']+")


def without_restart(text: str) -> str:
    """``text`` up to where the decode started the turn over, if it did.

    Whisper (greedy, on a padded window) sometimes reaches the end of the speech and goes round
    again: "No rash and no vomiting. No rash and no vomiting. No rash". The opening three words
    coming back is taken as that (a patient repeating their first three words verbatim within
    one turn is far rarer), and the text is cut there. Words are compared, not tokens: " no"
    after a full stop is another token than the opening "no".
    """
    words = [(m.group(), m.start()) for m in _WORD.finditer(text.lower())]
    opening = [w for w, _ in words[:3]]
    if len(opening) < 3:
        return text
    for i in range(3, len(words) - 2):
        if [w for w, _ in words[i:i + 3]] == opening:
            return text[:words[i][1]].rstrip(" ,;")
    return text


MAX_WORDS_PER_SECOND = 4.5  # brisk speech is ~3; more is text the audio cannot hold
ECHO_RUN = 4  # words in a row shared with the prompt


def echoes_prompt(text: str, prompt: str, seconds: float) -> bool:
    """Whether a decode copied its prompt instead of hearing the audio.

    Whisper sometimes continues its previous text: "Not allergic." came out as "I am allergic
    to any medicine or food." after the question "Are you allergic to any medicine or food?",
    the negation lost. Four words in a row from the prompt, one of its words three times over,
    or more words than the audio can hold, mark such a decode.
    """
    words = _WORD.findall(text.lower())
    if len(words) >= 4 and len(words) > MAX_WORDS_PER_SECOND * seconds:
        return True
    said = _WORD.findall(prompt.lower())
    # A word of the prompt three times in a row: "cough, cough, cough" for Hindi words.
    if any(a == b == c and a in said for a, b, c in zip(words, words[1:], words[2:], strict=False)):
        return True
    runs = {tuple(said[i:i + ECHO_RUN]) for i in range(len(said) - ECHO_RUN + 1)}
    return any(tuple(words[i:i + ECHO_RUN]) in runs for i in range(len(words) - ECHO_RUN + 1))


@dataclass(frozen=True, slots=True)
class Final:
    """A turn's final transcript and the clinical terms in it to read back."""

    text: str = field(repr=False)
    unsure: tuple[str, ...] = field(default=(), repr=False)


def hear_final(
    stt: SpeechToText,
    audio: np.ndarray,
    *,
    prompt: str = "",
    topic: str = "",
    hearing: Hearing | None = None,
    sample_rate: int = 16000,
) -> Final:
    """A turn's final words (blocking): decoded with the listening ``prompt`` (once more
    without it if the decode copied it), checked against the clinical vocabulary, and without a
    decode's second time round (the record keeps them)."""
    result = stt.transcribe(audio, prompt=prompt)
    if prompt and echoes_prompt(result.text, prompt, len(audio) / sample_rate):
        result = stt.transcribe(audio)
    text, unsure = result.text, tuple[str, ...]()
    if hearing is not None and result.words:
        heard = hearing.correct(result.words, topic)
        text, unsure = heard.text, heard.unsure
    text = without_restart(text)
    return Final(text, tuple(t for t in unsure if t.lower() in text.lower()))


class Transcriber(FrameProcessor):
    """Emits partial and final :class:`TranscriptionFrame` for each patient turn.

    Args:
        stt: the speech-to-text model (blocking). Partial decodes run on their own worker
            thread, so a final decode never queues behind one.
        partial_interval_ms: how much new audio triggers another partial decode.
        hearing: the clinical vocabulary to prompt and check the decodes with (None: plain).
        gate: the process's :class:`DecodeGate` (None: one of the stage's own), which holds
            partial decodes back while a final decode or a synthesis runs in the process.
        partial_nice: the nice value of the partial decodes' thread (see :mod:`.priority`).
        busy_wait_ms: how much longer a pause must last before its final decode starts
            while other work runs in the process. A pause may be a breath mid-sentence: at
            the turn detector's first pause (96 ms) about one decode in three was thrown
            away when the patient went on, at ~0.2 s of a core each; when the cores are
            busy with other patients' replies, that waste is theirs to wait for.
    """

    interruptible = False

    def __init__(
        self,
        stt: SpeechToText,
        *,
        partial_interval_ms: int = 400,
        sample_rate: int = 16000,
        executor: Executor | None = None,
        hearing: Hearing | None = None,
        gate: DecodeGate | None = None,
        partial_nice: int = 0,
        busy_wait_ms: int = 0,
    ) -> None:
        super().__init__()
        self.stt = stt
        self.gate = gate or DecodeGate()
        self.hearing = hearing
        self._topic = "complaint"  # the consultation opens by asking what the trouble is
        self._prompt = hearing.listening_prompt(self._topic) if hearing else ""
        self.sample_rate = sample_rate
        self._interval = partial_interval_ms * sample_rate // 1000
        self._busy_wait = busy_wait_ms / 1000
        self._deferred: asyncio.TimerHandle | None = None
        self._executor = executor or ThreadPoolExecutor(1, thread_name_prefix="stt")
        self._partial_executor = ThreadPoolExecutor(
            1, thread_name_prefix="stt-partial", initializer=lower_thread_priority,
            initargs=(partial_nice,))
        self._reset(0)

    def _reset(self, turn: int) -> None:
        self._turn = turn
        self._chunks: list[np.ndarray] = []
        self._samples = 0
        self._decoded_at = 0
        self._previous: tuple[int, ...] = ()
        self._agreed: tuple[int, ...] = ()
        self._partial_job: asyncio.Future[Transcript] | None = None
        self._speculative: asyncio.Future[Final] | None = None
        self._cancel_deferred()
        self._paused = False
        self._final_sent = False

    def _audio(self) -> np.ndarray:
        audio = np.concatenate(self._chunks) if self._chunks else np.zeros(0, np.int16)
        self._chunks = [audio]
        return audio.astype(np.float32) / 32768.0

    def _decode_partial(self, audio: np.ndarray) -> asyncio.Future[Transcript]:
        started = time.monotonic()
        job = asyncio.get_running_loop().run_in_executor(
            self._partial_executor, functools.partial(
                self.stt.transcribe, audio, self._agreed, partial=True, prompt=self._prompt))
        job.add_done_callback(lambda _: self.gate.partial_done(time.monotonic() - started))
        return job

    def _decode_final(self, audio: np.ndarray) -> asyncio.Future[Final]:
        # The final decode starts afresh: forcing the partials' agreed prefix saved no time
        # (CTranslate2 steps through forced tokens too) and kept their early mishearings
        # (benchmarks/stt_eval.py: word error 0.58 with it, 0.54 without).
        self.gate.begin()
        job = asyncio.get_running_loop().run_in_executor(self._executor, functools.partial(
            hear_final, self.stt, audio, prompt=self._prompt, topic=self._topic,
            hearing=self.hearing, sample_rate=self.sample_rate))
        job.add_done_callback(lambda _: self.gate.end())
        return job

    async def process_frame(self, frame: Frame, direction: Direction) -> None:
        if isinstance(frame, ListeningFrame):
            if self.hearing is not None:
                self._topic = frame.topic
                self._prompt = self.hearing.listening_prompt(frame.topic, frame.question)
            await self.push_frame(frame, direction)
        elif isinstance(frame, UserStartedSpeakingFrame):
            self._reset(frame.turn)
            await self.push_frame(frame, direction)
        elif isinstance(frame, InputAudioFrame):
            self._chunks.append(frame.audio)
            self._samples += len(frame.audio)
            if (
                not self._paused
                and self._partial_job is None
                and self._samples - self._decoded_at >= self._interval
            ):
                self._start_partial()
        elif isinstance(frame, UserPausedFrame):
            self._paused = True
            if self._busy_wait and self.gate.busy:
                self._deferred = asyncio.get_running_loop().call_later(
                    self._busy_wait, self._speculate)
            else:
                self._speculate()
        elif isinstance(frame, UserResumedFrame):
            self._cancel_deferred()
            self._paused, self._speculative, self._final_sent = False, None, False
        elif isinstance(frame, TurnEndFrame):
            await self._finish(frame)
        else:
            await self.push_frame(frame, direction)

    def _cancel_deferred(self) -> None:
        if self._deferred is not None:
            self._deferred.cancel()
        self._deferred = None

    def _speculate(self) -> None:
        """Decode the turn so far: the pause may be its end (the turn detector says later)."""
        self._deferred = None
        if self._paused and self._speculative is None and not self._final_sent:
            job = self._speculative = self._decode_final(self._audio())
            self.when_done(job, self._on_speculative)

    async def stop(self) -> None:
        self._partial_executor.shutdown(wait=False, cancel_futures=True)

    def _start_partial(self) -> None:
        if not self.gate.try_partial():
            return  # tried again with the next audio
        self._decoded_at = self._samples
        job = self._decode_partial(self._audio())
        self._partial_job = job
        self.when_done(job, functools.partial(self._on_partial, turn=self._turn))

    async def _on_partial(self, job: asyncio.Future[Transcript], turn: int) -> None:
        if job is self._partial_job:
            self._partial_job = None
        if turn != self._turn or job.cancelled() or job.exception() is not None:
            return
        result = job.result()
        self._agreed = agreed_prefix(self._previous, result.tokens)
        self._previous = result.tokens
        if result.text and not self._paused:
            await self.push_frame(TranscriptionFrame(text=result.text, final=False, turn=turn))

    async def _on_speculative(self, job: asyncio.Future[Final]) -> None:
        """Send the pause's transcript on at once if the patient is still quiet."""
        if job is not self._speculative or not self._paused or self._final_sent:
            return
        if job.cancelled() or job.exception() is not None:
            return
        await self._send_final(job.result(), self._turn)

    async def _send_final(self, result: Final, turn: int) -> None:
        if self._final_sent:
            return  # the pause's result already went on
        self._final_sent = True
        if result.text:
            await self.push_frame(TranscriptionFrame(
                text=result.text, final=True, turn=turn, unsure=result.unsure))

    async def _finish(self, frame: TurnEndFrame) -> None:
        self._cancel_deferred()  # the turn is over: decode it now
        if self._final_sent:
            self._reset(-1)
            await self.push_frame(frame)
            return
        started = now()
        try:
            if self._speculative is not None:
                result = await self._speculative
            elif self._samples:
                result = await self._decode_final(self._audio())
            else:
                result = Final(text="")
        except Exception:
            await self.push_error("STT_FAILED", "speech-to-text failed on this turn")
            result = Final(text="")
        await self.push_frame(
            MetricsFrame(name="stt_final_wait", turn=frame.turn, value_ms=(now() - started) * 1e3)
        )
        await self._send_final(result, frame.turn)
        self._reset(-1)  # late partials of this turn are dropped
        await self.push_frame(frame)
