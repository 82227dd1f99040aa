"""Test speech made with espeak-ng and sox (Debian packages), cached per test session."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import wave
from pathlib import Path

import numpy as np
import pytest


def espeak_available() -> bool:
    """True when espeak-ng and sox are installed."""
    return bool(shutil.which("espeak-ng") and shutil.which("sox"))


def make_speech(folder: Path, text: str, *, rate: int = 16000, speed: int = 140) -> Path:
    """A 16-bit mono WAV of ``text`` spoken by espeak-ng (slow, clear American English)."""
    if not espeak_available():
        pytest.fail(
            "espeak-ng and sox are required for speech tests (apt-get install espeak-ng sox)"
        )
    name = hashlib.sha1(f"{text}|{rate}|{speed}".encode()).hexdigest()[:12]
    target = folder / f"{name}.wav"
    if not target.exists():
        raw = folder / f"{name}.raw.wav"
        subprocess.run(
            ["espeak-ng", "-v", "en-us", "-s", str(speed), "-w", str(raw), text], check=True
        )
        subprocess.run(
            ["sox", str(raw), "-r", str(rate), "-c", "1", "-b", "16", str(target)], check=True
        )
    return target


def microphone_wav(folder: Path, name: str, text: str, *, before: float, after: float) -> Path:
    """A 48 kHz WAV for Chromium's fake microphone: ``before`` s of silence, ``text``, ``after``.

    Chromium loops the file, so ``after`` is the pause before the words come again.
    """
    raw, target = folder / f"{name}.raw.wav", folder / f"{name}.wav"
    subprocess.run(["espeak-ng", "-v", "en-us", "-s", "140", "-w", str(raw), text], check=True)
    subprocess.run(["sox", str(raw), "-r", "48000", "-c", "1", "-b", "16", str(target),
                    "pad", str(before), str(after)], check=True)
    return target


def read_pcm(path: Path) -> np.ndarray:
    """int16 samples of a mono WAV."""
    with wave.open(str(path)) as wav:
        return np.frombuffer(wav.readframes(wav.getnframes()), dtype=np.int16).copy()
