"""The language model over any OpenAI-compatible chat endpoint (streamed)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any

from dhanvantri.pipeline.services import ChatMessage


class OpenAIChat:
    """Streams chat completions with the official ``openai`` client.

    Args:
        base_url: e.g. ``http://127.0.0.1:8081/v1`` or a hosted provider.
        model: model name the endpoint expects.
        api_key: the endpoint's key (any string for local servers).
    """

    def __init__(
        self,
        *,
        base_url: str,
        model: str,
        api_key: str = "local",
        max_tokens: int = 60,
        temperature: float = 0.3,
        timeout: float = 30.0,
    ) -> None:
        from openai import AsyncOpenAI

        self.client = AsyncOpenAI(
            base_url=base_url, api_key=api_key or "local", timeout=timeout, max_retries=0
        )
        self.model = model
        self.max_tokens = max_tokens
        self.temperature = temperature

    async def stream(self, messages: Sequence[ChatMessage]) -> AsyncIterator[str]:
        """Yield the reply piece by piece as the server produces it."""
        # The roles are ours (system, user, assistant); the client's TypedDicts cannot see it.
        chat: Any = [{"role": m.role, "content": m.content} for m in messages]
        response = await self.client.chat.completions.create(
            model=self.model,
            messages=chat,
            stream=True,
            max_tokens=self.max_tokens,
            temperature=self.temperature,
        )
        try:
            async for chunk in response:
                if chunk.choices and (piece := chunk.choices[0].delta.content):
                    yield piece
        finally:
            await response.close()

    async def close(self) -> None:
        """Close the HTTP connection pool."""
        await self.client.close()
