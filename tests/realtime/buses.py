"""Bus fixtures for the escalation tests: the in-process bus, and Redis when it is reachable.

Redis tests use ``DHANVANTRI_TEST_REDIS_URL`` (default ``redis://127.0.0.1:6379/0``) and a
channel and key prefix of their own, deleted afterwards. Without Redis they skip, except in CI
(``CI`` set), where a missing Redis is a failure.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import AsyncIterator
from urllib.parse import urlparse

import pytest

from dhanvantri.desk.cluster.bus import EventBus, MemoryBus, RedisBus


def redis_url() -> str:
    """The Redis the tests use."""
    return os.environ.get("DHANVANTRI_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def require_redis() -> str:
    """The Redis URL; skips the test when nothing listens there (fails in CI)."""
    url = redis_url()
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or 6379), 1):
            return url
    except OSError:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"no Redis at {url}")


def unique_prefix() -> str:
    """A key and channel prefix no other test uses."""
    return f"dhv-test:{uuid.uuid4().hex[:12]}:"


async def drop_keys(bus: RedisBus) -> None:
    """Delete every key under the bus's prefix."""
    keys = [key async for key in bus.redis.scan_iter(match=bus.prefix + "*")]
    if keys:
        await bus.redis.delete(*keys)


async def open_bus(kind: str, prefix: str | None = None) -> EventBus:
    """A new bus of ``kind`` ("memory" or "redis")."""
    prefix = prefix or unique_prefix()
    if kind == "redis":
        return RedisBus(require_redis(), prefix)
    return MemoryBus(prefix)


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
async def bus(request: pytest.FixtureRequest) -> AsyncIterator[EventBus]:
    """Each test runs on both buses."""
    opened = await open_bus(request.param)
    yield opened
    if isinstance(opened, RedisBus):
        await drop_keys(opened)
    await opened.close()
