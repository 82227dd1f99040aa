"""Knowledge-base retrieval quality and speed: hit@1, hit@3 and query latency p50/p95.

Usage: python benchmarks/kb_eval.py [--queries FILE] [--data-dir DIR] [--rounds N] [--json]

Builds (or reuses) the index in a temporary data directory unless --data-dir is given, runs each
query of the query set once for quality, then times ``KnowledgeBase.search`` over all queries
``--rounds`` times after a warm-up. Wall-clock and process CPU time are both reported, with the
load average, because wall time on a shared machine mostly measures the other processes.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_QUERIES = ROOT / "tests" / "knowledge" / "kb_queries.json"


def _percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    rank = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[rank]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=Path, default=DEFAULT_QUERIES)
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--misses", action="store_true", help="list queries missed at 3")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    from dhanvantri.knowledge import KnowledgeBase
    from dhanvantri.settings import Settings

    import_s = time.perf_counter() - started
    queries = json.loads(args.queries.read_text())
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = args.data_dir or Path(tmp)
        t0 = time.perf_counter()
        kb = KnowledgeBase.open(Settings(data_dir=data_dir))
        open_s = time.perf_counter() - t0
        hit1 = hit3 = 0
        misses = []
        for item in queries:
            ids = [p.id for p in kb.search(item["q"], k=3)]
            hit1 += bool(ids) and ids[0] in item["expect"]
            found = any(i in item["expect"] for i in ids)
            hit3 += found
            if not found:
                misses.append({"q": item["q"], "expect": item["expect"], "got": ids})
        # The intake's ranking (embedding similarity blended with the symptom match).
        from dhanvantri.knowledge.intake import IntakeState

        rank1 = rank3 = 0
        for item in queries:
            state = IntakeState()
            state.update(item["q"])
            ids = [c.id for c, _ in state.candidate_conditions(kb, k=3)]
            rank1 += ids[0] in item["expect"]
            rank3 += any(i in item["expect"] for i in ids)
        for item in queries[:5]:  # warm-up
            kb.search(item["q"])
        latencies, cpu = [], []
        for _ in range(args.rounds):
            for item in queries:
                t, c = time.perf_counter(), time.process_time()
                kb.search(item["q"], k=3)
                latencies.append((time.perf_counter() - t) * 1000)
                cpu.append((time.process_time() - c) * 1000)
        embed_ms = []
        for item in queries:
            t = time.perf_counter()
            kb.embedder.embed([item["q"]])
            embed_ms.append((time.perf_counter() - t) * 1000)
    result = {
        "queries": len(queries),
        "conditions": len(kb.conditions),
        "hit_at_1": round(hit1 / len(queries), 4),
        "hit_at_3": round(hit3 / len(queries), 4),
        "intake_rank_hit_at_1": round(rank1 / len(queries), 4),
        "intake_rank_hit_at_3": round(rank3 / len(queries), 4),
        "search_ms_p50": round(statistics.median(latencies), 2),
        "search_ms_p95": round(_percentile(latencies, 95), 2),
        # CPU time of the process per search: close to wall time on an idle machine, and
        # unaffected by other processes competing for the cores.
        "search_cpu_ms_p50": round(statistics.median(cpu), 2),
        "search_cpu_ms_p95": round(_percentile(cpu, 95), 2),
        "embed_ms_p50": round(statistics.median(embed_ms), 2),
        "load_average_1m": round(os.getloadavg()[0], 2),
        "import_s": round(import_s, 2),
        "open_s": round(open_s, 2),
    }
    if args.misses:
        result["misses"] = misses
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            if key != "misses":
                print(f"{key:>15}: {value}")
        for miss in misses if args.misses else []:
            print(f"MISS {miss['q']!r}: expected {miss['expect']}, got {miss['got']}",
                  file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
