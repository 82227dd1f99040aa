"""The language-model stand-in: streams the pieces it was given and records every request."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

from dhanvantri.pipeline.services import ChatMessage


class ScriptedLLM:
    """An ``LLM`` that streams fixed pieces of text, so a test knows exactly what is said.

    Args:
        pieces: streamed one by one, as a model streams tokens.
    """

    def __init__(self, *pieces: str) -> None:
        self.pieces = pieces
        self.requests: list[list[ChatMessage]] = []

    @classmethod
    def word_by_word(cls, reply: str) -> ScriptedLLM:
        """Streams ``reply`` one word (and its trailing space) at a time."""
        return cls(*(word + " " for word in reply.split(" ")))

    async def stream(self, messages: Sequence[ChatMessage]) -> AsyncIterator[str]:
        """Record ``messages``, then stream the pieces."""
        self.requests.append(list(messages))
        for piece in self.pieces:
            yield piece
