"""Redaction on real speech-to-text output: espeak-ng speaks, Whisper base transcribes.

Gold spans cannot be carried through a recogniser that rewrites the words, so this measures
leaks instead: after redaction, does any run of 4+ digits survive, does any word of the
patient's name survive (counted only where Whisper heard the name right), and do the clinical
words Whisper heard survive? Needs espeak-ng, sox and the Whisper model from ``dhanvantri setup``.
"""

from __future__ import annotations

import random
import re
import shutil
import subprocess
import tempfile
import wave
from pathlib import Path

import numpy as np
from privacy_corpus import aadhaar, mobile, name, spoken_digits

TEMPLATES = [
    "Hello doctor, this is {NAME} calling. My number is {PHONE}.",
    "My Aadhaar number is {AADHAAR}. I have had fever for three days.",
    "My name is {NAME}. I have a cough and I take paracetamol twice a day.",
    "You can call me on {PHONE}. I am {NAME}.",
    "My daughter {GIVEN} has fever and vomiting. Her father's number is {PHONE}.",
    "Myself {NAME}, my sugar is high and I take metformin.",
]
CLINICAL_WORDS = ("fever", "cough", "paracetamol", "vomiting", "sugar", "metformin", "days")


def _speak(folder: Path, text: str, index: int) -> np.ndarray:
    raw, wav = folder / f"{index}.raw.wav", folder / f"{index}.wav"
    subprocess.run(["espeak-ng", "-v", "en-us", "-s", "140", "-w", str(raw), text], check=True)
    subprocess.run(["sox", str(raw), "-r", "16000", "-c", "1", "-b", "16", str(wav)], check=True)
    with wave.open(str(wav)) as w:
        pcm = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16)
    return pcm.astype("float32") / 32768


def _utterance(rng: random.Random) -> tuple[str, list[str]]:
    """A sentence to speak and the name words in it."""
    template = rng.choice(TEMPLATES)
    given, surname = name(rng)
    words = [given] if "{GIVEN}" in template else [given, surname]
    text = template.format(
        NAME=f"{given.title()} {surname.title()}",
        GIVEN=given.title(),
        PHONE=spoken_digits(rng, mobile(rng)),
        AADHAAR=spoken_digits(rng, aadhaar(rng)),
    )
    return text, words if "{NAME}" in template or "{GIVEN}" in template else []


def evaluate_speech(detector, count: int = 20, seed: int = 3) -> dict:
    """Speak ``count`` utterances, transcribe, redact, and count what leaks."""
    if not (shutil.which("espeak-ng") and shutil.which("sox")):
        return {"skipped": "espeak-ng and sox are not installed"}
    from faster_whisper import WhisperModel

    from dhanvantri.models import whisper_dir

    if not (whisper_dir() / "model.bin").is_file():
        return {"skipped": "Whisper is not installed: run `dhanvantri setup`"}
    model = WhisperModel(str(whisper_dir()), device="cpu", compute_type="int8", cpu_threads=2)
    rng = random.Random(seed)
    digit_leaks = names_heard = name_leaks = clin_heard = clin_kept = 0
    examples = []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(count):
            said, name_words = _utterance(rng)
            segments, _ = model.transcribe(_speak(Path(tmp), said, i), language="en", beam_size=1)
            heard = " ".join(s.text.strip() for s in segments)
            for text in (heard, " ".join(re.sub(r"[^\w\s@'-]", " ", heard.lower()).split())):
                redacted = _redact(detector, text)
                flat = re.sub(r"[\s-]", "", redacted)
                leaked = bool(re.search(r"\d{4}", flat))
                digit_leaks += leaked
                heard_words = set(re.findall(r"[a-z]+", text.lower()))
                kept_words = set(re.findall(r"[a-z]+", redacted.lower()))
                for w in name_words:
                    if w in heard_words:
                        names_heard += 1
                        name_leaks += w in kept_words
                for w in CLINICAL_WORDS:
                    if w in heard_words:
                        clin_heard += 1
                        clin_kept += w in kept_words
                if leaked or any(w in kept_words for w in name_words):
                    examples.append({"heard": text, "redacted": redacted})
    checked = count * 2
    return {
        "utterances": count,
        "transcripts_checked": checked,
        "digit_leak_rate": round(digit_leaks / checked, 4),
        "name_words_heard": names_heard,
        "name_leak_rate": round(name_leaks / max(names_heard, 1), 4),
        "clinical_words_heard": clin_heard,
        "clinical_kept": round(clin_kept / max(clin_heard, 1), 4),
        "leak_examples": examples[:8],
    }


def _redact(detector, text: str) -> str:
    for ent in reversed(detector.detect(text)):
        text = f"{text[: ent.start]}<{ent.type}>{text[ent.end :]}"
    return text
