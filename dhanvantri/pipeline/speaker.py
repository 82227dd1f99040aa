"""Text-to-speech by phrase, resampled for the transport.

Each phrase is synthesised in a worker thread as soon as it arrives; barge-in cancels the wait
and drops the phrases still queued, so speech stops mid-sentence. Fixed sentences of the
clinical logic come from the :class:`Phrasebook` when it has them (no synthesis on the turn),
and a suspected red flag has its advice spoken into the book before the turn ends.
"""

from __future__ import annotations

import asyncio
import logging

from dhanvantri.pipeline.decode_gate import DecodeGate
from dhanvantri.pipeline.frames import (
    Direction,
    Frame,
    MetricsFrame,
    OutputAudioFrame,
    RedFlagFrame,
    SpeakFrame,
    StartFrame,
    now,
)
from dhanvantri.pipeline.phrasebook import Phrasebook, Played
from dhanvantri.pipeline.processor import FrameProcessor
from dhanvantri.pipeline.resampling import resample
from dhanvantri.pipeline.services import TextToSpeech
from dhanvantri.pipeline.speech_queue import SpeechQueue

log = logging.getLogger(__name__)

# A phrase goes ahead (as a reply's first) while less speech than this of its reply is ready
# before it: a reply that opens with a short sentence from the book ("I see.") would otherwise
# fall silent while its next phrase waits behind other replies' later ones.
URGENT_UNTIL_S = 1.0


class Speaker(FrameProcessor):
    """Turns :class:`SpeakFrame` phrases into :class:`OutputAudioFrame` audio.

    Args:
        tts: the synthesiser.
        output_sample_rate: the rate until the StartFrame says otherwise.
        phrasebook: ready speech for fixed (vetted) sentences, shared by every consultation.
        gate: the process's :class:`DecodeGate`: no partial decode starts while this speaks.
        speech: the process's :class:`SpeechQueue` (None: a thread per synthesis), which puts
            the first phrase of each reply ahead of other replies' later phrases.
    """

    def __init__(
        self,
        tts: TextToSpeech,
        *,
        output_sample_rate: int = 48000,
        phrasebook: Phrasebook | None = None,
        gate: DecodeGate | None = None,
        speech: SpeechQueue | None = None,
    ) -> None:
        super().__init__()
        self.gate = gate or DecodeGate()
        self.speech = speech
        self._turn: int | None = None  # the turn whose reply is being spoken
        self._ready_s = 0.0  # seconds of that reply's speech made so far
        self.tts = tts
        self.output_sample_rate = output_sample_rate
        self.phrasebook = phrasebook

    async def start(self, frame: StartFrame) -> None:
        self.output_sample_rate = frame.output_sample_rate

    async def process_frame(self, frame: Frame, direction: Direction) -> None:
        if isinstance(frame, RedFlagFrame) and not frame.confirmed:
            self._prepare(frame.advice)
        if not isinstance(frame, SpeakFrame):
            await self.push_frame(frame, direction)
            return
        for audio, chunk in await self._speech(frame):
            await self.push_frame(
                OutputAudioFrame(
                    audio=audio,
                    sample_rate=self.output_sample_rate,
                    canned=frame.canned,
                    phonemes=chunk.phonemes,
                    phoneme_rate=chunk.sample_rate,
                    turn=frame.turn,
                )
            )

    async def _speech(self, frame: SpeakFrame) -> Played:
        """The phrase's audio at the output rate, each piece with its synthesised chunk."""
        if frame.turn != self._turn:
            self._turn, self._ready_s = frame.turn, 0.0
        played = await self._made(frame, urgent=self._ready_s < URGENT_UNTIL_S)
        self._ready_s += sum(len(audio) for audio, _ in played) / self.output_sample_rate
        return played

    async def _made(self, frame: SpeakFrame, *, urgent: bool) -> Played:
        rate = self.output_sample_rate
        book = self.phrasebook  # the same words sound the same, vetted or not
        if book is not None and (ready := book.played(frame.text, rate)) is not None:
            return ready
        started = now()
        with self.gate.critical():
            if self.speech is not None:
                chunks = await self.speech.synthesize(frame.text, first=urgent)
            else:
                chunks = await asyncio.to_thread(self.tts.synthesize, frame.text)
        await self.push_frame(
            MetricsFrame(name="tts", turn=frame.turn, value_ms=(now() - started) * 1e3)
        )
        if book is not None:
            book.keep(frame.text, chunks)
        return [(resample(c.audio, c.sample_rate, rate), c) for c in chunks]

    def _prepare(self, texts: tuple[str, ...]) -> None:
        """Speak ``texts`` into the phrasebook in the background (an emergency may follow)."""
        if self.phrasebook is None or all(t not in self.phrasebook for t in texts):
            return
        job = asyncio.get_running_loop().run_in_executor(None, self.phrasebook.prepare, texts)
        job.add_done_callback(_log_failure)


def _log_failure(job: asyncio.Future[None]) -> None:
    if not job.cancelled() and job.exception() is not None:
        log.warning("preparing fixed speech failed: %r", job.exception())
