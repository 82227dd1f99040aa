"""Text-to-speech with Piper (en_US-joe-medium), with phoneme timing for lip sync."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from dhanvantri.pipeline.services import SpeechChunk

# onnxruntime's run option that hands the CPU arena's free chunks back when a run ends.
ARENA_SHRINKAGE = "memory.enable_memory_arena_shrinkage"


class _ShrinkingSession:
    """Piper's onnxruntime session, its memory arena shrunk after every run.

    The arena grows to fit each run's tensors, and each sentence has a length of its own (two
    syntheses at once need room for both); without shrinking it keeps its peak for good: the
    server's RSS rose ~5 MB per consultation and never came down (``benchmarks/soak.py``;
    Piper alone: +230 MB over 80 sentences, +20 MB with this). The arena still serves the
    allocations within a run, so shrinking costs little: ~15 ms on a 200 ms synthesis of a
    4-second sentence. Piper calls ``session.run`` without run options, hence this wrapper.
    """

    def __init__(self, session: Any) -> None:
        import onnxruntime

        self._session = session
        self._options = onnxruntime.RunOptions()
        self._options.add_run_config_entry(ARENA_SHRINKAGE, "cpu:0")

    def run(self, output_names: Any, input_feed: Any, run_options: Any = None) -> Any:
        return self._session.run(output_names, input_feed, run_options or self._options)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._session, name)


def _session(path: Path, threads: int) -> Any:
    """The voice's onnxruntime session on ``threads`` threads, with the phoneme alignments
    output Piper adds when it loads a voice itself (``include_alignments``)."""
    import onnx
    import onnxruntime
    from piper.patch_voice_with_alignment import add_alignment_output

    model = onnx.load(str(path))
    add_alignment_output(model)
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    return onnxruntime.InferenceSession(
        model.SerializeToString(), sess_options=options, providers=["CPUExecutionProvider"]
    )


class PiperTTS:
    """Blocking synthesiser; call it from a worker thread.

    Args:
        voice_path: the voice's ``.onnx`` file (its ``.onnx.json`` beside it).
        length_scale: speaking pace (< 1 is faster).
        threads: onnxruntime threads per synthesis (0: its default, a thread a core). One
            thread spent 228 ms of CPU on a phrase where two spent 474 (the same words): with
            several consultations speaking at once, the cores go further one thread each.
    """

    def __init__(
        self, voice_path: Path | None = None, *, length_scale: float | None = None,
        threads: int = 1,
    ) -> None:
        try:
            from piper import PiperVoice, SynthesisConfig
        except ImportError as exc:  # pragma: no cover - install hint
            raise ImportError("piper-tts is missing: run scripts/setup.sh") from exc
        from dhanvantri.models import piper_voice_path

        path = voice_path or piper_voice_path()
        self.voice = PiperVoice.load(str(path), include_alignments=not threads)
        session = _session(path, threads) if threads else self.voice.session
        self.voice.session = _ShrinkingSession(session)
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
