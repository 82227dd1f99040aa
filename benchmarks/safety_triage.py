"""Red-flag triage and prescription safety gate: quality and latency (p50/p95).

Usage: python benchmarks/safety_triage.py [--rounds N] [--json]

Triage: recall, right-flag rate and false-alarm rate on each labelled set of
``tests/knowledge/triage_cases.py``, then per-turn latency over all its turns ``--rounds`` times
after a warm-up. Safety gate: latency of ``check_prescription`` on a set of realistic
prescriptions (3-5 lines, allergies and current medicines), ``--rounds`` times.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

PRESCRIPTIONS = [
    {"patient": {"age_years": 34, "sex": "female", "weight_kg": 58, "pregnant": True,
                 "allergies": ["penicillin"], "current_medications": ["Thyronorm", "IFA"]},
     "medications": [{"name": "Augmentin 625", "dose": "625 mg", "frequency": "BD"},
                     {"name": "Dolo 650", "dose": "650 mg", "frequency": "SOS"},
                     {"name": "Pan 40", "dose": "40 mg", "frequency": "OD"}]},
    {"patient": {"age_years": 62, "sex": "male", "weight_kg": 72,
                 "current_medications": ["warfarin", "Glycomet", "Telma 40", "atorvastatin"]},
     "medications": [{"name": "Combiflam", "dose": "1 tablet", "frequency": "TDS"},
                     {"name": "Azee", "dose": "500 mg", "frequency": "OD"},
                     {"name": "ondansetron", "dose": "4 mg", "frequency": "SOS"},
                     {"name": "Septran DS", "dose": "960 mg", "frequency": "BD"}]},
    {"patient": {"age_years": 6, "sex": "male", "weight_kg": 20, "allergies": ["sulfa"]},
     "medications": [{"name": "Calpol", "dose": "250 mg", "frequency": "QID"},
                     {"name": "amoxicillin", "dose": "400 mg", "frequency": "BD"},
                     {"name": "zinc", "dose": "20 mg", "frequency": "OD"},
                     {"name": "ORS", "dose": "100 ml", "frequency": "SOS"},
                     {"name": "cetirizine", "dose": "2.5 mg", "frequency": "BD"}]},
]


def _percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    rank = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[rank]


def _latency(samples: list[float]) -> dict[str, float]:
    return {"p50_ms": round(_percentile(samples, 50), 4),
            "p95_ms": round(_percentile(samples, 95), 4),
            "mean_ms": round(statistics.fmean(samples), 4), "n": len(samples)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20, help="timing rounds (default 20)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args(argv)
    if args.rounds < 1:
        print("safety_triage: --rounds must be at least 1", file=sys.stderr)
        return 2
    sys.path.insert(0, str(ROOT))
    from dhanvantri.knowledge.safety import check_prescription, parse_safety_request
    from dhanvantri.knowledge.triage import triage
    from tests.knowledge import triage_cases as cases

    sets = {
        "development": (cases.POSITIVES, cases.NEGATIVES),
        "held-out": (cases.HELDOUT_POSITIVES, cases.HELDOUT_NEGATIVES),
        "fresh": (cases.FRESH_POSITIVES, cases.FRESH_NEGATIVES),
        "blind": (cases.BLIND_POSITIVES, cases.BLIND_NEGATIVES),
        "final": (cases.FINAL_POSITIVES, cases.FINAL_NEGATIVES),
    }
    quality = {}
    for name, (positives, negatives) in sets.items():
        results = [(triage(text), flag) for text, flag in positives]
        quality[name] = {
            "positives": len(positives), "negatives": len(negatives),
            "recall": round(sum(r.emergency for r, _ in results) / len(positives), 4),
            "right_flag": round(sum(f in r.red_flags for r, f in results) / len(positives), 4),
            "false_alarm_rate": round(sum(triage(t).emergency for t in negatives)
                                      / len(negatives), 4),
        }
    probes = cases.PROBE_NEGATIVES
    quality["probes"] = {"negatives": len(probes), "false_alarm_rate": round(
        sum(triage(t).emergency for t in probes) / len(probes), 4)}
    turns = [t for p, n in sets.values() for t in [*(x for x, _ in p), *n]] + probes
    triage_ms = []
    for _ in range(args.rounds):
        for text in turns:
            start = time.perf_counter()
            triage(text)
            triage_ms.append((time.perf_counter() - start) * 1000)
    requests = [parse_safety_request(r) for r in PRESCRIPTIONS]
    check_prescription(*requests[0])  # warm-up: loads the tables
    safety_ms = []
    for _ in range(args.rounds):
        for patient, orders in requests:
            start = time.perf_counter()
            check_prescription(patient, orders)
            safety_ms.append((time.perf_counter() - start) * 1000)
    report = {"triage_quality": quality, "triage_latency": _latency(triage_ms),
              "safety_check_latency": _latency(safety_ms)}
    if args.json:
        print(json.dumps(report))
    else:
        for name, q in quality.items():
            if "recall" not in q:
                print(f"{name:12} false-alarm {q['false_alarm_rate']:.3f} ({q['negatives']}-)")
                continue
            print(f"{name:12} recall {q['recall']:.3f} right-flag {q['right_flag']:.3f} "
                  f"false-alarm {q['false_alarm_rate']:.3f} ({q['positives']}+/{q['negatives']}-)")
        for name in ("triage_latency", "safety_check_latency"):
            lat = report[name]
            print(f"{name:22} p50 {lat['p50_ms']:.3f} ms  p95 {lat['p95_ms']:.3f} ms  n={lat['n']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
