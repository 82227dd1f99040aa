"""The pipeline engine: ordering, system frames, interruption, errors, stop and cancel."""

from __future__ import annotations

import asyncio

import numpy as np

from dhanvantri.pipeline.frames import (
    Direction,
    EndFrame,
    ErrorFrame,
    Frame,
    InterruptionFrame,
    LLMTextFrame,
    MetricsFrame,
    SpeakFrame,
    TranscriptionFrame,
)
from dhanvantri.pipeline.processor import FrameProcessor
from dhanvantri.pipeline.task import PipelineTask


class Slow(FrameProcessor):
    """Takes a while per data frame, like a TTS stage synthesising."""

    def __init__(self, delay: float) -> None:
        super().__init__()
        self.delay = delay
        self.started: list[str] = []
        self.finished: list[str] = []

    async def process_frame(self, frame: Frame, direction: Direction) -> None:
        if isinstance(frame, SpeakFrame):
            self.started.append(frame.text)
            await asyncio.sleep(self.delay)
            self.finished.append(frame.text)
        await self.push_frame(frame, direction)


class Boom(FrameProcessor):
    async def process_frame(self, frame: Frame, direction: Direction) -> None:
        if isinstance(frame, SpeakFrame) and frame.text == "boom":
            raise RuntimeError("stage bug")
        await self.push_frame(frame, direction)


def collecting_task(*processors: FrameProcessor) -> tuple[PipelineTask, list[Frame], list[Frame]]:
    out: list[Frame] = []
    errors: list[Frame] = []
    task = PipelineTask(list(processors), on_output=out.append, on_error=errors.append)
    return task, out, errors


async def test_frames_keep_order_through_stages() -> None:
    task, out, _ = collecting_task(FrameProcessor(), Slow(0.001), FrameProcessor())
    await task.start()
    for i in range(20):
        await task.queue_frame(SpeakFrame(text=str(i)))
    await task.stop()
    texts = [f.text for f in out if isinstance(f, SpeakFrame)]
    assert texts == [str(i) for i in range(20)]
    assert task.ended


async def test_system_frames_overtake_queued_data() -> None:
    slow = Slow(0.05)
    task, out, _ = collecting_task(slow)
    await task.start()
    for i in range(5):
        await task.queue_frame(SpeakFrame(text=str(i)))
    await task.queue_frame(MetricsFrame(name="probe", value_ms=1.0))
    await asyncio.sleep(0.01)
    kinds = [type(f).__name__ for f in out]
    assert "MetricsFrame" in kinds  # arrived while data was still queued
    assert kinds.index("MetricsFrame") < len(kinds)
    assert [f.text for f in out if isinstance(f, SpeakFrame)] == []
    await task.cancel()


async def test_interruption_stops_work_in_progress_and_drops_queue() -> None:
    slow = Slow(0.5)
    task, out, _ = collecting_task(slow)
    await task.start()
    for text in ("first sentence", "second", "third"):
        await task.queue_frame(SpeakFrame(text=text))
    await asyncio.sleep(0.05)
    assert slow.started == ["first sentence"]
    await task.interrupt()
    assert any(isinstance(f, InterruptionFrame) for f in out)
    # The stage keeps working after the interruption, with only new frames.
    await task.queue_frame(SpeakFrame(text="after"))
    await task.stop()
    assert slow.finished == ["after"]
    assert [f.text for f in out if isinstance(f, SpeakFrame)] == ["after"]


async def test_non_interruptible_stage_keeps_its_input() -> None:
    class Input(Slow):
        interruptible = False

    stage = Input(0.02)
    task, _out, _ = collecting_task(stage)
    await task.start()
    for text in ("a", "b", "c"):
        await task.queue_frame(SpeakFrame(text=text))
    await task.interrupt()
    await task.stop()
    assert stage.finished == ["a", "b", "c"]


async def test_error_frame_does_not_kill_the_session() -> None:
    task, out, errors = collecting_task(Boom(), FrameProcessor())
    await task.start()
    await task.queue_frame(SpeakFrame(text="before"))
    await task.queue_frame(SpeakFrame(text="boom"))
    await task.queue_frame(SpeakFrame(text="after"))
    await task.stop()
    assert [f.text for f in out if isinstance(f, SpeakFrame)] == ["before", "after"]
    assert len(errors) == 1 and isinstance(errors[0], ErrorFrame)
    assert errors[0].category == "STAGE_FAILED" and errors[0].source == "Boom"
    assert any(isinstance(f, ErrorFrame) for f in out)  # the client hears about it too


async def test_fatal_error_cancels_the_pipeline() -> None:
    class Fatal(FrameProcessor):
        async def process_frame(self, frame: Frame, direction: Direction) -> None:
            if isinstance(frame, SpeakFrame):
                await self.push_error("MODEL_CRASHED", "gone", fatal=True)
                return
            await self.push_frame(frame, direction)

    task, _, errors = collecting_task(Fatal())
    await task.start()
    await task.queue_frame(SpeakFrame(text="x"))
    await asyncio.sleep(0.05)
    assert task.ended and task.fatal_error is not None
    assert errors[0].fatal


async def test_cancel_drops_queued_frames() -> None:
    slow = Slow(0.2)
    task, out, _ = collecting_task(slow)
    await task.start()
    for i in range(5):
        await task.queue_frame(SpeakFrame(text=str(i)))
    await asyncio.sleep(0.01)
    await task.cancel()
    await asyncio.sleep(0.3)
    assert slow.finished == []
    assert not any(isinstance(f, EndFrame) for f in out)


def test_frames_are_immutable_and_hide_patient_text() -> None:
    frame = TranscriptionFrame(text="my name is rajesh kumar", final=True)
    assert "rajesh" not in repr(frame)
    assert "rajesh" not in repr(LLMTextFrame(text="hello rajesh"))
    try:
        frame.text = "x"  # type: ignore[misc]
    except AttributeError:
        pass
    else:
        raise AssertionError("frames must be frozen")
    from dhanvantri.pipeline.frames import InputAudioFrame

    audio = InputAudioFrame(audio=np.zeros(320, dtype=np.int16))
    assert "array" not in repr(audio)


async def test_frames_arriving_after_cancel_leave_no_task_behind() -> None:
    slow = Slow(0.01)
    task, _, _ = collecting_task(slow)
    await task.start()
    await task.cancel()
    await slow.queue_frame(SpeakFrame(text="late"), Direction.DOWNSTREAM)
    await asyncio.sleep(0.05)
    assert not slow.running and slow.closed
    assert slow.started == []


class Worker(FrameProcessor):
    """Hands each phrase to background work and pushes the result when the work is done."""

    def __init__(self) -> None:
        super().__init__()
        self.jobs: list[asyncio.Future[str]] = []
        self.pushed_on: list[asyncio.Task[object] | None] = []

    async def process_frame(self, frame: Frame, direction: Direction) -> None:
        if isinstance(frame, SpeakFrame):
            job: asyncio.Future[str] = asyncio.get_running_loop().create_future()
            self.jobs.append(job)
            self.when_done(job, self._done)
        await self.push_frame(frame, direction)

    async def _done(self, job: asyncio.Future[str]) -> None:
        self.pushed_on.append(asyncio.current_task())
        await self.push_frame(LLMTextFrame(text=job.result()))


async def test_background_work_comes_back_on_the_stage_task_until_it_stops() -> None:
    worker = Worker()
    task, out, _ = collecting_task(worker)
    await task.start()
    await task.queue_frame(SpeakFrame(text="first"))
    while not worker.jobs:  # noqa: ASYNC110 - the stage's own task takes the frame
        await asyncio.sleep(0.01)
    worker.jobs[0].set_result("done")
    while not any(isinstance(f, LLMTextFrame) for f in out):  # noqa: ASYNC110
        await asyncio.sleep(0.01)
    assert [t.get_name() for t in worker.pushed_on if t] == [worker.name]  # its own task
    await task.queue_frame(SpeakFrame(text="second"))
    while len(worker.jobs) < 2:  # noqa: ASYNC110
        await asyncio.sleep(0.01)
    await task.cancel()
    worker.jobs[1].set_result("too late")
    for _ in range(5):
        await asyncio.sleep(0)
    assert worker.closed and not worker.running
    assert [f.text for f in out if isinstance(f, LLMTextFrame)] == ["done"]


async def test_a_cancel_reaches_stages_behind_one_that_already_ended() -> None:
    slow = Slow(5.0)
    task, _, _ = collecting_task(FrameProcessor(), slow)
    await task.start()
    await task.queue_frame(SpeakFrame(text="long"))
    while not slow.started:  # noqa: ASYNC110
        await asyncio.sleep(0.01)
    await task.stop(timeout=0.05)  # the first stage ends; the slow one cannot drain in time
    assert slow.closed and not slow.running
