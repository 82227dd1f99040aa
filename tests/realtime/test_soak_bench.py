"""``benchmarks/soak.py``: a short soak (2 waves of 2 speaking patients, one signed in, one a
guest; stand-in models) leaves no consultation, slot, recorder, task or per-session object
behind, and reports in the JSON shape the benchmark promises. No RSS threshold here: memory is
the machine's; the benchmark reports it."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import numpy as np

from tests.realtime.conftest import make_settings, stand_in_models

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "benchmarks" / "soak.py"
WAVE_KEYS = {"wave", "sessions_run", "signed_in", "turns", "turns_without_reply", "failures",
             "wall_s", "rss_mb", "children_rss_mb", "sessions", "recorders", "tasks",
             "task_names", "fds", "threads", "objects"}



def load_bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("soak", BENCH)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


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
    assert waves[1]["tasks"] <= waves[0]["tasks"], (waves[0]["task_names"],
                                                    waves[1]["task_names"])
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
