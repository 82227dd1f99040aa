"""Red flags heard as the patient speaks, so an emergency is answered before anything else.

The clinical guide checks every turn for red flags, but only after redaction and retrieval, and
the emergency advice then waited for that. This stage sits between speech-to-text and the
Redactor and checks the raw words (deterministic triage, well under a millisecond): each
partial transcript that shows an emergency sends a :class:`RedFlagFrame` that makes it ready, and
the final transcript's verdict is sent ahead of the final itself (``confirmed=True``), so the
guide speaks the fixed instruction before the redaction has run. Only red-flag ids leave this
stage: the words go on to the Redactor as before.
"""

from __future__ import annotations

from dhanvantri.pipeline.frames import Direction, Frame, RedFlagFrame, TranscriptionFrame
from dhanvantri.pipeline.processor import FrameProcessor


class RedFlagWatch(FrameProcessor):
    """Sends :class:`RedFlagFrame` for the patient's partial and final transcripts."""

    def __init__(self) -> None:
        super().__init__()
        self._armed: tuple[int, tuple[str, ...]] = (0, ())  # the turn and its flags so far

    async def process_frame(self, frame: Frame, direction: Direction) -> None:
        if isinstance(frame, TranscriptionFrame) and frame.role == "patient":
            await self._check(frame)
        await self.push_frame(frame, direction)

    async def _check(self, frame: TranscriptionFrame) -> None:
        from dhanvantri.knowledge.triage import triage

        result = triage(frame.text)
        flags = tuple(result.red_flags)
        if not flags or (not frame.final and self._armed == (frame.turn, flags)):
            return  # partials say each turn's set of flags once
        if not frame.final:
            self._armed = (frame.turn, flags)
        await self.push_frame(RedFlagFrame(red_flags=flags, advice=result.advice_parts,
                                           confirmed=frame.final, turn=frame.turn))
