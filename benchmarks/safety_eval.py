"""Prescription safety gate: verdict accuracy on drafts written from the sources, per code.

Usage: python benchmarks/safety_eval.py [--drafts FILE] [--json]

Each draft in ``safety_drafts.json`` is a prescription as a clinic writes it (brand or generic
names, Indian frequencies) with the verdict and the issue codes its cited source calls for:
the expectations come from pharmacology (labels, NFI, BNF, NDPS, TPG 2020), not from running
the gate. A draft is right when the gate's verdict matches and every expected code is there at
the expected worst severity (``null``: the code must be absent). Reported per code: drafts and
how many are right; then the misses, and the controlled-substance and allergy-class misses
counted apart because any one of them is a safety failure. Coverage lists the schedules and
Telemedicine Practice Guidelines lists the drafts prescribe.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DRAFTS = Path(__file__).with_name("safety_drafts.json")
ADULT = {"age_years": 35, "sex": "male", "weight_kg": 70}
SAFETY_CRITICAL = ("CONTROLLED_SUBSTANCE", "ALLERGY")
_ORDER = {None: -1, "info": 0, "warn": 1, "block": 2}


def request(draft: dict[str, Any]) -> dict[str, Any]:
    """The gate's JSON request for a draft (an adult man unless the draft says otherwise)."""
    patient = {**ADULT, **draft.get("patient", {})}
    patient = {k: v for k, v in patient.items() if v is not None}
    if draft.get("allergies"):
        patient["allergies"] = draft["allergies"]
    if draft.get("current"):
        patient["current_medications"] = draft["current"]
    body: dict[str, Any] = {
        "patient": patient,
        "medications": [{"name": n, "dose": d, "frequency": f, "duration_days": 5}
                        for n, d, f in draft["rx"]],
    }
    if "consultation" in draft:
        body["consultation"] = draft["consultation"]
    return body


def judge(draft: dict[str, Any], result: dict[str, Any]) -> list[str]:
    """Why the gate's ``result`` is wrong for ``draft`` (empty when it is right)."""
    wrong = []
    if result["verdict"] != draft["verdict"]:
        wrong.append(f"verdict {result['verdict']} (expected {draft['verdict']})")
    worst: dict[str, str] = {}
    for issue in result["issues"]:
        code, severity = issue["code"], issue["severity"]
        if _ORDER[severity] > _ORDER[worst.get(code)]:
            worst[code] = severity
    for code, expected in draft["expect"].items():
        if worst.get(code) != expected:
            wrong.append(f"{code} {worst.get(code)} (expected {expected})")
    return wrong


def evaluate(drafts: list[dict[str, Any]]) -> dict[str, Any]:
    """Run every draft through the gate and score it, per code and overall."""
    from dhanvantri.knowledge.medicines import load_medicines
    from dhanvantri.knowledge.safety import check_prescription, parse_safety_request

    table = load_medicines()
    per_code: dict[str, Counter[str]] = defaultdict(Counter)
    misses, critical = [], []
    schedules: Counter[str] = Counter()
    lists: Counter[str] = Counter()
    verdicts_right = 0
    for draft in drafts:
        result = check_prescription(*parse_safety_request(request(draft))).to_dict()
        wrong = judge(draft, result)
        verdicts_right += result["verdict"] == draft["verdict"]
        codes = {draft["code"], *(c for c, s in draft["expect"].items() if s)}
        for code in codes:
            per_code[code]["drafts"] += 1
            per_code[code]["right"] += not wrong
        if wrong:
            misses.append({"id": draft["id"], "why": wrong})
            if any(draft["expect"].get(code) for code in SAFETY_CRITICAL):
                critical.append(draft["id"])
        for name, *_ in draft["rx"]:
            med = table.lookup(name)
            if med is not None:
                schedules[med.schedule] += 1
                lists[med.tpg_list] += 1
    total = len(drafts)
    return {
        "drafts": total,
        "right": total - len(misses),
        "accuracy": round((total - len(misses)) / total, 4) if total else 0.0,
        "verdict_accuracy": round(verdicts_right / total, 4) if total else 0.0,
        "per_code": {code: {"drafts": c["drafts"], "right": c["right"],
                            "accuracy": round(c["right"] / c["drafts"], 4)}
                     for code, c in sorted(per_code.items())},
        "critical_misses": critical,
        "misses": misses,
        "coverage": {"schedules": dict(sorted(schedules.items())),
                     "tpg_lists": dict(sorted(lists.items()))},
    }


def load(path: Path) -> list[dict[str, Any]]:
    """The drafts in ``path``."""
    return list(json.loads(path.read_text("utf-8"))["drafts"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--drafts", type=Path, default=DRAFTS, help="drafts file (JSON)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    report = evaluate(load(args.drafts))
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(f"{report['right']}/{report['drafts']} drafts right ({report['accuracy']:.1%}); "
          f"verdict right {report['verdict_accuracy']:.1%}")
    for code, row in report["per_code"].items():
        print(f"  {code:22} {row['right']:3}/{row['drafts']:<3} {row['accuracy']:.1%}")
    print(f"controlled-substance and allergy-class misses: {len(report['critical_misses'])}")
    for miss in report["misses"]:
        print(f"  miss {miss['id']}: {'; '.join(miss['why'])}")
    print(f"coverage: {report['coverage']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
