"""Sample-rate conversion of synthesised speech for the transport."""

from __future__ import annotations

import numpy as np


def resample(audio: np.ndarray, source_rate: int, target_rate: int) -> np.ndarray:
    """int16 mono audio at ``target_rate`` (soxr, high quality)."""
    if source_rate == target_rate:
        return audio
    import soxr

    out = soxr.resample(audio.astype(np.float32) / 32768.0, source_rate, target_rate)
    return np.clip(out * 32768.0, -32768, 32767).astype(np.int16)
