"""benchmarks/ws_reply.py: its measurements on hand-made clips and arrival logs, its usage
errors, its emergency sentences, and one real round over the WebSocket (real server, real
models). Timings are the benchmark's to report; no test asserts one."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest

from dhanvantri.knowledge.triage import triage
from tests.knowledge.triage_cases import NEGATIVES, POSITIVES
from tests.support.scripts import assert_usage_error, load_benchmark, run_script

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
BENCH = BENCHMARKS / "ws_reply.py"
STEP = 320  # 20 ms at 16 kHz
FRAME_S = 0.02
THINKING = {"type": "state", "value": "thinking"}
LISTENING = {"type": "state", "value": "listening"}


@pytest.fixture(scope="module")
def bench() -> Iterator[ModuleType]:
    yield load_benchmark("ws_reply")
    sys.modules.pop("ws_reply", None)


def frames(start: float, count: int) -> list[float]:
    """Arrivals of ``count`` reply frames, one per 20 ms from ``start``."""
    return [start + i * FRAME_S for i in range(count)]


def heard(bench: ModuleType, audio_at: list[float],
          events: list[tuple[float, dict[str, Any]]]) -> Any:
    """What a patient heard: 20 ms frames at ``audio_at`` and ``(arrival, event)`` pairs."""
    return bench.Heard(audio_at=audio_at, samples=[STEP] * len(audio_at),
                       events=[e for _, e in events], event_at=[at for at, _ in events])


def test_onset_and_end_are_the_frames_holding_the_first_and_last_voiced_samples(
        bench: ModuleType) -> None:
    clip = np.zeros(20 * STEP, np.int16)
    clip[5 * STEP + 7: 12 * STEP + 3] = 4000  # voiced from inside frame 5 to inside frame 12
    clip[5 * STEP + 3] = 200  # below the threshold: breath, not speech
    assert bench.voiced_onset(clip) == 6 * STEP
    assert bench.voiced_length(clip) == 13 * STEP
    silent = np.zeros(4 * STEP, np.int16)
    assert bench.voiced_onset(silent) == bench.voiced_length(silent) == len(silent)


def test_first_audio_is_timed_from_the_last_voiced_frame(bench: ModuleType) -> None:
    server = {"type": "metrics", "turn": 2, "ms": {"stt_final": 412.0}}
    log = heard(bench, [*frames(8.0, 10), *frames(11.8, 50)],
                [(8.5, {"type": "metrics", "turn": 1, "ms": {}}), (11.85, server)])
    row = bench.first_audio_row("routine", log, onset_at=10.0, speech_end=11.0)
    # The server's own milestones of this turn come with it (not the last turn's).
    assert row == {"kind": "routine", "first_audio_ms": 800.0, "answered": True,
                   "server_ms": {"stt_final": 412.0}}
    # Earlier audio (the last reply) is not this turn's answer.
    silent = bench.first_audio_row("emergency", heard(bench, frames(8.0, 10), []), 10.0, 11.0)
    assert silent == {"kind": "emergency", "first_audio_ms": None, "answered": False,
                      "server_ms": None}
    early = bench.first_audio_row("emergency", heard(bench, frames(10.9, 5), []), 10.0, 11.0)
    assert early["first_audio_ms"] == -100.0  # began before the words ended: still counted


def test_barge_in_stop_is_the_last_old_frame_before_the_new_turns_thinking(
        bench: ModuleType) -> None:
    old = frames(2.0, 55)  # the old reply: 1.1 s of frames, the last at 3.08
    new = frames(5.0, 40)
    events = [(1.5, THINKING), (1.9, {"type": "state", "value": "speaking"}),
              (3.2, LISTENING), (4.0, THINKING)]
    row = bench.barge_in_row(heard(bench, [*old, *new], events), old_since=1.0, onset_at=3.0,
                             speech_end=3.6)
    assert row["barge_in_stop_ms"] == pytest.approx(80.0)
    assert row["old_reply_heard_ms"] == 55 * 20.0
    assert row["old_reply_after_thinking_ms"] == 0.0
    assert row["first_audio_ms"] == pytest.approx(1400.0)
    assert row["answered"] is True and row["kind"] == "barge_in"


def test_old_reply_frames_going_on_after_thinking_are_counted_as_the_old_reply(
        bench: ModuleType) -> None:
    old = frames(2.0, 150)  # never stopped: still playing at 4.98
    new = frames(6.0, 20)
    row = bench.barge_in_row(heard(bench, [*old, *new], [(4.01, THINKING)]), old_since=1.0,
                             onset_at=3.0, speech_end=3.6)
    assert row["barge_in_stop_ms"] == pytest.approx(1000.0)  # last frame before "thinking"
    assert row["old_reply_after_thinking_ms"] == 49 * 20.0  # 4.02 .. 4.98
    assert row["first_audio_ms"] == pytest.approx(2400.0)  # the new reply, after the pause


def test_a_barge_in_the_server_never_took_as_a_turn_is_unanswered(bench: ModuleType) -> None:
    log = heard(bench, frames(2.0, 200), [(3.5, LISTENING)])
    row = bench.barge_in_row(log, old_since=1.0, onset_at=3.0, speech_end=3.6)
    assert row["barge_in_stop_ms"] is None and row["answered"] is False
    assert row["old_reply_heard_ms"] == 200 * 20.0


def test_summary_percentiles_counts_and_verdicts(bench: ModuleType) -> None:
    rows = [{"kind": "routine", "first_audio_ms": ms, "answered": True}
            for ms in (900.0, 1000.0, 1100.0, 1200.0)]
    rows += [{"kind": "emergency", "first_audio_ms": 800.0, "answered": True, "escalated": True},
             {"kind": "emergency", "first_audio_ms": None, "answered": False,
              "escalated": False}]
    rows += [{"kind": "barge_in", "barge_in_stop_ms": ms, "answered": True} for ms in (60, 90)]
    summary = bench.summarise(rows, [])
    assert summary["routine_first_audio_ms"] == {"p50": 1000.0, "p95": 1200.0, "n": 4}
    assert summary["emergency_first_audio_ms"] == {"p50": 800.0, "p95": 800.0, "n": 1}
    assert summary["barge_in_stop_ms"] == {"p50": 90, "p95": 90, "n": 2}  # nearest rank
    assert summary["turns_without_reply"] == 1 and summary["emergencies_not_escalated"] == 1
    assert summary["emergency_le_routine_p50"] is True
    assert summary["barge_in_p95_le_100"] is True
    assert bench.passed({"rounds": 2, "failures": [], "summary": summary}) is False
    whole = bench.summarise([*rows[:5], *rows[:5], *rows[6:]], [])  # 12 rows, all answered
    assert bench.passed({"rounds": 3, "failures": [], "summary": whole}) is True
    assert bench.passed({"rounds": 4, "failures": [], "summary": whole}) is False  # rows short
    assert bench.passed({"rounds": 3, "failures": ["round 2: x"], "summary": whole}) is False

    slow = bench.summarise([*rows[:4], {"kind": "barge_in", "barge_in_stop_ms": 130.0,
                                        "answered": True},
                            {"kind": "emergency", "first_audio_ms": 1500.0, "answered": True,
                             "escalated": True}], [])
    assert slow["emergency_le_routine_p50"] is False
    assert slow["barge_in_p95_le_100"] is False
    none = bench.summarise([], ["round 1: TimeoutError"])
    assert none["emergency_le_routine_p50"] is False and none["barge_in_p95_le_100"] is False
    assert none["failures"] == 1


def test_the_emergency_sentences_are_held_out_and_each_is_an_emergency(
        bench: ModuleType) -> None:
    known = {text.lower() for text, _ in POSITIVES} | {text.lower() for text in NEGATIVES}
    assert len(bench.EMERGENCIES) >= 6
    for text in bench.EMERGENCIES:
        assert text.lower() not in known
        assert triage(text).emergency, text
    for text in (*bench.ROUTINE, *bench.INTERJECTIONS):
        assert not triage(text).emergency, text


@pytest.mark.parametrize("args", [["--rounds", "0"], ["--rounds", "51"], ["--rounds", "x"],
                                  ["--ready-limit", "0"]])
def test_bad_usage_exits_2(args: list[str]) -> None:
    assert_usage_error(BENCH, *args)


@pytest.mark.models
def test_one_real_round_answers_every_turn_and_escalates_the_emergency() -> None:
    done = run_script(BENCH, "--rounds", "1", "--json", timeout=280)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout)  # stdout is exactly the JSON document
    assert result["failures"] == [] and result["rounds"] == 1
    assert [row["kind"] for row in result["turns"]] == [
        "routine", "routine", "barge_in", "emergency"]
    assert all(row["answered"] and row["round"] == 1 for row in result["turns"])
    barged = result["turns"][2]
    assert barged["barge_in_stop_ms"] is not None and barged["old_reply_heard_ms"] > 0
    assert result["turns"][3]["escalated"] is True
    summary = result["summary"]
    assert summary["turns"] == 4
    assert summary["turns_without_reply"] == summary["emergencies_not_escalated"] == 0
    for name in ("routine_first_audio_ms", "emergency_first_audio_ms", "barge_in_stop_ms"):
        assert set(summary[name]) == {"p50", "p95", "n"} and summary[name]["n"] >= 1
    assert isinstance(summary["emergency_le_routine_p50"], bool)
    assert isinstance(summary["barge_in_p95_le_100"], bool)
