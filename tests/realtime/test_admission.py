"""Admission control: a new consultation is refused (503, Retry-After, the reason in the body)
when every slot is taken or while the recent replies are slow, and taken again once they are
quick; live consultations are never touched."""

from __future__ import annotations

from pathlib import Path

import pytest

from dhanvantri.pipeline.latency import TurnTimes
from dhanvantri.realtime.admission import ReplyPace
from dhanvantri.realtime.app import create_app
from dhanvantri.realtime.consultations import ConsultationRegistry, ServerBusy
from dhanvantri.realtime.state import RUNTIME
from tests.realtime.conftest import make_settings, stand_in_models, start

API = "/api/v1/consultations"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_pace_is_the_p95_of_recent_replies_and_forgets_old_ones() -> None:
    clock = Clock()
    pace = ReplyPace(1200, turns=20, min_turns=5, max_age_s=60, clock=clock)
    for seconds in (0.6, 0.7, 0.8, 0.9):
        pace.observe(seconds)
    assert pace.p95_ms() is None and not pace.slow()  # too few to tell
    pace.observe(1.6)
    assert pace.p95_ms() == pytest.approx(1600) and pace.slow()
    for _ in range(19):
        pace.observe(0.7)  # the slow one falls out of the last 20
    assert pace.p95_ms() == pytest.approx(700) and not pace.slow()
    pace.observe(2.0)
    clock.now += 61  # a quiet minute: nothing recent, nothing slow
    assert pace.p95_ms() is None and not pace.slow()
    assert not ReplyPace(0, clock=clock).slow()  # 0: never refuses


def test_a_registry_refuses_while_replies_are_slow_and_keeps_the_live_ones() -> None:
    clock = Clock()
    pace = ReplyPace(1200, min_turns=5, clock=clock)
    registry = ConsultationRegistry(max_sessions=8, pace=pace)
    live = registry.create()
    for _ in range(5):
        pace.observe(1.4)
    with pytest.raises(ServerBusy) as refused:
        registry.create()
    details = refused.value.details
    assert details["reason"] == "slow_replies" and details["p95_ms"] == pytest.approx(1400)
    assert details["retry_after"] >= 1
    assert live.id in registry and len(registry) == 1
    clock.now += 61
    assert registry.create().id in registry  # quick again (nothing recent): taken


def test_a_full_registry_says_so_with_a_retry_after() -> None:
    registry = ConsultationRegistry(max_sessions=1)
    registry.create()
    with pytest.raises(ServerBusy) as refused:
        registry.create()
    assert refused.value.details["reason"] == "full"
    assert refused.value.details["retry_after"] >= 1


async def test_the_app_feeds_reply_times_to_the_pace_and_answers_503_with_retry_after(
        tmp_path: Path) -> None:
    settings = make_settings(tmp_path, admission_slow_ms=1000.0)
    client = await start(create_app(settings, models=stand_in_models(settings)))
    try:
        assert (await client.post(API)).status == 201
        runtime = client.app[RUNTIME]
        for turn in range(5):  # what live sessions report as their replies' first audio
            runtime.metrics.observe_turn(TurnTimes(turn=turn, speech_end=10.0,
                                                   at={"tts_first_audio": 11.5}))
        refused = await client.post(API)
        assert refused.status == 503 and int(refused.headers["Retry-After"]) >= 1
        error = (await refused.json())["error"]
        assert error["code"] == "SERVER_BUSY" and error["details"]["reason"] == "slow_replies"
        metrics = (await (await client.get("/metrics")).text())
        assert "dhanvantri_sessions_rejected_total 1.0" in metrics
    finally:
        await client.close()
