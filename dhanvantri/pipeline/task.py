"""Runs a chain of processors: start, queue input, interrupt, stop gracefully or cancel."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence

from dhanvantri.pipeline.frames import (
    CancelFrame,
    Direction,
    EndFrame,
    ErrorFrame,
    Frame,
    InterruptionFrame,
    StartFrame,
)
from dhanvantri.pipeline.processor import FrameProcessor, Observer

log = logging.getLogger(__name__)

FrameHandler = Callable[[Frame], Awaitable[None] | None]


class _Source(FrameProcessor):
    """Head of the chain: receives upstream frames (errors) that reached the top."""

    interruptible = False

    def __init__(self, on_upstream: FrameHandler) -> None:
        super().__init__(name="source")
        self._on_upstream = on_upstream

    async def process_frame(self, frame: Frame, direction: Direction) -> None:
        if direction is Direction.UPSTREAM:
            result = self._on_upstream(frame)
            if asyncio.iscoroutine(result):
                await result
        else:
            await self.push_frame(frame, direction)


class _Sink(FrameProcessor):
    """Tail of the chain: hands every frame that reached the end to the task's callback."""

    def __init__(self, on_output: FrameHandler) -> None:
        super().__init__(name="sink")
        self._on_output = on_output

    async def process_frame(self, frame: Frame, direction: Direction) -> None:
        if direction is Direction.DOWNSTREAM:
            result = self._on_output(frame)
            if asyncio.iscoroutine(result):
                await result
        else:
            await self.push_frame(frame, direction)


class PipelineTask:
    """Owns one pipeline run.

    Args:
        processors: the stages, in order from input to output.
        observers: read every frame pushed between stages (metrics, latency).
        on_output: called with each frame that leaves the last stage.
        on_error: called with each :class:`ErrorFrame` that travels back to the start.
    """

    def __init__(
        self,
        processors: Sequence[FrameProcessor],
        *,
        observers: Sequence[Observer] = (),
        on_output: FrameHandler | None = None,
        on_error: FrameHandler | None = None,
    ) -> None:
        self._on_error = on_error
        self._source = _Source(self._upstream)
        self._sink = _Sink(on_output or (lambda frame: None))
        self.processors = [self._source, *processors, self._sink]
        for a, b in zip(self.processors, self.processors[1:], strict=False):
            a.link(b)
        for p in self.processors:
            p.observers = list(observers)
        self._ended = asyncio.Event()
        self._sink.on_end = self._ended.set
        self.fatal_error: ErrorFrame | None = None

    async def _upstream(self, frame: Frame) -> None:
        if isinstance(frame, ErrorFrame):
            if frame.fatal:
                self.fatal_error = frame
                await self.cancel()
            if self._on_error is not None:
                result = self._on_error(frame)
                if asyncio.iscoroutine(result):
                    await result

    async def start(self, *, sample_rate: int = 16000, output_sample_rate: int = 48000) -> None:
        """Send the StartFrame through every stage."""
        await self._source.queue_frame(
            StartFrame(sample_rate=sample_rate, output_sample_rate=output_sample_rate),
            Direction.DOWNSTREAM,
        )

    async def queue_frame(self, frame: Frame) -> None:
        """Feed a frame in at the head of the pipeline."""
        await self._source.queue_frame(frame, Direction.DOWNSTREAM)

    async def interrupt(self) -> None:
        """Barge-in from outside (e.g. a physician taking over): drop all pending output."""
        await self.queue_frame(InterruptionFrame())

    async def stop(self, timeout: float = 10.0) -> None:  # noqa: ASYNC109 - a drain budget
        """Finish what is queued, then stop every stage."""
        await self.queue_frame(EndFrame())
        try:
            await asyncio.wait_for(self._ended.wait(), timeout)
        except TimeoutError:
            log.warning("pipeline did not drain in %.1fs; cancelling", timeout)
            await self.cancel()

    async def cancel(self) -> None:
        """Stop now, dropping everything queued."""
        if self._ended.is_set():
            return
        await self._source.queue_frame(CancelFrame(), Direction.DOWNSTREAM)
        self._ended.set()

    @property
    def ended(self) -> bool:
        """True once the pipeline has stopped."""
        return self._ended.is_set()
