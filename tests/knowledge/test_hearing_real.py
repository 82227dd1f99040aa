"""Clinical words Whisper base mishears in real decodes of espeak-ng speech, put right by the
vocabulary check; a sentence it hears right is left alone.

Each clip is one Whisper mishears on this machine ("pantoprazole" came out as "and to
presole", "metformin" as "met for me"). Another build of CTranslate2 may hear some of them
right (its output moved between runs here: "met for me", "met for men"), so the test counts:
misheard terms must come back (at least two), and a term Whisper heard must never be lost.
"""

from __future__ import annotations

import hashlib
import wave
from pathlib import Path

import numpy as np
import pytest

from tests.speech import espeak_available

pytestmark = [
    pytest.mark.models,
    pytest.mark.skipif(not espeak_available(), reason="espeak-ng and sox are needed"),
]

# (what is said, espeak voice, speed, intake topic, the clinical term in it)
MISHEARD = [
    ("I take pantoprazole in the morning.", "en-us", 150, "medications", "pantoprazole"),
    ("I take pantoprazole in the morning.", "en-gb", 150, "medications", "pantoprazole"),
    ("I take metformin and amlodipine every day.", "en-us", 150, "medications", "metformin"),
    ("I am taking telmisartan for blood pressure.", "en-gb", 150, "medications", "telmisartan"),
    ("I am allergic to penicillin.", "en-us", 130, "allergies", "penicillin"),
    ("My child has loose motions since last night.", "en-029", 150, "complaint", "loose motion"),
    ("I have fever with shivering.", "en-gb-scotland", 150, "complaint", "shivering"),
    ("I take metformin and amlodipine every day.", "en-gb", 185, "medications", "metformin"),
]
HEARD_RIGHT = ("I have had a fever and a dry cough for three days.", "en-gb", 150, "complaint")
# Heard wrong without a prompt ("met for me", "panicelin"); right with the topic's prompt.
PROMPTED = [
    ("I take metformin and amlodipine every day.", "en-us", 150, "medications", "metformin"),
    ("I take pantoprazole in the morning.", "en-us", 150, "medications", "pantoprazole"),
    ("I am allergic to penicillin.", "en-us", 130, "allergies", "penicillin"),
]


@pytest.fixture(scope="module")
def stt():
    from dhanvantri.pipeline.stt_whisper import WhisperSTT

    return WhisperSTT(word_probabilities=True)


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory):
    from benchmarks.make_speech import make

    folder = tmp_path_factory.mktemp("hearing")

    def clip(text: str, voice: str, speed: int) -> np.ndarray:
        name = hashlib.sha1(f"{text}|{voice}|{speed}".encode()).hexdigest()[:12]
        path: Path = make(folder, name, text, speed, voice, quiet=True)
        with wave.open(str(path)) as wav:
            pcm = np.frombuffer(wav.readframes(wav.getnframes()), dtype=np.int16)
        return pcm.astype(np.float32) / 32768.0

    return clip


def test_misheard_clinical_words_are_put_right(stt, clips) -> None:
    from dhanvantri.knowledge.hearing import correct

    misheard, fixed, seen = 0, 0, []
    for text, voice, speed, topic, term in MISHEARD:
        transcript = stt.transcribe(clips(text, voice, speed))
        hearing = correct(transcript.words, topic)
        seen.append(f"{voice} {speed}: {transcript.text!r} -> {hearing.text!r}")
        if term in transcript.text.lower():
            assert term in hearing.text.lower(), seen[-1]  # a term heard is never lost
            continue
        misheard += 1
        if term in hearing.text.lower():
            fixed += 1
            assert term in [t.lower() for t in hearing.unsure], seen[-1]  # read back
    assert misheard >= 3, "Whisper hears these right now: choose clips it mishears\n" + \
        "\n".join(seen)
    # Which clips Whisper mishears, and how, moves between runs (4 to 7 of 8 were put right
    # here): at least two must come back, each read back to the patient.
    assert fixed >= 2, "\n".join(seen)


def test_a_sentence_heard_right_is_left_alone(stt, clips) -> None:
    from dhanvantri.knowledge.hearing import correct

    text, voice, speed, topic = HEARD_RIGHT
    transcript = stt.transcribe(clips(text, voice, speed))
    if not all(w in transcript.text.lower() for w in ("fever", "dry cough")):
        pytest.skip(f"Whisper misheard the control sentence here: {transcript.text!r}")
    hearing = correct(transcript.words, topic)
    assert hearing.text == transcript.text
    assert hearing.corrections == ()


def test_the_listening_prompt_lets_whisper_hear_the_term_and_adds_no_negation(stt, clips) -> None:
    from dhanvantri.knowledge.hearing import listening_prompt

    heard = []
    for text, voice, speed, topic, term in PROMPTED:
        transcript = stt.transcribe(clips(text, voice, speed), prompt=listening_prompt(topic))
        heard.append(term in transcript.text.lower())
        # The allergies prompt says "not allergic": it must never put a "not" in an answer.
        assert not {"no", "not"} & set(transcript.text.lower().replace(",", " ").split()), \
            transcript.text
    assert sum(heard) >= 2, heard
