"""The event bus and shared directories, in process and over Redis."""

from __future__ import annotations

import asyncio

import pytest

from dhanvantri.desk.cluster.bus import EventBus, MemoryBus, RedisBus, make_bus
from dhanvantri.desk.cluster.directory import MemoryDirectory, RedisDirectory, keep_alive
from dhanvantri.settings import Settings
from tests.realtime.buses import bus, drop_keys, require_redis, unique_prefix

__all__ = ["bus"]


async def next_event(sub: object, wait_s: float = 2.0) -> dict[str, object]:
    return await asyncio.wait_for(anext(sub), wait_s)  # type: ignore[call-overload]


async def test_events_arrive_in_order_as_plain_json(bus: EventBus) -> None:
    async with await bus.subscribe("queue") as sub:
        for n in range(20):
            await bus.publish("queue", {"n": n, "nested": {"flags": ["a", "b"]}})
        got = [await next_event(sub) for _ in range(20)]
    assert [e["n"] for e in got] == list(range(20))
    assert got[3]["nested"] == {"flags": ["a", "b"]}


async def test_every_subscriber_gets_each_event_and_channels_are_separate(bus: EventBus
                                                                          ) -> None:
    first, second = await bus.subscribe("a"), await bus.subscribe("a")
    other = await bus.subscribe("b")
    await bus.publish("a", {"x": 1})
    await bus.publish("b", {"x": 2})
    assert await next_event(first) == {"x": 1}
    assert await next_event(second) == {"x": 1}
    assert await next_event(other) == {"x": 2}
    for sub in (first, second, other):
        await sub.close()


async def test_closed_subscription_ends_and_gets_nothing_more(bus: EventBus) -> None:
    sub = await bus.subscribe("c")
    await sub.close()
    await bus.publish("c", {"late": True})
    assert [e async for e in sub] == []


@pytest.mark.redis
async def test_redis_channels_are_isolated_by_prefix() -> None:
    url = require_redis()
    mine, other = RedisBus(url, unique_prefix()), RedisBus(url, unique_prefix())
    try:
        async with await other.subscribe("q") as elsewhere:
            await mine.publish("q", {"x": 1})
            with pytest.raises(TimeoutError):
                await next_event(elsewhere, 0.3)
    finally:
        await mine.close()
        await other.close()


async def test_only_json_objects_are_events(bus: EventBus) -> None:
    with pytest.raises(TypeError):
        await bus.publish("q", ["not", "a", "dict"])  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        await bus.publish("q", {"when": object()})


@pytest.mark.redis
async def test_redis_bus_carries_events_between_separate_connections() -> None:
    prefix = unique_prefix()
    url = require_redis()
    here, there = RedisBus(url, prefix), RedisBus(url, prefix)
    try:
        async with await there.subscribe("escalations") as sub:
            await here.publish("escalations", {"id": "e1"})
            assert await next_event(sub) == {"id": "e1"}
    finally:
        await here.close()
        await there.close()


def test_settings_choose_the_bus() -> None:
    assert isinstance(make_bus(Settings(bus="memory")), MemoryBus)
    with pytest.raises(ValueError, match="bus"):
        make_bus(Settings(bus="kafka"))


# ------------------------------------------------------------------ directories
class Clock:
    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now


async def directories(bus: EventBus, clock: Clock) -> MemoryDirectory | RedisDirectory:
    if isinstance(bus, RedisBus):
        return RedisDirectory(bus, "consultations", clock=clock)
    return MemoryDirectory(clock=clock)


async def test_directory_entries_expire_unless_refreshed(bus: EventBus) -> None:
    clock = Clock()
    directory = await directories(bus, clock)
    await directory.put("c1", {"node": "n1"}, ttl_s=10)
    await directory.put("c2", {"node": "n2"}, ttl_s=10)
    assert await directory.get("c1") == {"node": "n1"}
    clock.now += 6
    await directory.put("c1", {"node": "n1"}, ttl_s=10)  # heartbeat
    clock.now += 6
    assert await directory.items() == {"c1": {"node": "n1"}}
    assert await directory.get("c2") is None
    await directory.remove("c1")
    assert await directory.items() == {}


@pytest.mark.redis
async def test_redis_directory_is_shared_between_connections() -> None:
    url, prefix = require_redis(), unique_prefix()
    one, two = RedisBus(url, prefix), RedisBus(url, prefix)
    try:
        await RedisDirectory(one, "physicians").put("p1", {"node": "a"})
        assert await RedisDirectory(two, "physicians").items() == {"p1": {"node": "a"}}
        assert await RedisDirectory(two, "consultations").items() == {}
    finally:
        await drop_keys(one)
        await one.close()
        await two.close()


async def test_keep_alive_holds_the_key_until_the_block_ends(bus: EventBus) -> None:
    directory = MemoryDirectory() if not isinstance(bus, RedisBus) else RedisDirectory(bus, "d")
    async with keep_alive(directory, "c1", {"node": "n1"}, ttl_s=0.3):
        await asyncio.sleep(0.5)  # longer than the TTL: the heartbeat refreshed it
        assert await directory.get("c1") == {"node": "n1"}
    assert await directory.get("c1") is None
