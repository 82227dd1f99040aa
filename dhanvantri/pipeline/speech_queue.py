"""One queue of syntheses for the process: the first phrase of a reply goes ahead of the rest.

A patient hears a reply when its first phrase is synthesised; its later phrases have until that
phrase has played (a second or more). With every consultation synthesising on its own thread, a
first phrase shared the cores with other replies' later phrases: with eight patients and a hosted
model, first audio came 0.8 s after the model's first sentence where one patient alone had it in
0.3 s. Here a few workers (a core each: Piper runs a synthesis on one thread) take the waiting
phrases first-phrases-first, then in order of arrival, and a phrase whose reply was cut off by
barge-in before its turn came is never synthesised.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import queue
import threading
from typing import Any

from dhanvantri.pipeline.services import SpeechChunk, TextToSpeech

FIRST, LATER = 0, 1


class SpeechQueue:
    """Synthesises phrases on ``workers`` threads, first phrases of a reply first.

    Args:
        tts: the synthesiser (blocking, safe to call from several threads).
        workers: syntheses at once (default: a core each).
    """

    def __init__(self, tts: TextToSpeech, *, workers: int | None = None) -> None:
        self.tts = tts
        self.workers = workers or os.cpu_count() or 1
        self._queue: queue.PriorityQueue[tuple[int, int, Any]] = queue.PriorityQueue()
        self._order = itertools.count()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()

    async def synthesize(self, text: str, *, first: bool) -> list[SpeechChunk]:
        """``text``'s speech; ``first``: the first phrase of a reply (it goes ahead)."""
        self._start()
        loop = asyncio.get_running_loop()
        future: asyncio.Future[list[SpeechChunk]] = loop.create_future()
        self._queue.put((FIRST if first else LATER, next(self._order), (text, future, loop)))
        return await future

    def close(self) -> None:
        """Stop the workers once the phrases already queued are done."""
        for _ in self._threads:
            self._queue.put((LATER + 1, next(self._order), None))

    def _start(self) -> None:
        with self._lock:
            while len(self._threads) < self.workers:
                thread = threading.Thread(target=self._work, name="tts", daemon=True)
                thread.start()
                self._threads.append(thread)

    def _work(self) -> None:
        while (job := self._queue.get()[2]) is not None:
            text, future, loop = job
            if future.cancelled():
                continue  # barge-in: nobody will hear it
            try:
                chunks = self.tts.synthesize(text)
            except Exception as exc:  # the caller hears of it
                loop.call_soon_threadsafe(_settle, future, None, exc)
            else:
                loop.call_soon_threadsafe(_settle, future, chunks, None)


def _settle(future: asyncio.Future[list[SpeechChunk]], chunks: list[SpeechChunk] | None,
            error: BaseException | None) -> None:
    if future.cancelled():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(chunks or [])
