"""Puts the patient's own details back into what the assistant says to them.

The LLM only ever saw tokens such as ``<PERSON_1>``; the patient should hear their name. This is
the last place text exists before it becomes sound, so nothing downstream holds PHI as text.
"""

from __future__ import annotations

import dataclasses

from dhanvantri.pipeline.frames import Direction, Frame, SpeakFrame
from dhanvantri.pipeline.processor import FrameProcessor
from dhanvantri.pipeline.redactor import Tokenizer, transcript_event


class Reidentifier(FrameProcessor):
    """Re-identifies each phrase and shows it on the patient's screen."""

    def __init__(self, vault: Tokenizer) -> None:
        super().__init__()
        self.vault = vault

    async def process_frame(self, frame: Frame, direction: Direction) -> None:
        if isinstance(frame, SpeakFrame):
            # Inline: a phrase takes well under a millisecond (a regex and a dict), less than a
            # hop to a worker thread, which on a busy machine waits its turn for a core.
            text = self.vault.reidentify(frame.text)
            await self.push_frame(transcript_event("assistant", text, True, frame.turn))
            frame = dataclasses.replace(frame, text=text)
        await self.push_frame(frame, direction)
