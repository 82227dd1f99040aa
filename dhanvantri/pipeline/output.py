"""What a transport does with the frames that leave the pipeline.

Reply audio goes into a :class:`PlayoutBuffer` that the transport drains at its own pace;
the first chunk of the patient's speech holds it, barge-in clears it; events go to the client
as JSON; the state indicator follows the audio.
A reply prepared before its turn was certain is held here until the turn is committed.
Both transports (WebRTC and WebSocket) and the benchmark use this one class.

Others join what the client hears through methods, never by editing its lists: live voices
mixed in (:meth:`ClientOutput.add_feed`), taps on the reply audio (:meth:`~ClientOutput.add_tap`)
and mouth-shape listeners (:meth:`~ClientOutput.add_viseme_listener`).
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
    SpeechOnsetFrame,
    SpeechOnsetVoidFrame,
    TurnCommittedFrame,
    TurnEndFrame,
    UserStartedSpeakingFrame,
    VisemeFrame,
)
from dhanvantri.pipeline.playout import LiveFeed, PlayoutBuffer, mix

EventSink = Callable[[dict[str, Any]], None]
Timeline = tuple[tuple[str, int, int], ...]  # (viseme, start ms, duration ms)
VisemeListener = Callable[[Timeline], None]
AudioTap = Callable[[np.ndarray], None]


class ClientOutput:
    """Routes pipeline output to a client.

    Args:
        sample_rate: the transport's audio rate (the pipeline's output rate).
        send_event: delivers one JSON event to the client.
    """

    def __init__(self, sample_rate: int, send_event: EventSink) -> None:
        self.send_event = send_event
        self.playout = PlayoutBuffer(
            sample_rate,
            on_started=lambda: self._state("speaking"),
            on_stopped=lambda: self._on_stopped(),
            on_marker=self._on_audio_started,
        )
        self.state = "listening"
        self.committed_turn = 0
        self._held: list[Frame] = []  # reply output of a turn not yet committed
        self._visemes: dict[object, Timeline] = {}
        self._viseme_listeners: list[VisemeListener] = []
        self._feeds: list[LiveFeed] = []
        self._taps: list[AudioTap] = []

    # ------------------------------------------------------------------ who else takes part
    def add_feed(self, feed: LiveFeed) -> None:
        """Mix a live voice into what the client hears (a physician who took the call)."""
        if feed not in self._feeds:
            self._feeds.append(feed)

    def remove_feed(self, feed: LiveFeed) -> None:
        """Stop mixing ``feed`` in; a feed not added is ignored."""
        if feed in self._feeds:
            self._feeds.remove(feed)

    def add_tap(self, tap: AudioTap) -> None:
        """Call ``tap`` with each frame of reply audio as the client hears it (a physician)."""
        self._taps.append(tap)

    def remove_tap(self, tap: AudioTap) -> None:
        """Stop calling ``tap``; a tap not added is ignored."""
        if tap in self._taps:
            self._taps.remove(tap)

    def add_viseme_listener(self, listener: VisemeListener) -> None:
        """Call ``listener`` with a viseme timeline the moment its audio starts (the avatar)."""
        self._viseme_listeners.append(listener)

    def remove_viseme_listener(self, listener: VisemeListener) -> None:
        """Stop calling ``listener``; a listener not added is ignored."""
        if listener in self._viseme_listeners:
            self._viseme_listeners.remove(listener)

    @property
    def viseme_listeners(self) -> tuple[VisemeListener, ...]:
        """The mouth-shape listeners now registered."""
        return tuple(self._viseme_listeners)

    def close(self) -> None:
        """The session ended: drop queued audio and let go of feeds, taps and listeners."""
        self.playout.clear()
        self._viseme_listeners.clear()
        self._feeds.clear()
        self._taps.clear()

    # ------------------------------------------------------------------ playing
    def _on_audio_started(self, audio_id: object) -> None:
        visemes = self._visemes.pop(audio_id, None)
        if visemes:
            for listener in list(self._viseme_listeners):
                listener(visemes)

    def _on_stopped(self) -> None:
        self._visemes.clear()
        for listener in list(self._viseme_listeners):
            listener(())  # mouth at rest
        self._state("listening")

    def _state(self, value: str) -> None:
        if value != self.state:
            self.state = value
            self.send_event({"type": "state", "value": value})

    def _must_hold(self, frame: Frame) -> bool:
        if frame.turn <= self.committed_turn:
            return False
        if isinstance(frame, (OutputAudioFrame, VisemeFrame)):
            return True
        return isinstance(frame, EventFrame) and (
            frame.event.get("type") == "viseme" or frame.event.get("role") == "assistant"
        )

    def __call__(self, frame: Frame) -> None:
        """The pipeline task's ``on_output`` callback."""
        if self._must_hold(frame):
            self._held.append(frame)
        elif isinstance(frame, TurnCommittedFrame):
            self.committed_turn = max(self.committed_turn, frame.turn)
            self._state("thinking")
            held, self._held = self._held, []
            for waiting in held:
                self(waiting)
        elif isinstance(frame, OutputAudioFrame):
            self.playout.push(frame.audio, marker=frame.id)
        elif isinstance(frame, VisemeFrame):
            self._visemes[frame.audio_id] = frame.visemes
        elif isinstance(frame, InterruptionFrame):
            self._held.clear()
            self.playout.clear()
        elif isinstance(frame, SpeechOnsetFrame):
            self.playout.hold()  # the patient may be talking over the reply
        elif isinstance(frame, SpeechOnsetVoidFrame):
            self.playout.release()
        elif isinstance(frame, UserStartedSpeakingFrame):
            self._state("listening")
        elif isinstance(frame, TurnEndFrame):
            self._state("thinking")
        elif isinstance(frame, EventFrame):
            self.send_event(frame.event)
        elif isinstance(frame, EscalationFrame):
            self.send_event(
                {
                    "type": "escalation",
                    "reason": frame.reason,
                    "red_flags": list(frame.red_flags),
                    "emergency": frame.emergency,
                    "topics": list(frame.topics),
                    "turn": frame.turn,
                }
            )
        elif isinstance(frame, ErrorFrame):
            self.send_event({"type": "error", "code": frame.category, "message": frame.message})

    def pull(self, samples: int) -> np.ndarray | None:
        """The next ``samples`` the client hears (reply audio and live voices), or None."""
        reply = self.playout.pull(samples)
        if reply is not None:
            for tap in list(self._taps):
                tap(reply)
        return mix([reply, *(feed.pull(samples) for feed in list(self._feeds))])

    def next_audio(self, samples: int) -> np.ndarray:
        """The next ``samples`` the client hears, or silence when there is nothing."""
        audio = self.pull(samples)
        return audio if audio is not None else np.zeros(samples, dtype=np.int16)
