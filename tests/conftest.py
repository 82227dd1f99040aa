"""Fixtures shared by every test package."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")


@pytest.fixture(scope="session")
def speech(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], np.ndarray]:
    """``speech(text)`` → int16 16 kHz samples of espeak-ng saying ``text``."""
    from tests.speech import make_speech, read_pcm

    folder = tmp_path_factory.mktemp("speech")

    def say(text: str) -> np.ndarray:
        return read_pcm(make_speech(folder, text))

    return say


@pytest.fixture(scope="session")
def speech_file(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """``speech_file(text)`` → path of a 16 kHz mono WAV of espeak-ng saying ``text``."""
    from tests.speech import make_speech

    folder = tmp_path_factory.mktemp("speech_files")
    return lambda text: make_speech(folder, text)
