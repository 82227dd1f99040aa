"""benchmarks/stt_eval.py and stt_corpus.py: the normaliser, term recall, the evaluation set's
shape, and one tiny real run of the command (espeak-ng speech, Whisper base)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from dhanvantri.knowledge.lexicon import find_symptoms
from dhanvantri.knowledge.medicines import load_medicines
from tests.speech import espeak_available
from tests.support.scripts import assert_usage_error, load_benchmark, run_script

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
BENCH = BENCHMARKS / "stt_eval.py"


def load(name: str) -> ModuleType:
    return load_benchmark(name)


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    return load("stt_eval")  # puts benchmarks/ on sys.path for stt_corpus and make_speech


@pytest.fixture(scope="module")
def corpus(bench: ModuleType) -> ModuleType:
    return sys.modules["stt_corpus"]


@pytest.mark.parametrize(("a", "b"), [
    ("Five hundred mg.", "500 milligrams"),
    ("101 point 5", "one hundred and one point five"),
    ("It is 8/10", "it is eight out of ten"),
    ("I am twenty-five, I weigh 72 kg", "i am 25 i weigh seventy two kilograms"),
    ("a hundred and three", "103"),
    ("I didn\u2019t take it", "i didn't take it"),
])
def test_the_normaliser_makes_spoken_and_written_forms_equal(corpus: ModuleType, a: str,
                                                             b: str) -> None:
    assert corpus.normalise(a) == corpus.normalise(b)


def test_separate_numbers_stay_separate(corpus: ModuleType) -> None:
    assert corpus.normalise("one two three days") == ["1", "2", "3", "days"]
    assert corpus.normalise("one hundred and fever") == ["100", "and", "fever"]


def test_a_misheard_medicine_is_missed_and_its_dose_kept(corpus: ModuleType) -> None:
    said = corpus.Utterance("x", "medicines", "I take metformin five hundred milligrams.",
                            corpus.annotate("I take metformin five hundred milligrams."))
    assert said.terms["medicines"] == ["metformin"] and said.terms["numbers"] == ["500"]
    scored = corpus.score(said, "I take met from in 500 milligrams")
    assert scored["kept"]["medicines"] == 0 and scored["kept"]["numbers"] == 1
    assert scored["missed"] == {"medicines": ["metformin"]}
    assert scored["edits"] == 3 and scored["words"] == 5  # metformin -> met from in


def test_annotations_come_from_the_lexicons(corpus: ModuleType) -> None:
    terms = corpus.annotate("No, I didn't take Dolo for the bukhar and the dry cough, 3 days.")
    assert terms == {"symptoms": ["bukhar", "cough"], "medicines": ["dolo"],
                     "negations": ["no", "didn't"], "numbers": ["3"]}


def test_every_vocabulary_word_is_known_to_the_knowledge_base(corpus: ModuleType) -> None:
    for word in (*corpus.SYMPTOMS, *corpus.HINGLISH):
        assert find_symptoms(word), word
    table = load_medicines()
    assert all(table.lookup(name) for name, _ in corpus.MEDICINES)


def test_the_set_is_large_covers_every_category_and_is_the_same_each_time(
        bench: ModuleType, corpus: ModuleType) -> None:
    utterances = corpus.corpus()
    assert len(utterances) >= 300 and len({u.text for u in utterances}) == len(utterances)
    assert set(Counter(u.category for u in utterances)) == set(corpus.COUNTS)
    for kind in corpus.KINDS:
        assert sum(len(u.terms[kind]) for u in utterances) >= 40, kind
    corpus.corpus.cache_clear()
    assert corpus.corpus() == utterances


def test_every_voice_speed_and_noise_is_covered(bench: ModuleType, corpus: ModuleType) -> None:
    made_in = [bench.condition(i) for i in range(len(corpus.corpus()))]
    voices = Counter(voice for voice, _, _, _ in made_in)
    assert set(voices) == set(bench.VOICES) and min(voices.values()) >= 40
    combinations = {(voice, speed, noise) for voice, speed, noise, _ in made_in}
    assert len(combinations) == len(bench.VOICES) * len(bench.SPEEDS) * len(bench.NOISES)


def test_noise_is_mixed_at_the_asked_ratio_to_the_speech(bench: ModuleType) -> None:
    speech = (np.sin(np.arange(16000) / 5) * 8000).astype(np.int16)
    for kind in ("white", "pink"):
        speech_tools = sys.modules["make_speech"]
        mixed = speech_tools.mix(speech, speech_tools.noise(kind, 16000, 7), 10.0)
        added = mixed.astype(float) - speech
        snr = 20 * np.log10(np.sqrt(np.mean(speech.astype(float) ** 2))
                            / np.sqrt(np.mean(added**2)))
        assert abs(snr - 10.0) < 0.3, (kind, snr)


def test_recall_and_wer_add_up_over_clips(bench: ModuleType, corpus: ModuleType) -> None:
    said = corpus.Utterance("x", "negations", "No fever.", corpus.annotate("No fever."))
    right = {**corpus.score(said, "no fever"), "final_ms": 10.0, "compute_ms": 20.0,
             "audio_s": 1.0}
    wrong = {**corpus.score(said, "no femur"), "final_ms": 30.0, "compute_ms": 40.0,
             "audio_s": 1.0}
    summary = bench.summary([right, wrong])
    assert summary["wer"] == 0.25 and summary["recall"]["symptoms"] == 0.5
    assert summary["recall"]["negations"] == 1.0 and summary["recall"]["numbers"] is None
    assert summary["terms"]["any-clinical"] == [3, 4] and summary["rtf"] == 0.03


def test_every_configuration_runs_with_the_code_as_it_is(bench: ModuleType) -> None:
    """The table names WhisperSTT's options and the hearing module: a rename there shows here."""
    assert {name: bench.unavailable(c) for name, c in bench.CONFIGS.items()} == dict.fromkeys(
        bench.CONFIGS)


def test_a_lever_under_the_reference_is_listed(bench: ModuleType) -> None:
    def result(recall: float) -> dict[str, object]:
        figures = {"recall": {"symptoms": recall, "numbers": None}}
        return {"overall": figures, "per_voice": {"en-us": figures}}

    listed = bench.below_reference({"stock": result(0.8), "a": result(0.7), "b": result(0.9)})
    assert listed == ["a/all/symptoms: 0.7 < 0.8", "a/en-us/symptoms: 0.7 < 0.8"]


def run_bench(*args: str, timeout: float) -> subprocess.CompletedProcess[str]:
    return run_script(BENCH, *args, timeout=timeout)


@pytest.mark.parametrize("args", [["--configs", "nosuch"], ["--voices", "xx-nowhere"],
                                  ["--limit", "-1"]])
def test_bad_usage_exits_2(args: list[str]) -> None:
    if not espeak_available():
        pytest.skip("espeak-ng and sox are needed")
    assert_usage_error(BENCH, *args)


@pytest.mark.models
def test_a_tiny_real_run_prints_scores_per_configuration_and_voice() -> None:
    if not espeak_available():
        pytest.skip("espeak-ng and sox are needed")
    done = run_bench("--limit", "3", "--configs", "stock,pipeline", "--json", timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout)  # stdout is exactly the JSON document
    assert set(result["configs"]) == {"stock", "pipeline"}
    assert result["corpus"]["decoded"] == 3 == len(result["clips"])
    for config in result["configs"].values():
        overall = config["overall"]
        assert overall["clips"] == 3 and 0 <= overall["wer"]
        assert set(overall["recall"]) == {"symptoms", "medicines", "negations", "numbers",
                                          "any-clinical"}
        assert overall["final_ms_p50"] > 0 and overall["rtf"] > 0
        assert set(config["per_voice"]) == set(result["corpus"]["voices"])
        assert sum(v["clips"] for v in config["per_voice"].values()) == 3
    # What Whisper hears of espeak-ng differs by accent and noise; that the clips were heard
    # at all is checked here, how well is the benchmark's report.
    assert all(clip["heard"]["stock"] for clip in result["clips"]), result["clips"]
