"""The safety gate on a second, independent set of drafts.

The first set (``safety_drafts.json``) was written by the people who wrote the medicine table,
so a gap in their reading of the sources could sit in both and never show. This one
(``safety_drafts_independent.json``) was written from the cited sources alone, without reading
the table, the interaction data or the rules. It is held to the issue's floors: at least 98%
of drafts right, and of each code's drafts, and no controlled-substance or allergy-class miss.
Run ``python benchmarks/safety_eval.py --drafts benchmarks/safety_drafts_independent.json``
to see each miss. The misses of the first run (class allergies named by one member, misspelt
controlled names, missing brands, older-age and kidney grading, TPG List B combinations) were
fixed in the rules and the data, not in the drafts; a draft corrected after review says so in
its source.
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from dhanvantri.knowledge.safety import CODES
from tests.support.scripts import load_benchmark

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
SCRIPT = BENCHMARKS / "safety_eval.py"
DRAFTS = BENCHMARKS / "safety_drafts_independent.json"

def _module() -> ModuleType:
    return load_benchmark("safety_eval")


@pytest.fixture(scope="module")
def drafts() -> list[dict[str, Any]]:
    return list(_module().load(DRAFTS))


@pytest.fixture(scope="module")
def report(drafts: list[dict[str, Any]]) -> dict[str, Any]:
    return dict(_module().evaluate(drafts))


def test_the_drafts_cover_every_code_schedule_list_and_patient(
        drafts: list[dict[str, Any]], report: dict[str, Any]) -> None:
    assert len(drafts) >= 160
    assert len({d["id"] for d in drafts}) == len(drafts)
    assert all(d["source"] for d in drafts)
    assert set(report["per_code"]) == {*CODES, "NONE"}
    assert set(report["coverage"]["schedules"]) == {"OTC", "H", "H1", "X", "NDPS"}
    assert set(report["coverage"]["tpg_lists"]) == {"O", "A", "B", "prohibited"}
    patients = [d.get("patient", {}) for d in drafts]
    for flag in ("pregnant", "breastfeeding", "renal_impairment", "hepatic_impairment"):
        assert any(p.get(flag) for p in patients), flag
    assert any(p.get("age_years", 35) < 12 for p in patients)
    assert any(p.get("age_years", 35) >= 65 for p in patients)
    held = {(c["first"], c["mode"]) for d in drafts if (c := d.get("consultation"))}
    assert {(True, "video"), (True, "audio"), (True, "text"), (False, "audio")} <= held


def test_no_controlled_substance_or_allergy_class_miss(report: dict[str, Any]) -> None:
    assert report["critical_misses"] == [], report["misses"]


def test_the_gate_is_right_on_98_percent_of_drafts_and_of_each_code(
        report: dict[str, Any]) -> None:
    assert report["accuracy"] >= 0.98, report["misses"]
    for code, row in report["per_code"].items():
        assert row["accuracy"] >= 0.98, (code, report["misses"])
