"""Evaluate PHI detection on a synthetic Indian consultation corpus.

Generates a seeded corpus — typed chat text and speech-to-text style text (lowercase, no
punctuation, digits said as words) with names (some of them absent from the detector's lexicon),
checksum-valid Aadhaar numbers, PANs, ABHA numbers and addresses, Indian mobiles in many formats,
e-mails, street addresses, PIN codes and dates of birth, plus negatives dense with clinical numbers
— then reports precision, recall and F2 per entity type, the share of clinical words and numbers
left untouched, and detection latency per ~30-word utterance (p50/p95 after warm-up).

Usage::

    .venv/bin/python benchmarks/privacy_eval.py            # table on stdout
    .venv/bin/python benchmarks/privacy_eval.py --json     # the same as JSON
    .venv/bin/python benchmarks/privacy_eval.py --n 40 --latency-runs 100
    .venv/bin/python benchmarks/privacy_eval.py --speech 20    # + real Whisper transcripts
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the corpus module beside this file
sys.path.insert(1, str(Path(__file__).resolve().parents[1]))  # dhanvantri from a checkout

from privacy_corpus import Sample, build_corpus, build_held_out, latency_utterances

STRUCTURED = ("AADHAAR", "PAN", "ABHA_NUMBER", "ABHA_ADDRESS", "PHONE", "EMAIL")
TARGETS = {**dict.fromkeys(STRUCTURED, 0.99), "PERSON": 0.95, "ADDRESS": 0.95}
CLINICAL_TARGET = 0.98
REPORTED = (*STRUCTURED, "PERSON", "ADDRESS", "PIN_CODE", "DATE_OF_BIRTH")


@dataclass
class Counts:
    """True positives, false positives and false negatives of one entity type."""

    tp: int = 0
    fp: int = 0
    fn: int = 0

    def scores(self) -> dict[str, float | int]:
        p = self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0
        r = self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0
        f2 = 5 * p * r / (4 * p + r) if p + r else 0.0
        return {
            "precision": round(p, 4),
            "recall": round(r, 4),
            "f2": round(f2, 4),
            "support": self.tp + self.fn,
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
        }


@dataclass
class Report:
    """Everything the evaluation measured."""

    per_type: dict[str, Counts] = field(default_factory=dict)
    clinical_total: int = 0
    clinical_kept: int = 0
    phi_chars: int = 0
    phi_chars_covered: int = 0
    misses: list[str] = field(default_factory=list)
    false_alarms: list[str] = field(default_factory=list)
    clinical_lost: list[str] = field(default_factory=list)


def _overlap(a0: int, a1: int, b0: int, b1: int) -> int:
    return max(0, min(a1, b1) - max(a0, b0))


def score_sample(sample: Sample, found: list, report: Report) -> None:
    """Match detections to the gold entities of one sample.

    A gold entity is found when a detection of the same type covers at least half of it; a
    detection is a false positive when it overlaps no gold entity of its type.
    """
    for gold in sample.entities:
        counts = report.per_type.setdefault(gold.type, Counts())
        hit = any(
            f.type == gold.type
            and _overlap(f.start, f.end, gold.start, gold.end) >= 0.5 * (gold.end - gold.start)
            for f in found
        )
        if hit:
            counts.tp += 1
        else:
            counts.fn += 1
            report.misses.append(f"{gold.type}: {sample.text!r}")
        covered = set()
        for f in found:
            covered.update(range(max(f.start, gold.start), min(f.end, gold.end)))
        report.phi_chars += gold.end - gold.start
        report.phi_chars_covered += len(covered)
    for f in found:
        if not any(
            g.type == f.type and _overlap(f.start, f.end, g.start, g.end) for g in sample.entities
        ):
            report.per_type.setdefault(f.type, Counts()).fp += 1
            report.false_alarms.append(
                f"{f.type} {sample.text[f.start : f.end]!r} in {sample.text!r}"
            )
    for start, end in sample.keep:
        report.clinical_total += 1
        if not any(_overlap(f.start, f.end, start, end) for f in found):
            report.clinical_kept += 1
        else:
            report.clinical_lost.append(f"{sample.text[start:end]!r} in {sample.text!r}")


def evaluate(detector, samples: list[Sample]) -> Report:
    """Run the detector over the corpus and count."""
    report = Report()
    for sample in samples:
        score_sample(sample, detector.detect(sample.text), report)
    return report


def measure_latency(detector, utterances: list[str], runs: int) -> dict[str, float]:
    """Per-call latency of ``detect`` in ms, after one warm-up pass over the utterances.

    Wall-clock time is what a caller waits; CPU time of the calling thread leaves out waiting
    for the CPU, which matters on a shared machine.
    """
    for text in utterances:
        detector.detect(text)
    wall, cpu = [], []
    for i in range(runs):
        text = utterances[i % len(utterances)]
        t0, c0 = time.perf_counter(), time.thread_time()
        detector.detect(text)
        cpu.append((time.thread_time() - c0) * 1000)
        wall.append((time.perf_counter() - t0) * 1000)
    return {
        "p50_ms": _pct(wall, 0.5),
        "p95_ms": _pct(wall, 0.95),
        "cpu_p50_ms": _pct(cpu, 0.5),
        "cpu_p95_ms": _pct(cpu, 0.95),
        "mean_words": round(statistics.mean(len(u.split()) for u in utterances), 1),
        "runs": runs,
    }


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[int(q * (len(ordered) - 1))], 2)


def run(
    n: int = 60, seed: int = 7, latency_runs: int = 300, detector=None, always_ner: bool = True
) -> dict:
    """Build the corpus, evaluate, time; the result as a JSON-ready dict."""
    if detector is None:
        from dhanvantri.privacy import PhiDetector

        t0 = time.perf_counter()
        detector = PhiDetector()
        load_s = time.perf_counter() - t0
    else:
        load_s = 0.0
    samples = build_corpus(n=n, seed=seed)
    report = evaluate(detector, samples)
    per_type = _table(report)
    held_out = evaluate(detector, build_held_out(n=max(n // 2, 10), seed=seed + 1000))
    rng = random.Random(seed + 1)
    latency = {}
    if latency_runs:
        for style in ("typed", "transcript"):
            latency[style] = measure_latency(
                detector, latency_utterances(rng, style, 40), latency_runs
            )
        if always_ner:  # the worst case: spaCy NER on every call
            from dhanvantri.privacy import PhiDetector

            latency["typed_ner_every_call"] = measure_latency(
                PhiDetector(ner="always"), latency_utterances(rng, "typed", 40), latency_runs
            )
    clinical = report.clinical_kept / report.clinical_total if report.clinical_total else 1.0
    return {
        "corpus": {
            "seed": seed,
            "samples": len(samples),
            "negatives": sum(1 for s in samples if not s.entities),
            "transcript_style": sum(1 for s in samples if s.style == "transcript"),
        },
        "per_type": per_type,
        "clinical_kept": round(clinical, 4),
        "clinical_spans": report.clinical_total,
        "phi_char_coverage": round(report.phi_chars_covered / max(report.phi_chars, 1), 4),
        "held_out": {
            "samples": max(n // 2, 10) * 2,
            "per_type": _table(held_out),
            "clinical_kept": round(held_out.clinical_kept / max(held_out.clinical_total, 1), 4),
            "misses": held_out.misses[:10],
            "false_alarms": held_out.false_alarms[:10],
        },
        "latency": latency,
        "detector_load_s": round(load_s, 2),
        "targets_met": targets_met(per_type, clinical),
        "examples": {
            "misses": report.misses[:15],
            "false_alarms": report.false_alarms[:15],
            "clinical_lost": report.clinical_lost[:15],
        },
    }


def _table(report: Report) -> dict[str, dict]:
    table = {t: report.per_type.get(t, Counts()).scores() for t in REPORTED}
    table.update(
        {t: report.per_type[t].scores() for t in sorted(set(report.per_type) - set(REPORTED))}
    )
    return table


def targets_met(per_type: dict, clinical: float) -> dict[str, bool]:
    """Which of the issue's accuracy targets this run met."""
    met = {t: per_type[t]["recall"] >= goal for t, goal in TARGETS.items()}
    met["clinical_kept"] = clinical >= CLINICAL_TARGET
    return met


def print_table(result: dict) -> None:
    c = result["corpus"]
    print(
        f"corpus: {c['samples']} samples ({c['transcript_style']} transcript-style, "
        f"{c['negatives']} clinical negatives), seed {c['seed']}"
    )
    _print_types(result["per_type"])
    ok = "ok" if result["clinical_kept"] >= CLINICAL_TARGET else "MISSED"
    print(
        f"clinical words/numbers kept: {result['clinical_kept']:.4f} of "
        f"{result['clinical_spans']} spans (target >= {CLINICAL_TARGET}: {ok})"
    )
    print(f"PHI characters covered by any detection: {result['phi_char_coverage']:.4f}")
    held = result["held_out"]
    print(f"\nheld-out phrasings (never tuned on): {held['samples']} samples")
    _print_types(held["per_type"])
    print(f"clinical words/numbers kept: {held['clinical_kept']:.4f}\n")
    for style, lat in result["latency"].items():
        print(
            f"latency {style:<21} ~{lat['mean_words']} words: wall p50 {lat['p50_ms']} ms, "
            f"p95 {lat['p95_ms']} ms; cpu p50 {lat['cpu_p50_ms']} ms, p95 {lat['cpu_p95_ms']} ms"
            f" ({lat['runs']} calls after warm-up)"
        )
    print(f"detector load: {result['detector_load_s']} s")
    speech = result.get("speech")
    if speech and "skipped" in speech:
        print(f"speech: skipped ({speech['skipped']})")
    elif speech:
        print(
            f"speech (espeak-ng -> Whisper base, {speech['transcripts_checked']} transcripts): "
            f"digit runs leaked {speech['digit_leak_rate']:.3f}, name words leaked "
            f"{speech['name_leak_rate']:.3f} of {speech['name_words_heard']} heard, "
            f"clinical words kept {speech['clinical_kept']:.3f} of {speech['clinical_words_heard']}"
        )


def _print_types(per_type: dict[str, dict]) -> None:
    print(f"{'type':<15}{'support':>8}{'precision':>11}{'recall':>9}{'F2':>8}  target")
    for kind, s in per_type.items():
        goal = TARGETS.get(kind)
        mark = "" if goal is None else f"R>={goal} {'ok' if s['recall'] >= goal else 'MISSED'}"
        print(
            f"{kind:<15}{s['support']:>8}{s['precision']:>11.3f}{s['recall']:>9.3f}"
            f"{s['f2']:>8.3f}  {mark}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=60, help="samples per template family")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--latency-runs", type=int, default=300)
    parser.add_argument("--json", action="store_true", help="print the result as JSON only")
    parser.add_argument("--show-errors", action="store_true", help="list misses and false alarms")
    parser.add_argument(
        "--speech",
        type=int,
        default=0,
        metavar="N",
        help="also speak N utterances (espeak-ng), transcribe them (Whisper) and count leaks",
    )
    args = parser.parse_args(argv)
    result = run(n=args.n, seed=args.seed, latency_runs=args.latency_runs)
    if args.speech:
        from privacy_speech import evaluate_speech

        from dhanvantri.privacy import PhiDetector

        result["speech"] = evaluate_speech(PhiDetector(), count=args.speech, seed=args.seed)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print_table(result)
        if args.show_errors:
            print("\nmisses:", *result["examples"]["misses"], sep="\n  ")
            print("\nfalse alarms:", *result["examples"]["false_alarms"], sep="\n  ")
            print("\nclinical lost:", *result["examples"]["clinical_lost"], sep="\n  ")
    return 0


if __name__ == "__main__":
    sys.exit(main())
