"""Per-turn latency, read from frame timestamps by an observer beside the pipeline."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from dhanvantri.pipeline.frames import (
    Direction,
    Frame,
    InterruptionFrame,
    LLMTextFrame,
    OutputAudioFrame,
    TranscriptionFrame,
    TurnEndFrame,
)

STAGES = ("turn_end", "stt_final", "llm_first_token", "tts_first_audio")


@dataclass
class TurnTimes:
    """When each milestone of one turn happened (monotonic seconds; None until it does)."""

    turn: int
    speech_end: float = 0.0
    at: dict[str, float] = field(default_factory=dict)

    def ms_since(self, origin: float) -> dict[str, float]:
        """Milestones in milliseconds after ``origin`` (e.g. the last speech sample).

        ``voice_to_voice`` is when the reply can first be heard: its first audio, but never
        before the turn is certain (a reply prepared during the hangover waits for turn end).
        """
        ms = {name: round((t - origin) * 1e3, 1) for name, t in self.at.items()}
        if "tts_first_audio" in ms and "turn_end" in ms:
            ms["voice_to_voice"] = max(ms["tts_first_audio"], ms["turn_end"])
        return ms


class LatencyObserver:
    """Records the first time each milestone is seen for every turn.

    Args:
        on_reply_audio: called with the turn's times when its first reply audio is produced.
    """

    def __init__(self, on_reply_audio: Callable[[TurnTimes], None] | None = None) -> None:
        self.turns: dict[int, TurnTimes] = {}
        self.on_reply_audio = on_reply_audio

    def _mark(self, turn: int, name: str, when: float) -> TurnTimes:
        times = self.turns.setdefault(turn, TurnTimes(turn))
        times.at.setdefault(name, when)
        return times

    def on_push(self, source: object, frame: Frame, direction: Direction) -> None:
        """Observer hook: called for every frame pushed between stages."""
        if direction is not Direction.DOWNSTREAM or not frame.turn:
            return
        if isinstance(frame, InterruptionFrame):
            # Work done for a turn the patient then continued is void: measure the redo.
            if "turn_end" not in self.turns.get(frame.turn, TurnTimes(0)).at:
                self.turns.pop(frame.turn, None)
        elif isinstance(frame, TurnEndFrame):
            self._mark(frame.turn, "turn_end", frame.created).speech_end = frame.speech_end_at
        elif isinstance(frame, TranscriptionFrame) and frame.final:
            self._mark(frame.turn, "stt_final", frame.created)
        elif isinstance(frame, LLMTextFrame):
            self._mark(frame.turn, "llm_first_token", frame.created)
        elif isinstance(frame, OutputAudioFrame) and not frame.canned:
            first = "tts_first_audio" not in self.turns.get(frame.turn, TurnTimes(0)).at
            times = self._mark(frame.turn, "tts_first_audio", frame.created)
            if first and self.on_reply_audio is not None:
                self.on_reply_audio(times)
