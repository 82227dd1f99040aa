"""Silero VAD (the ONNX file shipped in the faster-whisper wheel), streamed chunk by chunk."""

from __future__ import annotations

from pathlib import Path

import numpy as np


class SileroVAD:
    """Speech probability for each 32 ms chunk of 16 kHz audio, keeping the model's state.

    Args:
        path: the Silero ONNX model (default: the one inside faster-whisper).
    """

    chunk_samples = 512
    _context_samples = 64

    def __init__(self, path: Path | None = None) -> None:
        import onnxruntime

        from dhanvantri.models import silero_vad_path

        options = onnxruntime.SessionOptions()
        options.inter_op_num_threads = 1
        options.intra_op_num_threads = 1
        options.log_severity_level = 4
        self._session = onnxruntime.InferenceSession(
            str(path or silero_vad_path()), providers=["CPUExecutionProvider"], sess_options=options
        )
        self.reset()

    def reset(self) -> None:
        """Start a new stream."""
        self._h = np.zeros((1, 1, 128), dtype=np.float32)
        self._c = np.zeros((1, 1, 128), dtype=np.float32)
        self._context = np.zeros(self._context_samples, dtype=np.float32)

    def speech_probability(self, chunk: np.ndarray) -> float:
        """Probability that ``chunk`` (512 float32 samples in [-1, 1]) is speech."""
        window = np.concatenate([self._context, chunk.astype(np.float32)])[None, :]
        out, self._h, self._c = self._session.run(
            None, {"input": window, "h": self._h, "c": self._c}
        )
        self._context = window[0, -self._context_samples :]
        return float(np.asarray(out).reshape(-1)[0])
