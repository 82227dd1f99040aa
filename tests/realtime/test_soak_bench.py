"""``benchmarks/soak.py``: a short soak (2 waves of 2 speaking patients, one signed in, one a
guest; stand-in models) leaves no consultation, slot, recorder, task or per-session object
behind, and reports in the JSON shape the benchmark promises. No RSS threshold here: memory is
the machine's; the benchmark reports it."""

from __future__ import annotations

import ctypes
import json
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from tests.realtime.conftest import make_settings, stand_in_models
from tests.support.scripts import load_benchmark

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "benchmarks" / "soak.py"
BLOCK, BLOCKS = 32 * 1024, 1024  # 32 MiB in blocks under glibc's mmap threshold
WAVE_KEYS = {"wave", "sessions_run", "signed_in", "turns", "turns_without_reply", "failures",
             "wall_s", "rss_mb", "children_rss_mb", "sessions", "recorders", "tasks",
             "task_names", "fds", "threads", "objects"}



def load_bench() -> ModuleType:
    return load_benchmark("soak")


async def test_a_short_soak_leaves_nothing_behind(
        tmp_path: Path, speech: Callable[[str], np.ndarray]) -> None:
    bench = load_bench()
    settings = make_settings(tmp_path, max_sessions=2)
    phrases = [speech("I have a fever since yesterday.")]
    result = await bench.soak(settings, models=stand_in_models(settings), minutes=0.01, wave_size=2,
                        turns=2, phrases=phrases, max_waves=2, speed=4, log=lambda _: None)

    waves = result["waves"]
    assert [w["wave"] for w in waves] == [1, 2]
    for row in waves:
        assert set(row) == WAVE_KEYS
        assert row["failures"] == []
        assert row["signed_in"] == 1  # the record path ran too
        assert row["turns_without_reply"] == 0  # the patients spoke and were answered
        assert (row["sessions"], row["recorders"]) == (0, 0)
        assert set(row["objects"]) == set(bench.PER_SESSION)
        assert not any(row["objects"].values()), row["objects"]
        assert not any(name.startswith(("ws-", "record-", "live-", "hang-up-", "hold-"))
                       for name in row["task_names"]), row["task_names"]
        assert row["tasks"] <= result["idle_tasks"], row["task_names"]  # none left behind
    assert result["sessions_total"] == 4
    assert result["rss_ratio"] == round(waves[1]["rss_mb"] / waves[0]["rss_mb"], 4)
    assert isinstance(result["passed"], bool)
    assert result["passed"] == (not result["problems"])
    json.dumps(result)  # what --json prints


def test_bad_usage_exits_2() -> None:
    done = subprocess.run([sys.executable, str(BENCH), "--minutes",
                           "0", "--json"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stdout == ""
    assert "--minutes" in done.stderr


def test_free_heap_memory_goes_back_to_the_system() -> None:
    """What a call's threads allocated and freed leaves the RSS once released (glibc)."""
    from dhanvantri.realtime import memory

    if memory._malloc_trim() is None:
        pytest.skip("not glibc: nothing to release")
    libc = ctypes.CDLL(None)
    libc.malloc.restype, libc.malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
    libc.free.argtypes = [ctypes.c_void_p]

    def churn() -> None:  # in a thread, as the models' work runs: its own arena
        blocks = [libc.malloc(BLOCK) for _ in range(BLOCKS)]
        for block in blocks:
            ctypes.memset(block, 1, BLOCK)  # touched: resident
        for block in blocks[:-1]:  # the last one pins the heap: free alone cannot shrink it
            libc.free(block)
        kept.append(blocks[-1])

    kept: list[int] = []
    worker = threading.Thread(target=churn)
    worker.start()
    worker.join()
    before = rss_kib()
    assert memory.release_free_memory()
    released = before - rss_kib()
    libc.free(kept[0])
    assert released > BLOCK * BLOCKS // 1024 // 2, f"{released} KiB released"


def rss_kib() -> int:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))


def test_the_verdict_fails_on_growth_and_on_what_is_left_behind() -> None:
    bench = load_bench()
    clean = {"sessions": 0, "recorders": 0, "failures": [], "tasks": 2, "task_names": {},
             "objects": dict.fromkeys(bench.PER_SESSION, 0), "sessions_run": 2}
    ready = {"idle_tasks": 2}
    waves = [{**clean, "wave": 1, "rss_mb": 1000.0}, {**clean, "wave": 2, "rss_mb": 1040.0}]
    assert bench.verdict(waves, ready, None, {})["passed"]

    grown = [waves[0], {**waves[1], "rss_mb": 1060.0}]
    leaked = [waves[0], {**waves[1], "sessions": 1, "tasks": 3,
                         "objects": {**clean["objects"], "LiveSession": 1}}]
    assert bench.verdict(grown, ready, None, {})["problems"] == [
        "RSS grew 6.0 % from wave 1 to wave 2"]
    problems = bench.verdict(leaked, ready, None, {})["problems"]
    assert len(problems) == 3 and not bench.verdict(leaked, ready, None, {})["passed"]
