"""Events between server processes: an ``EventBus`` with an in-process and a Redis backend.

A channel carries JSON objects. ``await bus.subscribe(channel)`` returns once the subscription
is live (so nothing published afterwards is missed) and yields events in publish order::

    bus = make_bus(settings)
    async with await bus.subscribe("escalations") as events:
        async for event in events:
            ...

Every channel name is prefixed with the bus's ``prefix`` (one Redis may serve several
deployments or test runs). ``MemoryBus`` serves one process; ``RedisBus`` uses Redis pub/sub so a
physician connected to one process hears about a consultation held by another. Delivery is
at-most-once, as Redis pub/sub is: state that must survive a missed event lives in the shared
stores (``directory.py``, ``store.py``), and events only say that it changed.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from types import TracebackType
from typing import Any, Protocol

from dhanvantri.settings import Settings

log = logging.getLogger(__name__)

Event = dict[str, Any]
QUEUE_LIMIT = 1000  # events a slow in-process subscriber may fall behind before losing some


class Subscription(Protocol):
    """An async iterator of one channel's events; ``close()`` (or ``async with``) ends it."""

    def __aiter__(self) -> AsyncIterator[Event]: ...

    async def __anext__(self) -> Event: ...

    async def close(self) -> None: ...

    async def __aenter__(self) -> Subscription: ...

    async def __aexit__(self, *exc: object) -> None: ...


class EventBus(Protocol):
    """Publish/subscribe of JSON events by channel name."""

    prefix: str

    async def publish(self, channel: str, event: Event) -> None:
        """Send ``event`` to every current subscriber of ``channel`` (in any process)."""

    async def subscribe(self, channel: str) -> Subscription:
        """A live subscription to ``channel``."""

    async def close(self) -> None:
        """End every subscription and release connections."""


def _encode(event: Event) -> str:
    if not isinstance(event, dict):
        raise TypeError("an event is a dict")
    return json.dumps(event, separators=(",", ":"))


class _QueueSubscription:
    """Shared iteration and context-manager logic over an ``asyncio.Queue``."""

    _END: Any = object()

    def __init__(self) -> None:
        self.queue: asyncio.Queue[Any] = asyncio.Queue(QUEUE_LIMIT)
        self.closed = False

    def __aiter__(self) -> _QueueSubscription:
        return self

    async def __anext__(self) -> Event:
        if self.closed and self.queue.empty():
            raise StopAsyncIteration
        item = await self.queue.get()
        if item is self._END:
            self.closed = True
            raise StopAsyncIteration
        return item  # type: ignore[no-any-return]

    def offer(self, event: Event | Any) -> None:
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            log.warning("bus subscriber too slow; event dropped")

    def end(self) -> None:
        if not self.closed:
            self.closed = True
            try:
                self.queue.put_nowait(self._END)
            except asyncio.QueueFull:
                self.queue.get_nowait()
                self.queue.put_nowait(self._END)

    async def close(self) -> None:
        self.end()

    async def __aenter__(self) -> _QueueSubscription:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.close()


class MemoryBus:
    """The bus inside one process (the default: ``DHANVANTRI_BUS=memory``).

    Events are copied through JSON, as Redis would, so code that works here works there.
    """

    def __init__(self, prefix: str = "dhanvantri:") -> None:
        self.prefix = prefix
        self._subscribers: dict[str, set[_MemorySubscription]] = {}

    async def publish(self, channel: str, event: Event) -> None:
        """See :meth:`EventBus.publish`."""
        data = _encode(event)
        for sub in list(self._subscribers.get(self.prefix + channel, ())):
            sub.offer(json.loads(data))

    async def subscribe(self, channel: str) -> _MemorySubscription:
        """See :meth:`EventBus.subscribe`."""
        sub = _MemorySubscription(self, self.prefix + channel)
        self._subscribers.setdefault(sub.channel, set()).add(sub)
        return sub

    def _drop(self, sub: _MemorySubscription) -> None:
        subs = self._subscribers.get(sub.channel)
        if subs is not None:
            subs.discard(sub)
            if not subs:
                del self._subscribers[sub.channel]

    async def close(self) -> None:
        """See :meth:`EventBus.close`."""
        for subs in list(self._subscribers.values()):
            for sub in list(subs):
                await sub.close()


class _MemorySubscription(_QueueSubscription):
    def __init__(self, bus: MemoryBus, channel: str) -> None:
        super().__init__()
        self.bus, self.channel = bus, channel

    async def close(self) -> None:
        self.bus._drop(self)
        self.end()


class RedisBus:
    """The bus over Redis pub/sub (``DHANVANTRI_BUS=redis``, ``DHANVANTRI_REDIS_URL``).

    One connection publishes (and serves the shared stores through :attr:`redis`); each
    subscription holds its own pub/sub connection, read by a task that feeds its queue.
    """

    def __init__(self, url: str, prefix: str = "dhanvantri:") -> None:
        import redis.asyncio as aioredis

        self.prefix = prefix
        self.url = url
        self.redis = aioredis.Redis.from_url(url, decode_responses=True)
        self._subscriptions: set[_RedisSubscription] = set()

    async def publish(self, channel: str, event: Event) -> None:
        """See :meth:`EventBus.publish`."""
        await self.redis.publish(self.prefix + channel, _encode(event))

    async def subscribe(self, channel: str) -> _RedisSubscription:
        """See :meth:`EventBus.subscribe`."""
        pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
        await pubsub.subscribe(self.prefix + channel)  # returns once Redis confirmed it
        sub = _RedisSubscription(self, pubsub)
        self._subscriptions.add(sub)
        return sub

    async def close(self) -> None:
        """See :meth:`EventBus.close`."""
        for sub in list(self._subscriptions):
            await sub.close()
        await self.redis.aclose()


class _RedisSubscription(_QueueSubscription):
    def __init__(self, bus: RedisBus, pubsub: Any) -> None:
        super().__init__()
        self.bus, self.pubsub = bus, pubsub
        self._reader = asyncio.get_running_loop().create_task(self._read(), name="bus-reader")

    async def _read(self) -> None:
        try:
            async for message in self.pubsub.listen():
                if message.get("type") != "message":
                    continue
                try:
                    self.offer(json.loads(message["data"]))
                except ValueError:
                    log.warning("bus: dropped a message that is not JSON")
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # connection lost: the subscriber sees the end of the stream
            log.warning("bus subscription ended: %s", type(exc).__name__)
        finally:
            self.end()

    async def close(self) -> None:
        self.bus._subscriptions.discard(self)
        self._reader.cancel()
        await asyncio.gather(self._reader, return_exceptions=True)
        self.end()
        try:
            await self.pubsub.aclose()
        except Exception:  # already broken; nothing left to release
            log.debug("bus: error closing a pub/sub connection", exc_info=True)


def make_bus(settings: Settings, prefix: str | None = None) -> EventBus:
    """The bus the settings name: ``bus="memory"`` (default) or ``bus="redis"``.

    Channels and keys are prefixed with ``prefix`` (default: the ``bus_prefix`` setting).
    """
    prefix = settings.bus_prefix if prefix is None else prefix
    if settings.bus == "memory":
        return MemoryBus(prefix)
    if settings.bus == "redis":
        return RedisBus(settings.redis_url, prefix)
    raise ValueError(f"bus: must be 'memory' or 'redis', not {settings.bus!r}")
