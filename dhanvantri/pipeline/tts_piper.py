"""Text-to-speech with Piper (en_US-joe-medium), with phoneme timing for lip sync."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from dhanvantri.pipeline.services import SpeechChunk


class PiperTTS:
    """Blocking synthesiser; call it from a worker thread.

    Args:
        voice_path: the voice's ``.onnx`` file (its ``.onnx.json`` beside it).
        length_scale: speaking pace (< 1 is faster).
    """

    def __init__(
        self, voice_path: Path | None = None, *, length_scale: float | None = None
    ) -> None:
        try:
            from piper import PiperVoice, SynthesisConfig
        except ImportError as exc:  # pragma: no cover - install hint
            raise ImportError("piper-tts is missing: run scripts/setup.sh") from exc
        from dhanvantri.models import piper_voice_path

        self.voice = PiperVoice.load(str(voice_path or piper_voice_path()), include_alignments=True)
        self.config = SynthesisConfig(length_scale=length_scale)
        self.sample_rate = int(self.voice.config.sample_rate)

    def synthesize(self, text: str) -> list[SpeechChunk]:
        """One chunk per sentence of ``text``, each with its phonemes' lengths in samples."""
        chunks = []
        for chunk in self.voice.synthesize(text, self.config, include_alignments=True):
            phonemes = tuple(
                (a.phoneme, int(a.num_samples)) for a in chunk.phoneme_alignments or ()
            )
            chunks.append(
                SpeechChunk(
                    audio=np.asarray(chunk.audio_int16_array, dtype=np.int16),
                    sample_rate=int(chunk.sample_rate),
                    phonemes=phonemes,
                )
            )
        return chunks
