"""Hands text-to-speech the first speakable phrase as soon as it exists.

Waiting for a whole reply (or even a whole sentence) before speaking costs hundreds of
milliseconds. The first phrase is cut at the first clause break once it has a few words, later
ones at sentence ends (longer phrases sound more natural and cost the same per word). Text
that ends a phrase by itself (an opening said while the model writes) is spoken as it is.
"""

from __future__ import annotations

import re

from dhanvantri.pipeline.frames import (
    Direction,
    Frame,
    LLMTextFrame,
    ReplyEndFrame,
    ReplyStartFrame,
    SpeakFrame,
)
from dhanvantri.pipeline.processor import FrameProcessor

_SENTENCE_END = re.compile(r"[.!?](?=\s|$)|\n")
_CLAUSE_END = re.compile(r"[,;:](?=\s)|[.!?](?=\s|$)|\n")
_SPEAKABLE = re.compile(r"[A-Za-z0-9]")


def split_phrase(buffer: str, *, first: bool, min_words: int = 3) -> tuple[str, str] | None:
    """Return (phrase, rest) when ``buffer`` holds a complete phrase, else None."""
    pattern = _CLAUSE_END if first else _SENTENCE_END
    for match in pattern.finditer(buffer):
        phrase = buffer[: match.end()].strip()
        if len(phrase.split()) >= min_words or pattern is _SENTENCE_END:
            return phrase, buffer[match.end() :]
    return None


def phrases_of(text: str, *, min_words: int = 3) -> set[str]:
    """Every phrase :class:`PhraseChunker` may cut ``text`` into, first in a reply or later."""
    found = set()
    for first in (True, False):
        rest = text
        while (cut := split_phrase(rest, first=first, min_words=min_words)) is not None:
            phrase, rest = cut
            found.add(phrase)
            first = False
        if rest.strip():
            found.add(rest.strip())
    return found


class PhraseChunker(FrameProcessor):
    """Turns streamed LLM text into :class:`SpeakFrame` phrases."""

    def __init__(self, *, min_first_words: int = 3) -> None:
        super().__init__()
        self.min_first_words = min_first_words
        self._buffer = ""
        self._first = True

    async def process_frame(self, frame: Frame, direction: Direction) -> None:
        if isinstance(frame, ReplyStartFrame):
            self._buffer, self._first = "", True
            await self.push_frame(frame, direction)
        elif isinstance(frame, LLMTextFrame):
            self._buffer += frame.text
            while (
                found := split_phrase(
                    self._buffer, first=self._first, min_words=self.min_first_words
                )
            ) is not None:
                phrase, self._buffer = found
                await self._speak(phrase, frame.turn)
            if frame.ends_phrase:
                await self._speak(self._buffer.strip(), frame.turn)
                self._buffer = ""
        elif isinstance(frame, ReplyEndFrame):
            await self._speak(self._buffer.strip(), frame.turn)
            self._buffer = ""
            await self.push_frame(frame, direction)
        else:
            await self.push_frame(frame, direction)

    async def _speak(self, phrase: str, turn: int) -> None:
        if _SPEAKABLE.search(phrase):
            self._first = False
            await self.push_frame(SpeakFrame(text=phrase, turn=turn))

    async def on_interrupt(self) -> None:
        self._buffer, self._first = "", True
