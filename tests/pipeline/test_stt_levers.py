"""WhisperSTT's decoding levers with the real model on espeak-ng speech: the window, the beam,
the prompt and the word probabilities, and the words that matter clinically (negations,
numbers) with the default settings."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pytest

from tests.speech import espeak_available

pytestmark = [
    pytest.mark.models,
    pytest.mark.skipif(not espeak_available(), reason="espeak-ng and sox are needed"),
]


@pytest.fixture(scope="module")
def stt():
    from dhanvantri.pipeline.stt_whisper import WhisperSTT

    return WhisperSTT()


@pytest.fixture(scope="module")
def scored():
    from dhanvantri.pipeline.stt_whisper import WhisperSTT

    return WhisperSTT(word_probabilities=True)


def audio_of(speech, text: str) -> np.ndarray:
    return speech(text).astype(np.float32) / 32768.0


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.lower())


class Recorder:
    """Passes every call on to a real CTranslate2 model and keeps what it was given."""

    def __init__(self, inner: Any, calls: list[tuple[str, Any]]) -> None:
        self._inner, self._calls = inner, calls

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._inner, name)
        if name not in ("encode", "generate", "align"):
            return value

        def record(*args: Any, **kwargs: Any) -> Any:
            self._calls.append((name, args[0].shape if name == "encode" else kwargs))
            return value(*args, **kwargs)

        return record


def record_calls(stt) -> list[tuple[str, Any]]:
    """The encode, generate and align calls ``stt`` makes from now on, in order."""
    calls: list[tuple[str, Any]] = []
    for whisper in (stt.model, stt.single, stt.partials):
        whisper.model = Recorder(whisper.model, calls)
    return calls


@pytest.mark.parametrize(
    ("said", "negation"),
    [
        # greedy decoding heard "Oh, I am hot allergic" and "I do hot smoke"
        ("No, I am not allergic to anything.", {"not"}),
        # Whisper base hears "I do hot smoke" on some runs (int8 decodes move between
        # processes; CI failed on it once): shown, not counted, until issue 16 hears it.
        pytest.param("I do not smoke.", {"not", "don't"}, marks=pytest.mark.xfail(
            strict=False, reason="Whisper base sometimes hears 'I do hot smoke'")),
    ],
)
def test_a_negation_is_heard(stt, speech, said: str, negation: set[str]) -> None:
    heard = stt.transcribe(audio_of(speech, said)).text
    assert negation & set(words(heard)), heard


@pytest.mark.parametrize(
    ("said", "number"),
    [
        # On a Zen 4 machine (AVX-512, another espeak-ng build) both sentences ended early,
        # before and after the batched decodes: "I take met", with either CPU kernel set.
        # Shown, not counted, until issue 16 hears them.
        pytest.param("I take metformin five hundred milligrams twice a day.", "500",
                     marks=pytest.mark.xfail(strict=False, reason="Whisper base ends early")),
        pytest.param("My temperature is one hundred and one degrees.", "101",
                     marks=pytest.mark.xfail(strict=False, reason="Whisper base ends early")),
    ],
)
def test_a_number_keeps_its_value(stt, speech, said: str, number: str) -> None:
    heard = stt.transcribe(audio_of(speech, said)).text
    assert number in words(heard), heard


def test_an_empty_prompt_decodes_as_none_and_a_prompt_is_never_transcribed(stt, speech) -> None:
    audio = audio_of(speech, "I have a headache since yesterday morning.")
    plain = stt.transcribe(audio)
    assert stt.transcribe(audio, prompt="").tokens == plain.tokens
    prompted = stt.transcribe(audio, prompt="Do you have any other symptoms? Fever, cough.")
    assert "symptoms" not in words(prompted.text)


def test_a_prompt_steers_towards_the_clinical_word(stt, speech) -> None:
    # Whisper base often hears espeak's "diabetes" as "to die me these" (not always: its
    # threads do not add up in the same order every run); with the word expected and the
    # question asked, it hears the word every time.
    audio = audio_of(speech, "I do not have diabetes.")
    prompt = "fever, cough, asthma, diabetes, blood pressure. Do you have any long illness?"
    for _ in range(3):
        assert "diabetes" in words(stt.transcribe(audio, prompt=prompt).text)


def test_word_probabilities_spell_the_text_and_doubt_the_garbled(scored, speech) -> None:
    said = "I have a blorficated knee and a zindle on my arm."
    result = scored.transcribe(audio_of(speech, said))
    assert result.words, result.text
    assert " ".join(w.text for w in result.words) == result.text
    assert all(0.0 < w.probability <= 1.0 for w in result.words)
    # espeak's made-up words come out as guesses ("zindol" at 0.05), while words it said
    # clearly come out sure ("my" at 1.0)
    heard = [(w.probability, set(words(w.text)) <= set(words(said))) for w in result.words]
    made_up = [p for p, real in heard if not real]
    real = [p for p, real in heard if real]
    assert made_up and real, result.text
    assert min(made_up) < 0.3 < 0.8 < max(real), result.text


def test_word_probabilities_cover_a_forced_prefix_and_only_finals(speech) -> None:
    from dhanvantri.pipeline.stt_whisper import WhisperSTT

    stt = WhisperSTT(beam_size=1, word_probabilities=True)
    calls = record_calls(stt)
    audio = audio_of(speech, "I have a sore throat and a runny nose.")
    whole = stt.transcribe(audio)
    forced = stt.transcribe(audio, whole.tokens[:3])
    assert forced.tokens == whole.tokens
    # the forced tokens are scored as if decoded: greedy steps carry every token's logits
    assert [w.probability for w in forced.words] == pytest.approx(
        [w.probability for w in whole.words], abs=0.02
    )
    assert " ".join(w.text for w in forced.words) == forced.text
    assert "align" not in [name for name, _ in calls]
    assert stt.transcribe(audio, partial=True).words == ()


def test_the_final_window_is_what_the_encoder_sees(speech) -> None:
    from dhanvantri.pipeline.stt_whisper import WhisperSTT

    audio = audio_of(speech, "My child has loose motions since last night.")
    assert 2.0 < len(audio) / 16000 < 5.0
    for seconds, frames in ((5, 500), (15, 1500), (30, 3000)):
        stt = WhisperSTT(final_window_seconds=seconds)
        calls = record_calls(stt)
        stt.transcribe(audio)
        stt.transcribe(audio, partial=True)
        # the partial keeps its own short window whatever the final's
        assert [shape[-1] for name, shape in calls if name == "encode"] == [frames, 500]


def test_the_beam_is_used_on_unprompted_finals_only(speech) -> None:
    from dhanvantri.pipeline.stt_whisper import WhisperSTT

    stt = WhisperSTT(word_probabilities=True)
    calls = record_calls(stt)
    audio = audio_of(speech, "I feel dizzy when I stand up.")
    final = stt.transcribe(audio)
    prompted = stt.transcribe(audio, prompt="Do you feel dizzy or faint?")
    stt.transcribe(audio, partial=True)
    beams = [kwargs["beam_size"] for name, kwargs in calls if name == "generate"]
    assert beams == [3, 1, 1]
    # a beam's steps carry no logits: its words are scored by one teacher-forced pass
    assert [name for name, _ in calls].count("align") == 1
    for result in (final, prompted):
        assert result.words and all(0.0 < w.probability <= 1.0 for w in result.words)
    chosen = WhisperSTT(beam_size=2)
    calls = record_calls(chosen)
    chosen.transcribe(audio, prompt="Do you feel dizzy or faint?")
    assert [kwargs["beam_size"] for name, kwargs in calls if name == "generate"] == [2]
