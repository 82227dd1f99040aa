"""The Batcher merges calls that arrive while one runs, hands each caller its own result, and
keeps kinds apart; WhisperSTT's final decodes from several threads come back to the right
caller with the words each said."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from dhanvantri.pipeline.batching import Batcher
from tests.speech import espeak_available


class Gated:
    """Doubles each item; the first call waits until ``release`` so others queue behind it."""

    def __init__(self) -> None:
        self.calls: list[list[int]] = []
        self.started = threading.Event()
        self.release = threading.Event()

    def __call__(self, items: Sequence[int]) -> list[int]:
        self.calls.append(list(items))
        if len(self.calls) == 1:
            self.started.set()
            assert self.release.wait(10)
        if any(i < 0 for i in items):
            raise ValueError("negative")
        return [2 * i for i in items]


def queued(batcher: Batcher, pool: ThreadPoolExecutor, items: Sequence[tuple[int, str]]):
    """Submit ``items`` (item, kind) from the pool's threads; their futures."""
    return [pool.submit(batcher.submit, item, kind) for item, kind in items]


def wait_pending(batcher: Batcher, n: int) -> None:
    for _ in range(1000):
        with batcher._cond:
            if len(batcher._pending) == n:
                return
        threading.Event().wait(0.01)
    raise AssertionError(f"never saw {n} waiting")


def test_a_lone_call_runs_at_once_and_later_ones_merge() -> None:
    run = Gated()
    batcher: Batcher[int, int] = Batcher(run, max_batch=8)
    with ThreadPoolExecutor(8) as pool:
        first = pool.submit(batcher.submit, 1)
        assert run.started.wait(10)
        rest = queued(batcher, pool, [(i, None) for i in range(2, 7)])
        wait_pending(batcher, 5)
        run.release.set()
        assert first.result(10) == 2
        assert [f.result(10) for f in rest] == [4, 6, 8, 10, 12]
    assert run.calls == [[1], [2, 3, 4, 5, 6]]
    assert (batcher.batches, batcher.items) == (2, 6)


def test_kinds_never_share_a_call_and_the_batch_is_capped() -> None:
    run = Gated()
    batcher: Batcher[int, int] = Batcher(run, max_batch=2)
    with ThreadPoolExecutor(8) as pool:
        first = pool.submit(batcher.submit, 0, "a")
        assert run.started.wait(10)
        rest = queued(batcher, pool, [(1, "a"), (2, "b"), (3, "a"), (4, "a")])
        wait_pending(batcher, 4)
        run.release.set()
        assert [f.result(10) for f in [first, *rest]] == [0, 2, 4, 6, 8]
    kinds = {0: "a", 1: "a", 2: "b", 3: "a", 4: "a"}
    for call in run.calls:
        assert len(call) <= 2 and len({kinds[i] for i in call}) == 1
    assert sorted(i for call in run.calls for i in call) == [0, 1, 2, 3, 4]


def test_an_error_reaches_every_caller_of_its_batch_only() -> None:
    run = Gated()
    batcher: Batcher[int, int] = Batcher(run, max_batch=8)
    with ThreadPoolExecutor(4) as pool:
        first = pool.submit(batcher.submit, 5)
        assert run.started.wait(10)
        bad = queued(batcher, pool, [(-1, None), (7, None)])
        wait_pending(batcher, 2)
        run.release.set()
        assert first.result(10) == 10
        for future in bad:
            with pytest.raises(ValueError, match="negative"):
                future.result(10)
    assert batcher.submit(3) == 6  # the batcher still works after a failed call


@pytest.mark.models
@pytest.mark.skipif(not espeak_available(), reason="espeak-ng and sox are needed")
def test_whisper_finals_from_several_threads_come_back_to_their_caller(speech) -> None:
    from dhanvantri.knowledge import hearing
    from dhanvantri.pipeline.stt_whisper import WhisperSTT

    said = {
        "I have a headache and my throat is sore.": {"headache", "throat", "sore"},
        "My stomach hurts after I eat.": {"stomach", "hurts", "eat"},
        "Since yesterday evening.": {"yesterday", "evening"},
        "I have had a fever and a dry cough for three days.": {"fever", "cough", "days"},
    }
    topics = ["complaint", "complaint", "duration", "complaint"]
    stt = WhisperSTT(word_probabilities=True)
    clips = [speech(text).astype(np.float32) / 32768.0 for text in said]
    prompts = [hearing.listening_prompt(topic) for topic in topics]
    with ThreadPoolExecutor(4) as pool:
        for _ in range(3):  # rounds: later ones arrive while the first decode runs
            heard = list(pool.map(lambda c, p: stt.transcribe(c, prompt=p), clips, prompts))
            for (text, expected), result in zip(said.items(), heard, strict=True):
                got = set(result.text.lower().replace(",", " ").replace(".", " ").split())
                assert expected <= got, (text, result.text)
                assert [w.text for w in result.words] == result.text.split()
    assert stt.finals.items == 12  # every final went through the batcher (merging: above)
