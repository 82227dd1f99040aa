"""benchmarks/dialogue_eval.py: its scoring on hand-made turns, its usage errors, and a small
run of scripted consultations through the real guide and responder."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from dhanvantri.knowledge.intake import IntakeState
from dhanvantri.pipeline.frames import GuidanceFrame
from tests.support.scripts import load_benchmark

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "dialogue_eval.py"


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    return load_benchmark("dialogue_eval")


def turns(*exchanges: tuple[str, str, str, str]) -> list[dict[str, Any]]:
    """Played turns from (patient, acknowledgement, question, what the assistant said)."""
    state, played = IntakeState(), []
    for number, (patient, ack, question, reply) in enumerate(exchanges, 1):
        before = state.as_record()
        state.update(patient)
        played.append({"patient": patient, "answered": "x", "unclear": False, "reply": reply,
                       "safety": [], "emergency": False, "before": before,
                       "after": state.as_record(),
                       "guidance": GuidanceFrame(instruction=question, topic="x",
                                                 acknowledgement=ack, turn=number)})
    return played


def played(*exchanges: tuple[str, str, str, str]) -> dict[str, Any]:
    script = {"name": "t", "kind": "adult", "title": "t", "lines": [e[0] for e in exchanges]}
    return {"script": script, "turns": turns(*exchanges), "llm_calls": 0}


def test_sentences_are_classified_and_grounded_ones_counted(bench: ModuleType) -> None:
    scored = bench.score(played(
        ("i have a fever for three days", "A fever for three days.", "How bad is it?",
         "A fever for three days. How bad is it?"),
        ("it is moderate", "Moderate, noted.", "May I know your age?",
         "Moderate, noted. May I know your age? Have a nice day."),
    ))
    assert scored["sentences"] == {"acknowledgement": 2, "question": 2, "safety": 0, "other": 1}
    assert scored["acknowledgements"] == scored["grounded"] == 2
    assert sum(scored["banned"].values()) == 0 and scored["repeated"] == []


def test_banned_ungrounded_and_repeated_are_found(bench: ModuleType) -> None:
    scored = bench.score(played(
        ("i have a fever", "Don't worry, it is just a fever.", "How bad is it?",
         "Don't worry, it is just a fever. How bad is it?"),
        ("it is moderate", "A cough for a week.", "How bad is it?",
         "A cough for a week. How bad is it?"),
    ))
    assert scored["banned"]["reassurance"] == 1 and scored["banned"]["minimising"] == 1
    assert scored["grounded"] == 0 and len(scored["ungrounded"]) == 2
    assert scored["repeated"] == [{"turn": 2, "question": "How bad is it?"}]
    result = bench.summarise([scored])
    assert result["targets_met"] is False and result["findings"]


def test_usage_errors_exit_2() -> None:
    for args in (["--scripts", "no_such_script"], ["--show", "nope"], ["--kb", "other"]):
        done = subprocess.run([sys.executable, str(BENCH), *args], capture_output=True,
                              text=True, timeout=60)
        assert done.returncode == 2, (args, done.stderr)


def test_a_small_run_plays_the_scripts_and_prints_json(bench: ModuleType) -> None:
    names = "fever_adult,misheard_allergy,emergency_chest"
    done = subprocess.run(
        [sys.executable, str(BENCH), "--kb", "symptoms", "--scripts", names, "--json",
         "--show", "fever_adult"], capture_output=True, text=True, timeout=300)
    assert done.returncode in (0, 1), done.stderr
    result = json.loads(done.stdout)
    assert result["scripts"] == 3 and result["kb"] == "symptoms"
    assert result["llm_calls"] == 0  # the embedded style speaks the templates
    assert result["emergencies_right"] == 3
    assert result["corrections"] == {"taken": 2, "total": 2}
    assert result["banned"]["total"] == 0
    assert result["acknowledgements"]["count"] >= 8
    assert "assistant: " in done.stderr and "[acknowledgement]" in done.stderr
    assert (done.returncode == 0) == result["targets_met"]
