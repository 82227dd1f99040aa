"""Looks up the knowledge base with the patient's tokenised words."""

from __future__ import annotations

import asyncio
from typing import Any, Protocol

from dhanvantri.pipeline.frames import (
    Direction,
    Frame,
    KnowledgeFrame,
    MetricsFrame,
    RedactedTranscriptionFrame,
    now,
)
from dhanvantri.pipeline.processor import FrameProcessor


class Searcher(Protocol):
    """``dhanvantri.knowledge.KnowledgeBase`` or anything with the same ``search``."""

    def search(self, query: str, k: int = 3) -> list[Any]: ...


class Retriever(FrameProcessor):
    """Adds a :class:`KnowledgeFrame` after each redacted patient turn."""

    def __init__(self, knowledge: Searcher, *, k: int = 3) -> None:
        super().__init__()
        self.knowledge = knowledge
        self.k = k

    async def process_frame(self, frame: Frame, direction: Direction) -> None:
        await self.push_frame(frame, direction)
        if isinstance(frame, RedactedTranscriptionFrame):
            started = now()
            passages = await asyncio.to_thread(self.knowledge.search, frame.text, self.k)
            await self.push_frame(
                MetricsFrame(name="retrieval", turn=frame.turn, value_ms=(now() - started) * 1e3)
            )
            await self.push_frame(KnowledgeFrame(passages=tuple(passages), turn=frame.turn))
