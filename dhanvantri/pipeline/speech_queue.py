"""Syntheses for the process: the first phrase of a reply ahead of everything else.

A patient hears a reply when its first phrase is synthesised; its later phrases have until that
phrase has played (a second or more). With every consultation synthesising on its own thread, a
first phrase shared the cores with other replies' later phrases: with eight patients and a hosted
model, first audio came 0.8 s after the model's first sentence where one patient alone had it in
0.3 s. Here first phrases have workers of their own (a core each: Piper runs a synthesis on one
thread), and later phrases theirs, at a lowered CPU priority (:mod:`.priority`): they take only
the cycles that final transcripts and first phrases leave, so a burst of turns ending together
is answered first and its later phrases follow while the first ones play. A phrase whose reply
was cut off by barge-in before its turn came is never synthesised.
"""

from __future__ import annotations

import asyncio
import os
import queue
import threading
from typing import Any

from dhanvantri.pipeline.priority import lower_thread_priority
from dhanvantri.pipeline.services import SpeechChunk, TextToSpeech

LATER_NICE = 10  # a nice-10 thread gets ~10 % of a core that a nice-0 thread also wants


class SpeechQueue:
    """Synthesises phrases on ``workers`` threads for first phrases and as many for later ones.

    Args:
        tts: the synthesiser (blocking, safe to call from several threads).
        workers: syntheses of each kind at once (default: a core each).
        later_nice: the nice value of the later phrases' workers (0: the same priority).
    """

    def __init__(self, tts: TextToSpeech, *, workers: int | None = None,
                 later_nice: int = LATER_NICE) -> None:
        self.tts = tts
        self.workers = workers or os.cpu_count() or 1
        self.later_nice = later_nice
        self._queues: tuple[queue.Queue[Any], queue.Queue[Any]] = (queue.Queue(), queue.Queue())
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()

    async def synthesize(self, text: str, *, first: bool) -> list[SpeechChunk]:
        """``text``'s speech; ``first``: the first phrase of a reply (it goes ahead)."""
        self._start()
        loop = asyncio.get_running_loop()
        future: asyncio.Future[list[SpeechChunk]] = loop.create_future()
        self._queues[0 if first else 1].put((text, future, loop))
        return await future

    def close(self) -> None:
        """Stop the workers once the phrases already queued are done."""
        for jobs in self._queues:
            for _ in range(self.workers):
                jobs.put(None)

    def _start(self) -> None:
        with self._lock:
            if self._threads:
                return
            for jobs, nice in ((self._queues[0], 0), (self._queues[1], self.later_nice)):
                for _ in range(self.workers):
                    thread = threading.Thread(target=self._work, args=(jobs, nice),
                                              name="tts", daemon=True)
                    thread.start()
                    self._threads.append(thread)

    def _work(self, jobs: queue.Queue[Any], nice: int) -> None:
        lower_thread_priority(nice)
        while (job := jobs.get()) is not None:
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
