"""The processor base class: one ``process_frame``, an input queue, and barge-in handling.

System frames are handled as soon as they are queued, ahead of anything waiting. Everything else
waits in the processor's queue and is handled in order by the processor's own task. An
:class:`InterruptionFrame` cancels the frame being processed (stopping speech mid-sentence) and
drops whatever is queued, unless the processor sets ``interruptible = False`` (input stages that
must keep the patient's new speech).

Work a stage hands to a thread comes back through :meth:`FrameProcessor.when_done`, queued in
order with the frames, so a stage pushes frames only from its own task. Once a stage has stopped
it is closed: it takes no more frames and starts no task, so nothing outlives the pipeline.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Protocol, TypeVar

from dhanvantri.pipeline.frames import (
    CancelFrame,
    Direction,
    EndFrame,
    ErrorFrame,
    Frame,
    InterruptionFrame,
    StartFrame,
    SystemFrame,
)

log = logging.getLogger(__name__)
T = TypeVar("T")
Step = Callable[[], Awaitable[None]]  # background work's continuation, run on the stage's task


class Observer(Protocol):
    """Sees every frame pushed between processors, without being part of the pipeline."""

    def on_push(self, source: FrameProcessor, frame: Frame, direction: Direction) -> None: ...


class FrameProcessor:
    """A pipeline stage. Subclasses override :meth:`process_frame` and call :meth:`push_frame`."""

    interruptible = True

    def __init__(self, *, name: str | None = None) -> None:
        self.name = name or type(self).__name__
        self._next: FrameProcessor | None = None
        self._prev: FrameProcessor | None = None
        self._queue: asyncio.Queue[tuple[Frame, Direction] | Step] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self.observers: list[Observer] = []
        self.on_end: Callable[[], None] | None = None
        self._stopped = False

    def __repr__(self) -> str:
        return f"<{self.name}>"

    @property
    def closed(self) -> bool:
        """True once the stage has stopped: frames that still arrive are dropped."""
        return self._stopped

    @property
    def running(self) -> bool:
        """True while the stage's own task is alive: from its first queued frame until it stops."""
        return self._task is not None and not self._task.done()

    # ------------------------------------------------------------------ wiring
    def link(self, nxt: FrameProcessor) -> FrameProcessor:
        """Connect ``nxt`` downstream of this processor and return it (for chaining)."""
        self._next, nxt._prev = nxt, self
        return nxt

    # ------------------------------------------------------------------ to override
    async def process_frame(self, frame: Frame, direction: Direction) -> None:
        """Handle one frame. The default passes it on unchanged."""
        await self.push_frame(frame, direction)

    async def start(self, frame: StartFrame) -> None:
        """Open resources. Called once when the StartFrame arrives."""

    async def stop(self) -> None:
        """Release resources. Called once on EndFrame or CancelFrame."""

    async def on_interrupt(self) -> None:
        """Reset reply state after barge-in (queued frames are already dropped)."""

    # ------------------------------------------------------------------ moving frames
    async def push_frame(self, frame: Frame, direction: Direction = Direction.DOWNSTREAM) -> None:
        """Send ``frame`` to the next processor in ``direction``."""
        for observer in self.observers:
            observer.on_push(self, frame, direction)
        target = self._next if direction is Direction.DOWNSTREAM else self._prev
        if target is not None:
            await target.queue_frame(frame, direction)

    async def push_error(self, category: str, message: str, *, fatal: bool = False) -> None:
        """Report a failure upstream (towards the task) and downstream (towards the client)."""
        error = ErrorFrame(category=category, message=message, source=self.name, fatal=fatal)
        await self.push_frame(error, Direction.UPSTREAM)
        await self.push_frame(error, Direction.DOWNSTREAM)

    async def queue_frame(self, frame: Frame, direction: Direction) -> None:
        """Accept a frame: system frames now, others in order on this processor's task."""
        if self._stopped and direction is Direction.DOWNSTREAM:
            # A frame still in flight when the pipeline ended must not restart the stage; a
            # cancel still reaches the stages after it (a graceful stop that did not drain).
            if isinstance(frame, CancelFrame):
                await self.push_frame(frame, direction)
            return
        if isinstance(frame, SystemFrame) or direction is Direction.UPSTREAM:
            if isinstance(frame, InterruptionFrame) and self.interruptible:
                await self._drop_pending()
            await self._handle(frame, direction)
        else:
            self._enqueue((frame, direction))

    def when_done(
        self,
        future: asyncio.Future[T],
        then: Callable[[asyncio.Future[T]], Awaitable[None]],
    ) -> None:
        """Run ``then(future)`` on this stage's own task once ``future`` is done.

        It is queued behind the frames that arrived first, and dropped like them on barge-in
        (unless the stage is not interruptible) or once the stage has stopped.
        """
        future.add_done_callback(lambda done: self._enqueue(functools.partial(then, done)))

    # ------------------------------------------------------------------ internals
    async def _handle(self, frame: Frame, direction: Direction) -> None:
        if isinstance(frame, StartFrame):
            await self.start(frame)
        try:
            await self.process_frame(frame, direction)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a failing stage must not end the session
            log.exception("stage %s failed on %s", self.name, type(frame).__name__)
            await self.push_error("STAGE_FAILED", f"{self.name}: {type(exc).__name__}")
        if isinstance(frame, InterruptionFrame):
            await self.on_interrupt()
        if isinstance(frame, (EndFrame, CancelFrame)):
            await self._shutdown(cancel=isinstance(frame, CancelFrame))

    def _enqueue(self, item: tuple[Frame, Direction] | Step) -> None:
        if self._stopped:
            return
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run(), name=self.name)
        self._queue.put_nowait(item)

    async def _run(self) -> None:
        while not self._stopped:
            item = await self._queue.get()
            if callable(item):
                await self._resume(item)
                continue
            frame, direction = item
            await self._handle(frame, direction)
            if isinstance(frame, EndFrame):
                return

    async def _resume(self, step: Step) -> None:
        try:
            await step()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # as for a frame: the session survives a failing stage
            log.exception("stage %s failed resuming background work", self.name)
            await self.push_error("STAGE_FAILED", f"{self.name}: {type(exc).__name__}")

    async def _drop_pending(self) -> None:
        """Cancel the frame in progress and drop everything queued."""
        while not self._queue.empty():
            self._queue.get_nowait()
        task = self._task
        if task is None or task.done() or task is asyncio.current_task():
            return  # the stage's own task handles this frame and goes on (or ends, if closed)
        self._task = None
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass

    async def _shutdown(self, *, cancel: bool) -> None:
        self._stopped = True
        if cancel:
            await self._drop_pending()
        await self.stop()
        if self.on_end is not None:
            self.on_end()
