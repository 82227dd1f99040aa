"""Adds the avatar's mouth shapes to each piece of reply audio."""

from __future__ import annotations

from dhanvantri.pipeline.frames import Direction, EventFrame, Frame, OutputAudioFrame, VisemeFrame
from dhanvantri.pipeline.processor import FrameProcessor
from dhanvantri.pipeline.visemes import timeline


class LipSync(FrameProcessor):
    """Emits a :class:`VisemeFrame` (and a ``viseme`` event) just ahead of each audio frame."""

    async def process_frame(self, frame: Frame, direction: Direction) -> None:
        if isinstance(frame, OutputAudioFrame) and frame.phonemes:
            shapes = timeline(frame.phonemes, frame.phoneme_rate)
            await self.push_frame(VisemeFrame(audio_id=frame.id, visemes=shapes, turn=frame.turn))
            await self.push_frame(
                EventFrame(
                    turn=frame.turn,
                    event={
                        "type": "viseme",
                        "audio_id": frame.id,
                        "turn": frame.turn,
                        "visemes": [list(v) for v in shapes],
                    },
                )
            )
        await self.push_frame(frame, direction)
