"""What a transport does with the frames that leave the pipeline.

Reply audio goes into a :class:`PlayoutBuffer` that the transport drains at its own pace;
barge-in clears it; events go to the client as JSON; the state indicator follows the audio.
Both transports (WebRTC and WebSocket) and the benchmark use this one class.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from dhanvantri.pipeline.frames import (
    ErrorFrame,
    EscalationFrame,
    EventFrame,
    Frame,
    InterruptionFrame,
    OutputAudioFrame,
    TurnEndFrame,
    UserStartedSpeakingFrame,
    VisemeFrame,
)
from dhanvantri.pipeline.playout import PlayoutBuffer

EventSink = Callable[[dict[str, Any]], None]


class ClientOutput:
    """Routes pipeline output to a client.

    Args:
        sample_rate: the transport's audio rate (the pipeline's output rate).
        send_event: delivers one JSON event to the client.
    """

    def __init__(self, sample_rate: int, send_event: EventSink) -> None:
        self.send_event = send_event
        self.playout = PlayoutBuffer(sample_rate, on_started=lambda: self._state("speaking"),
                                     on_stopped=lambda: self._on_stopped(),
                                     on_marker=self._on_audio_started)
        self.state = "listening"
        self._visemes: dict[int, tuple[tuple[str, int, int], ...]] = {}
        # Called with a viseme timeline the moment its audio starts playing (the avatar).
        self.viseme_listeners: list[Callable[[tuple[tuple[str, int, int], ...]], None]] = []

    def _on_audio_started(self, audio_id: object) -> None:
        visemes = self._visemes.pop(audio_id, None)  # type: ignore[call-overload]
        if visemes:
            for listener in self.viseme_listeners:
                listener(visemes)

    def _on_stopped(self) -> None:
        self._visemes.clear()
        for listener in self.viseme_listeners:
            listener(())  # mouth at rest
        self._state("listening")

    def _state(self, value: str) -> None:
        if value != self.state:
            self.state = value
            self.send_event({"type": "state", "value": value})

    def __call__(self, frame: Frame) -> None:
        """The pipeline task's ``on_output`` callback."""
        if isinstance(frame, OutputAudioFrame):
            self.playout.push(frame.audio, marker=frame.id)
        elif isinstance(frame, VisemeFrame):
            self._visemes[frame.audio_id] = frame.visemes
        elif isinstance(frame, InterruptionFrame):
            self.playout.clear()
        elif isinstance(frame, UserStartedSpeakingFrame):
            self._state("listening")
        elif isinstance(frame, TurnEndFrame):
            self._state("thinking")
        elif isinstance(frame, EventFrame):
            self.send_event(frame.event)
        elif isinstance(frame, EscalationFrame):
            self.send_event({"type": "escalation", "reason": frame.reason,
                             "red_flags": list(frame.red_flags), "emergency": frame.emergency})
        elif isinstance(frame, ErrorFrame):
            self.send_event({"type": "error", "code": frame.category, "message": frame.message})

    def next_audio(self, samples: int) -> np.ndarray:
        """The next ``samples`` of reply audio, or silence when there is none."""
        audio = self.playout.pull(samples)
        return audio if audio is not None else np.zeros(samples, dtype=np.int16)
