"""PHI tokenisation between speech-to-text and everything that thinks.

The patient's raw words go back to the patient only (as transcript events); downstream stages,
the LLM and retrieval see the tokenised text alone. Partial transcripts stop here. A physician's
notes and words are tokenised here too, on their way to the clinical guide and the responder.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Sequence
from typing import Any, Protocol

from dhanvantri.pipeline.frames import (
    Direction,
    EventFrame,
    Frame,
    HandBackFrame,
    PhysicianNoteFrame,
    RedactedTranscriptionFrame,
    TranscriptionFrame,
    TurnCommittedFrame,
    TurnEndFrame,
)
from dhanvantri.pipeline.processor import FrameProcessor


class Redacted(Protocol):
    """Text with its PHI replaced by tokens (``dhanvantri.privacy.Redaction``)."""

    @property
    def text(self) -> str: ...

    @property
    def entities(self) -> Sequence[object]: ...


class Tokenizer(Protocol):
    """The privacy layer's per-consultation vault (see ``dhanvantri.privacy.TokenVault``)."""

    def tokenize(self, text: str) -> Redacted: ...

    def reidentify(self, text: str) -> str: ...


def transcript_event(role: str, text: str, final: bool, turn: int | None = None) -> EventFrame:
    """A transcript event for the patient's screen.

    ``turn`` names the reply an assistant phrase belongs to: the record keeps one line a reply.
    """
    event: dict[str, Any] = {"type": "transcript", "role": role, "text": text, "final": final}
    if turn is not None:
        event["turn"] = turn
    return EventFrame(event=event)


class Redactor(FrameProcessor):
    """Replaces the patient's final transcript, and a physician's notes, with their tokenised form.

    A final transcript may come before the turn is certain (from the first pause); the patient
    sees it as final only once the turn is, so a turn they then continued shows as one line.
    That is when the turn is committed: the reply prepared from the pause is released then (the
    commit overtakes every queue), and the patient's line must come before it, not after.
    """

    def __init__(self, vault: Tokenizer) -> None:
        super().__init__()
        self.vault = vault
        self._pending: TranscriptionFrame | None = None

    async def process_frame(self, frame: Frame, direction: Direction) -> None:
        if isinstance(frame, PhysicianNoteFrame):
            frame = dataclasses.replace(frame, text=await self._tokenize(frame.text))
        elif isinstance(frame, HandBackFrame):
            frame = dataclasses.replace(frame, notes=await self._tokenize(frame.notes))
        if isinstance(frame, (TurnCommittedFrame, TurnEndFrame)) and self._pending is not None:
            pending, self._pending = self._pending, None
            await self.push_frame(transcript_event(pending.role, pending.text, True))
        if not isinstance(frame, TranscriptionFrame):
            await self.push_frame(frame, direction)
            return
        await self.push_frame(transcript_event(frame.role, frame.text, False))
        if frame.final:
            self._pending = frame
        if frame.final and frame.text.strip():
            redaction = await asyncio.to_thread(self.vault.tokenize, frame.text)
            await self.push_frame(
                RedactedTranscriptionFrame(
                    text=redaction.text, entity_count=len(redaction.entities), turn=frame.turn,
                    # Only vocabulary terms the tokenised text still shows may be read back.
                    unsure=tuple(t for t in frame.unsure if t.lower() in redaction.text.lower()),
                )
            )

    async def _tokenize(self, text: str) -> str:
        if not text.strip():
            return ""
        return (await asyncio.to_thread(self.vault.tokenize, text)).text
