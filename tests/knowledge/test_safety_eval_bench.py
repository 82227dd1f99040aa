"""benchmarks/safety_eval.py: the safety gate on drafts written from the sources.

The floors are the issue's: at least 150 drafts covering every code, schedule and
teleconsultation list; the verdict right on at least 98% of them and of each code's drafts; and
no controlled-substance or allergy-class miss at all. Run the script to see the table:
``python benchmarks/safety_eval.py``.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import ModuleType

import pytest

from dhanvantri.knowledge.safety import CODES
from tests.support.scripts import assert_usage_error, load_benchmark, run_script

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
SCRIPT = BENCHMARKS / "safety_eval.py"


def _module() -> ModuleType:
    return load_benchmark("safety_eval")


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    return _module()


@pytest.fixture(scope="module")
def report(bench: ModuleType) -> dict:
    return bench.evaluate(bench.load(bench.DRAFTS))


def test_drafts_cover_every_code_schedule_and_list(bench: ModuleType, report: dict) -> None:
    drafts = bench.load(bench.DRAFTS)
    assert len(drafts) >= 150
    assert len({d["id"] for d in drafts}) == len(drafts)
    assert all(d["source"] for d in drafts)
    assert set(report["per_code"]) == {*CODES, "NONE"}
    assert set(report["coverage"]["schedules"]) == {"OTC", "H", "H1", "X", "NDPS"}
    assert set(report["coverage"]["tpg_lists"]) == {"O", "A", "B", "prohibited"}


def test_the_gate_meets_the_floors(report: dict) -> None:
    assert report["critical_misses"] == [], report["misses"]
    assert report["verdict_accuracy"] >= 0.98, report["misses"]
    for code, row in report["per_code"].items():
        assert row["accuracy"] >= 0.98, (code, report["misses"])


def test_a_draft_is_judged_on_its_verdict_and_each_expected_code(bench: ModuleType) -> None:
    draft = {"verdict": "warn", "expect": {"INTERACTION": "warn", "ALLERGY": None}}
    issue = {"code": "INTERACTION", "severity": "warn"}
    assert bench.judge(draft, {"verdict": "warn", "issues": [issue]}) == []
    info = {"code": "INTERACTION", "severity": "info"}
    assert bench.judge(draft, {"verdict": "warn", "issues": [info, issue]}) == []  # worst counts
    assert bench.judge(draft, {"verdict": "ok", "issues": [info]}) == [
        "verdict ok (expected warn)", "INTERACTION info (expected warn)"]
    allergy = {"code": "ALLERGY", "severity": "info"}
    assert bench.judge(draft, {"verdict": "warn", "issues": [issue, allergy]}) == [
        "ALLERGY info (expected None)"]


def test_a_missed_allergy_is_reported_as_a_critical_miss(bench: ModuleType) -> None:
    # The gate cannot know what an unknown product contains, so the allergy goes unflagged.
    drafts = [{"id": "x", "code": "ALLERGY", "allergies": ["penicillin"],
               "rx": [["Xyzzol", "500 mg", "TDS"]], "verdict": "block",
               "expect": {"ALLERGY": "block"}, "source": "a penicillin under an unknown name"}]
    report = bench.evaluate(drafts)
    assert report["critical_misses"] == ["x"] and report["accuracy"] == 0.0
    assert report["per_code"]["ALLERGY"] == {"drafts": 1, "right": 0, "accuracy": 0.0}


def test_the_script_prints_the_report() -> None:
    done = run_script(SCRIPT, "--json", timeout=120)
    assert done.returncode == 0, done.stderr
    printed = json.loads(done.stdout)
    assert printed["drafts"] >= 150 and set(printed["per_code"]) >= set(CODES)
    assert_usage_error(SCRIPT, "--no-such-flag")
