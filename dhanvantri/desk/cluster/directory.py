"""Shared directories: which process holds which live consultation, which physicians are online.

A directory maps keys to small JSON objects that expire unless refreshed: a process that dies
stops refreshing, and its entries vanish after ``ttl_s``. ``MemoryDirectory`` serves one process;
``RedisDirectory`` keeps one Redis hash per directory (field: key; value: the entry and its
expiry time), so every process sees the same entries::

    consultations = make_directory(bus, "consultations")
    async with keep_alive(consultations, consultation_id, {"node": node_id}, ttl_s=15):
        ...  # other processes find the consultation's holder with .get(consultation_id)
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator, Callable
from typing import Any, Protocol

from dhanvantri.desk.cluster.bus import EventBus, RedisBus

log = logging.getLogger(__name__)

Entry = dict[str, Any]
Clock = Callable[[], float]
DEFAULT_TTL_S = 15.0


class Directory(Protocol):
    """Keys to entries that expire unless refreshed."""

    async def put(self, key: str, entry: Entry, ttl_s: float = DEFAULT_TTL_S) -> None:
        """Add or refresh ``key`` for another ``ttl_s`` seconds."""

    async def get(self, key: str) -> Entry | None:
        """The live entry, or None (absent or expired)."""

    async def remove(self, key: str) -> None:
        """Forget ``key`` now."""

    async def items(self) -> dict[str, Entry]:
        """Every live entry (expired ones are dropped on the way)."""


class MemoryDirectory:
    """A directory in one process.

    Args:
        clock: seconds, monotonic (tests pass their own).
    """

    def __init__(self, clock: Clock = time.monotonic) -> None:
        self.clock = clock
        self._entries: dict[str, tuple[Entry, float]] = {}

    async def put(self, key: str, entry: Entry, ttl_s: float = DEFAULT_TTL_S) -> None:
        """See :meth:`Directory.put`."""
        self._entries[key] = (json.loads(json.dumps(entry)), self.clock() + ttl_s)

    async def get(self, key: str) -> Entry | None:
        """See :meth:`Directory.get`."""
        return (await self.items()).get(key)

    async def remove(self, key: str) -> None:
        """See :meth:`Directory.remove`."""
        self._entries.pop(key, None)

    async def items(self) -> dict[str, Entry]:
        """See :meth:`Directory.items`."""
        now = self.clock()
        for key in [k for k, (_, expires) in self._entries.items() if expires <= now]:
            del self._entries[key]
        return {key: dict(entry) for key, (entry, _) in self._entries.items()}


class RedisDirectory:
    """A directory as one Redis hash, shared by every process on the same Redis.

    Expiry times are wall-clock seconds (processes share no monotonic clock); the hash itself
    also expires once nothing refreshes anything in it.
    """

    def __init__(self, bus: RedisBus, name: str, clock: Clock = time.time) -> None:
        self.redis = bus.redis
        self.key = f"{bus.prefix}directory:{name}"
        self.clock = clock

    async def put(self, key: str, entry: Entry, ttl_s: float = DEFAULT_TTL_S) -> None:
        """See :meth:`Directory.put`."""
        value = json.dumps({"entry": entry, "expires": self.clock() + ttl_s})
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(self.key, key, value)
            pipe.expire(self.key, max(1, int(ttl_s * 4)))
            await pipe.execute()

    async def get(self, key: str) -> Entry | None:
        """See :meth:`Directory.get`."""
        raw = await self.redis.hget(self.key, key)
        if raw is None:
            return None
        stored = json.loads(raw)
        if stored["expires"] <= self.clock():
            await self.redis.hdel(self.key, key)
            return None
        return stored["entry"]  # type: ignore[no-any-return]

    async def remove(self, key: str) -> None:
        """See :meth:`Directory.remove`."""
        await self.redis.hdel(self.key, key)

    async def items(self) -> dict[str, Entry]:
        """See :meth:`Directory.items`."""
        now, live, stale = self.clock(), {}, []
        for key, raw in (await self.redis.hgetall(self.key)).items():
            stored = json.loads(raw)
            if stored["expires"] <= now:
                stale.append(key)
            else:
                live[key] = stored["entry"]
        if stale:
            await self.redis.hdel(self.key, *stale)
        return live


def make_directory(bus: EventBus, name: str) -> Directory:
    """The directory that matches the bus: shared in Redis, or in this process."""
    if isinstance(bus, RedisBus):
        return RedisDirectory(bus, name)
    return MemoryDirectory()


@contextlib.asynccontextmanager
async def keep_alive(directory: Directory, key: str, entry: Entry,
                     ttl_s: float = DEFAULT_TTL_S) -> AsyncIterator[None]:
    """Hold ``key`` in ``directory`` while the block runs, refreshing it every third of ``ttl_s``;
    remove it on the way out."""
    await directory.put(key, entry, ttl_s)

    async def beat() -> None:
        while True:
            await asyncio.sleep(ttl_s / 3)
            try:
                await directory.put(key, entry, ttl_s)
            except Exception:  # e.g. Redis restarting: keep beating, the next one may land
                log.warning("directory heartbeat for %s failed", key, exc_info=True)

    task = asyncio.get_running_loop().create_task(beat(), name=f"heartbeat-{key}")
    try:
        yield
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await directory.remove(key)
