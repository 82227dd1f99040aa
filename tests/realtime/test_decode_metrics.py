"""/metrics reports the shared speech-to-text model's final decodes and the calls that ran them."""

from __future__ import annotations

import re
import threading

from dhanvantri.pipeline.batching import Batcher
from dhanvantri.realtime.metrics import ServerMetrics


def counts(metrics: ServerMetrics) -> tuple[float, float]:
    text = metrics.render().decode()
    found = dict(re.findall(r"^(dhanvantri_stt_final_\w+) ([0-9.e+]+)$", text, re.M))
    return float(found["dhanvantri_stt_final_decodes"]), float(found["dhanvantri_stt_final_calls"])


def test_decodes_merged_into_one_call_count_once_as_a_call() -> None:
    started, release = threading.Event(), threading.Event()

    def run(items: list[int]) -> list[int]:
        started.set()
        assert release.wait(10)
        return [i * 2 for i in items]

    batcher: Batcher[int, int] = Batcher(run)
    metrics = ServerMetrics()
    metrics.watch_decodes(batcher)
    assert counts(metrics) == (0, 0)
    results: list[int] = []
    first = threading.Thread(target=lambda: results.append(batcher.submit(1)))
    first.start()
    assert started.wait(10)  # the first call runs; the next two arrive meanwhile
    later = [threading.Thread(target=lambda i=i: results.append(batcher.submit(i)))
             for i in (2, 3)]
    for thread in later:
        thread.start()
    while len(batcher._pending) < 2:
        threading.Event().wait(0.01)
    release.set()
    for thread in (first, *later):
        thread.join(10)
    assert sorted(results) == [2, 4, 6]
    assert counts(metrics) == (3, 2)  # three decodes in two calls
