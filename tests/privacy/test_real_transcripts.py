"""Real speech-to-text output: espeak-ng speaks, Whisper base transcribes, the detector redacts.

Whisper mangles spoken digits ("nine eight seven six five ..." comes out as "I-8765-43210") and
names; these tests check the privacy property that matters — no name or long digit run survives
redaction — on what the recogniser actually produces, in its own casing and in lowercase.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from dhanvantri.privacy import PhiDetector, TokenVault
from tests.speech import espeak_available, make_speech, read_pcm

pytestmark = pytest.mark.models


@pytest.fixture(scope="module")
def whisper():
    if not espeak_available():
        pytest.skip("espeak-ng and sox are needed to make test speech")
    from faster_whisper import WhisperModel

    from dhanvantri.models import whisper_dir

    if not (whisper_dir() / "model.bin").is_file():
        pytest.skip("Whisper is not installed: run `dhanvantri setup`")
    return WhisperModel(str(whisper_dir()), device="cpu", compute_type="int8", cpu_threads=2)


def transcribe(model, folder: Path, said: str) -> str:
    audio = read_pcm(make_speech(folder, said)).astype("float32") / 32768
    segments, _ = model.transcribe(audio, language="en", beam_size=1)
    return " ".join(s.text.strip() for s in segments)


def _forms(text: str) -> list[str]:
    lower = re.sub(r"[^\w\s@'-]", " ", text.lower())
    return [text, " ".join(lower.split())]


def test_spoken_phone_and_name_do_not_survive(whisper, detector: PhiDetector, tmp_path) -> None:
    heard = transcribe(
        whisper,
        tmp_path,
        "Hello doctor, this is Rajesh Kumar calling. "
        "My number is nine eight seven six five, four three two one zero.",
    )
    for text in _forms(heard):
        redacted = TokenVault("t", b"k" * 32, detector).tokenize(text).text
        assert "rajesh" not in redacted.lower(), (heard, redacted)
        assert not re.search(r"\d{5}", redacted.replace("-", "")), (heard, redacted)
        assert "<PHONE_1>" in redacted, (heard, redacted)


def test_clinical_speech_is_left_alone(whisper, detector: PhiDetector, tmp_path) -> None:
    heard = transcribe(
        whisper, tmp_path, "I have had a cough for three days and I take paracetamol twice a day."
    )
    for text in _forms(heard):
        assert detector.detect(text) == [], heard
