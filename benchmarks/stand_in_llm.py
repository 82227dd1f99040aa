"""A stand-in for a hosted LLM: an OpenAI-compatible endpoint that streams at a real model's pace
and costs (almost) no CPU.

The load test uses it to show what the server itself sustains when the model runs elsewhere:
each reply starts ``ttft_ms`` after the request and goes on at ``tokens_per_s`` (a word a
token), as a hosted model does (defaults: 400 ms and 60 tokens a second, a small hosted
model's typical figures). The words: an acknowledgement of what the clinical logic understood
and its question, reworded as a model would (so the question is not the clinical logic's
exact text, and its speech is not the phrasebook's).

    python benchmarks/stand_in_llm.py --port 8081      # then DHANVANTRI_LLM_BASE_URL=...:8081/v1
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
import time
from typing import Any

from aiohttp import web

_UNDERSTOOD = re.compile(r"\(Understood from this turn: (.+?)\)")
_QUESTION = re.compile(r"asks? exactly this: (.+?)\)\s*$", re.S)
_SAID = re.compile(r'You have just said: "')


def reply_for(messages: list[dict[str, Any]]) -> str:
    """What the stand-in says to a request: it acknowledges (unless the assistant already did)
    and asks, in its own words."""
    content = str(messages[-1].get("content", "")) if messages else ""
    understood = _UNDERSTOOD.search(content)
    question = _QUESTION.search(content)
    opening = (f"Thank you, I have noted {understood.group(1).rstrip('.')}."
               if understood else "Thank you for telling me that.")
    if not question:
        return opening
    asked = question.group(1).strip()
    asking = f"Could you tell me, {asked[0].lower()}{asked[1:]}"
    return asking if _SAID.search(content) else f"{opening} {asking}"


class StandInLLM:
    """The endpoint on 127.0.0.1; ``requests`` counts the completions served."""

    def __init__(self, *, ttft_ms: float = 400.0, tokens_per_s: float = 60.0,
                 port: int = 0) -> None:
        self.ttft = ttft_ms / 1000
        self.gap = 1 / tokens_per_s
        self.port = port
        self.requests = 0
        self._runner: web.AppRunner | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._complete)
        app.router.add_get("/v1/models", self._models)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _models(self, request: web.Request) -> web.Response:
        models = [{"id": "stand-in", "object": "model"}]
        return web.json_response({"object": "list", "data": models})

    async def _complete(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        self.requests += 1
        words = reply_for(body.get("messages", [])).split(" ")
        words = words[: int(body.get("max_tokens") or len(words))]
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        started = time.monotonic()
        await asyncio.sleep(self.ttft)
        try:
            for index, word in enumerate(words):
                # Paced from the start, so the rate holds however late the loop wakes.
                await asyncio.sleep(
                    max(0.0, started + self.ttft + index * self.gap - time.monotonic()))
                await response.write(_event(("" if index == 0 else " ") + word, None))
            await response.write(_event("", "stop"))
            await response.write(b"data: [DONE]\n\n")
        except ConnectionResetError:
            pass  # the server stopped reading (barge-in, a reply cut short): as a host sees it
        return response


def _event(text: str, finish: str | None) -> bytes:
    chunk = {"id": "stand-in", "object": "chat.completion.chunk", "created": int(time.time()),
             "model": "stand-in",
             "choices": [{"index": 0, "delta": {"content": text} if text else {},
                          "finish_reason": finish}]}
    return f"data: {json.dumps(chunk)}\n\n".encode()


async def _serve(args: argparse.Namespace) -> None:
    llm = StandInLLM(ttft_ms=args.ttft_ms, tokens_per_s=args.tokens_per_s, port=args.port)
    await llm.start()
    print(f"stand-in LLM at {llm.base_url}", file=sys.stderr, flush=True)
    await asyncio.Event().wait()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--ttft-ms", type=float, default=400.0, help="first token after (ms)")
    parser.add_argument("--tokens-per-s", type=float, default=60.0, help="tokens a second")
    args = parser.parse_args(argv)
    if args.ttft_ms < 0 or args.tokens_per_s <= 0:
        parser.error("--ttft-ms must be >= 0 and --tokens-per-s > 0")
    try:
        asyncio.run(_serve(args))
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
