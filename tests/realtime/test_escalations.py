"""Escalations: state machine, routing to online physicians, one acceptor, timeout, audit."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from dhanvantri.desk.cluster.bus import EventBus, RedisBus
from dhanvantri.desk.cluster.directory import make_directory
from dhanvantri.desk.escalations import (
    QUEUE_CHANNEL,
    EscalationService,
    consultation_channel,
    uow_audit,
)
from dhanvantri.desk.store import Escalation, Status, make_store
from dhanvantri.http.errors import Conflict, NotFound
from dhanvantri.platform.audit import list_events, verify_trail
from dhanvantri.platform.bootstrap import bootstrap
from dhanvantri.platform.domain.audit import Actor
from dhanvantri.settings import Settings
from tests.realtime.buses import bus, drop_keys, require_redis, unique_prefix

__all__ = ["bus"]


def physician() -> Actor:
    return Actor(uuid.uuid4(), "physician")


def service(bus: EventBus, timeout_s: float = 30.0, **kwargs: object) -> EscalationService:
    return EscalationService(bus, make_store(bus), make_directory(bus, "physicians"),
                             node="node-a", timeout_s=timeout_s, **kwargs)  # type: ignore[arg-type]


async def take(sub: object, count: int) -> list[dict[str, object]]:
    return [await asyncio.wait_for(anext(sub), 2.0) for _ in range(count)]  # type: ignore[call-overload]


async def test_raise_offers_to_online_physicians_and_announces(bus: EventBus) -> None:
    escalations = service(bus)
    await escalations.physicians.put("doc-1", {"node": "node-a"})
    await escalations.physicians.put("doc-2", {"node": "node-b"})
    async with await bus.subscribe(QUEUE_CHANNEL) as sub:
        raised = await escalations.raise_escalation(
            "c1", reason="red_flag", red_flags=["chest_pain"], emergency=True, turn=2)
        events = await take(sub, 2)
    assert raised.status is Status.OFFERED
    assert raised.offered_to == ["doc-1", "doc-2"]
    assert [e["event"] for e in events] == ["raised", "offered"]
    assert events[1]["escalation"]["offered_to"] == 2
    assert isinstance(events[0]["published_at"], float)
    queue = await escalations.queue()
    assert [q["id"] for q in queue] == [raised.id]
    assert queue[0]["red_flags"] == ["chest_pain"] and queue[0]["emergency"] is True
    await escalations.close()


def test_summary_keeps_identifiers_only() -> None:
    escalation = Escalation(consultation_id="c", node="n", reason="my name is Ravi",
                            red_flags=["chest_pain", "I live at 12 MG Road", "chest_pain"],
                            topics=["fever", "Phone 98450 12345"], raised_at=0, deadline=1)
    summary = escalation.summary()
    assert summary["reason"] == "other"
    assert summary["red_flags"] == ["chest_pain"]
    assert summary["topics"] == ["fever"]
    assert "Ravi" not in str(summary) and "98450" not in str(summary)


def test_state_machine_refuses_moves_it_does_not_allow() -> None:
    escalation = Escalation(consultation_id="c", node="n", reason="red_flag", raised_at=0,
                            deadline=1)
    escalation.move(Status.OFFERED)
    escalation.move(Status.ACCEPTED)
    with pytest.raises(Conflict):
        escalation.move(Status.TIMED_OUT)
    escalation.move(Status.RESOLVED)
    with pytest.raises(Conflict):
        escalation.move(Status.ACCEPTED)


async def test_a_second_raise_joins_the_open_escalation(bus: EventBus) -> None:
    escalations = service(bus)
    first = await escalations.raise_escalation("c1", reason="patient_request")
    async with await bus.subscribe(QUEUE_CHANNEL) as sub:
        second = await escalations.raise_escalation(
            "c1", reason="red_flag", red_flags=["stroke_signs"], emergency=True)
        (event,) = await take(sub, 1)
    assert second.id == first.id
    assert second.emergency and second.red_flags == ["stroke_signs"]
    assert event["event"] == "updated"
    assert len(await escalations.queue()) == 1
    await escalations.close()


async def test_queue_puts_emergencies_first(bus: EventBus) -> None:
    escalations = service(bus)
    calm = await escalations.raise_escalation("c1", reason="patient_request")
    urgent = await escalations.raise_escalation("c2", reason="red_flag", emergency=True)
    later = await escalations.raise_escalation("c3", reason="uncertain")
    assert [q["id"] for q in await escalations.queue()] == [urgent.id, calm.id, later.id]
    await escalations.close()


async def test_exactly_one_of_many_physicians_accepts(bus: EventBus) -> None:
    escalations = service(bus)
    raised = await escalations.raise_escalation("c1", reason="red_flag", emergency=True)
    doctors = [physician() for _ in range(6)]
    results = await asyncio.gather(*(escalations.accept(raised.id, d) for d in doctors),
                                   return_exceptions=True)
    winners = [r for r in results if isinstance(r, Escalation)]
    assert len(winners) == 1
    assert all(isinstance(r, Conflict) for r in results if not isinstance(r, Escalation))
    stored = await escalations.store.get(raised.id)
    assert stored.status is Status.ACCEPTED
    assert stored.accepted_by == winners[0].accepted_by
    await escalations.close()


@pytest.mark.redis
async def test_exactly_one_accepts_across_processes() -> None:
    """Two services on separate Redis connections (as two server processes would be)."""
    url, prefix = require_redis(), unique_prefix()
    buses = [RedisBus(url, prefix), RedisBus(url, prefix)]
    here, there = service(buses[0]), service(buses[1])
    try:
        raised = await here.raise_escalation("c1", reason="red_flag")
        results = await asyncio.gather(
            *(svc.accept(raised.id, physician()) for svc in (here, there) * 4),
            return_exceptions=True)
        assert sum(isinstance(r, Escalation) for r in results) == 1
        assert (await there.store.get(raised.id)).status is Status.ACCEPTED
    finally:
        await here.close()
        await there.close()
        await drop_keys(buses[0])
        for b in buses:
            await b.close()


async def test_timeout_tells_the_patient_and_stays_visible(bus: EventBus) -> None:
    escalations = service(bus, timeout_s=0.2)
    async with await bus.subscribe(consultation_channel("c1")) as patient:
        raised = await escalations.raise_escalation("c1", reason="red_flag", emergency=True)
        (told,) = await take(patient, 1)
    assert told["type"] == "escalation_timeout"
    assert told["escalation_id"] == raised.id
    assert "112" in str(told["advice"]) and "hospital" in str(told["advice"])
    queue = await escalations.queue()
    assert queue[0]["status"] == "timed_out"
    accepted = await escalations.accept(raised.id, physician())  # still possible afterwards
    assert accepted.status is Status.ACCEPTED
    await escalations.close()


async def test_accepting_in_time_stops_the_timeout(bus: EventBus) -> None:
    escalations = service(bus, timeout_s=0.2)
    async with await bus.subscribe(consultation_channel("c1")) as patient:
        raised = await escalations.raise_escalation("c1", reason="patient_request")
        await escalations.accept(raised.id, physician())
        (event,) = await take(patient, 1)
        assert event["type"] == "escalation_accepted"
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(anext(patient), 0.4)
    assert await escalations.expire(raised.id) is None
    assert (await escalations.store.get(raised.id)).status is Status.ACCEPTED
    await escalations.close()


async def test_resolve_leaves_the_queue(bus: EventBus) -> None:
    escalations = service(bus)
    raised = await escalations.raise_escalation("c1", reason="red_flag")
    doctor = physician()
    await escalations.accept(raised.id, doctor)
    await escalations.resolve(raised.id, doctor)
    assert await escalations.queue() == []
    with pytest.raises(Conflict):
        await escalations.resolve(raised.id, doctor)
    with pytest.raises(NotFound):
        await escalations.accept("no-such-id", doctor)
    await escalations.close()


# ------------------------------------------------------------------ audit
@pytest.fixture
async def uow_factory(tmp_path: Path) -> AsyncIterator[object]:
    settings = Settings(data_dir=tmp_path / "data",
                        database_url=f"sqlite+aiosqlite:///{tmp_path / 'audit.sqlite3'}")
    services = bootstrap(settings)
    await services.start()
    yield services.uow
    await services.close()


async def test_every_step_is_audited_on_the_chain(bus: EventBus, uow_factory: object) -> None:
    escalations = service(bus, timeout_s=0.1, audit=uow_audit(uow_factory))  # type: ignore[arg-type]
    async with await bus.subscribe(QUEUE_CHANNEL) as sub:
        raised = await escalations.raise_escalation(
            "c1", reason="red_flag", red_flags=["chest_pain"], emergency=True)
        while (await take(sub, 1))[0]["event"] != "timed_out":
            pass
    doctor = physician()
    await escalations.accept(raised.id, doctor)
    await escalations.resolve(raised.id, doctor)
    events = await list_events(uow_factory(), "escalation", raised.id, 0, 100)  # type: ignore[operator]
    assert [e["action"] for e in events] == [
        "escalation_raised", "escalation_offered", "escalation_timed_out",
        "escalation_accepted", "escalation_resolved"]
    assert events[3]["actor_id"] == str(doctor.user_id)
    assert events[0]["new_values"]["emergency"] is True  # red flags: a keyed hash, not values
    assert "chest_pain" not in str(events[0]) and events[0]["new_values"]["red_flags"]["hash"]
    count, broken = await verify_trail(uow_factory())  # type: ignore[operator]
    assert count >= 5 and broken is None
    await escalations.close()


async def test_sweep_times_out_escalations_of_a_process_that_died(bus: EventBus) -> None:
    dead = service(bus, timeout_s=0.1)
    raised = await dead.raise_escalation("c1", reason="red_flag", emergency=True)
    await dead.close()  # its timer never fires
    survivor = EscalationService(bus, dead.store, dead.physicians, node="node-b",
                                 timeout_s=0.1)
    async with await bus.subscribe(consultation_channel("c1")) as patient:
        await asyncio.sleep(0.15)
        assert await survivor.sweep() == 1
        (told,) = await take(patient, 1)
    assert told["type"] == "escalation_timeout" and told["escalation_id"] == raised.id
    assert await survivor.sweep() == 0  # fires once
    await survivor.close()


async def test_resolved_escalations_are_pruned_after_an_hour(bus: EventBus) -> None:
    now = [1_000_000.0]
    escalations = service(bus, clock=lambda: now[0])
    raised = await escalations.raise_escalation("c1", reason="red_flag")
    kept = await escalations.raise_escalation("c2", reason="red_flag")
    doctor = physician()
    await escalations.accept(raised.id, doctor)
    await escalations.resolve(raised.id, doctor)
    now[0] += 3601
    await escalations.sweep()
    with pytest.raises(NotFound):
        await escalations.store.get(raised.id)
    assert (await escalations.store.get(kept.id)).status is Status.TIMED_OUT  # swept, kept
    await escalations.close()
