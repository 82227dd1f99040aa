"""Escalation delivery: from the server publishing an escalation to a physician's socket.

Builds the back office and the physician desk in this process (SQLite in a temporary folder),
opens the physician WebSocket as a dashboard does, raises ``--samples`` escalations one at a
time and measures publish (``published_at`` in the event) to receipt at the client. With
``--bus redis`` the events go through Redis pub/sub (``--redis``), as between server processes.
The browser's share (parsing and drawing the queue) is measured by
``tests/realtime/test_physician_browser.py``.

    python benchmarks/escalation_queue.py --bus memory --samples 200 --json
    python benchmarks/escalation_queue.py --bus redis --samples 200 --json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

TARGET_P50_MS = 500.0  # the target, publish to the physician's page


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def run(bus_kind: str, redis_url: str, samples: int) -> dict[str, Any]:
    from aiohttp import web
    from aiohttp.test_utils import TestClient, TestServer

    from dhanvantri.desk.cluster.bus import MemoryBus, RedisBus
    from dhanvantri.desk.routes import DESK, install_physician
    from dhanvantri.http.principal import Role
    from dhanvantri.platform.web import install
    from dhanvantri.settings import Settings

    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(data_dir=Path(folder) / "data",
                            database_url=f"sqlite+aiosqlite:///{folder}/bench.sqlite3",
                            escalation_timeout_s=600)
        prefix = f"dhv-bench:{uuid.uuid4().hex[:8]}:"
        bus = RedisBus(redis_url, prefix) if bus_kind == "redis" else MemoryBus(prefix)
        app = web.Application()
        services = install(app, settings)
        install_physician(app, settings, bus=bus)
        async with TestClient(TestServer(app)) as client:
            # A token for a physician id is all the socket checks (no account row needed).
            token = services.tokens.access_token(uuid.uuid4(), Role.PHYSICIAN)
            ws = await client.ws_connect("/api/v1/physician/ws",
                                        headers={"Authorization": f"Bearer {token}"})
            await ws.receive_json()  # hello
            await ws.receive_json()  # queue
            desk, latencies = app[DESK], []

            async def receive_raised() -> float:
                while True:
                    event = await asyncio.wait_for(ws.receive_json(), 10)
                    if event.get("event") == "raised":
                        return time.time() * 1000.0 - float(event["published_at"])

            for n in range(samples):
                # The client reads while the server goes on (offer, audit), as in production,
                # where they do not share an event loop.
                latency, _ = await asyncio.gather(
                    receive_raised(),
                    desk.escalations.raise_escalation(f"bench-{n}", reason="red_flag",
                                                      emergency=n % 2 == 0))
                latencies.append(latency)
                await asyncio.sleep(0.02)  # later events ("offered") are skipped by the reader
            await ws.close()
            if isinstance(bus, RedisBus):
                keys = [key async for key in bus.redis.scan_iter(match=prefix + "*")]
                if keys:
                    await bus.redis.delete(*keys)
    return {"benchmark": "escalation_publish_to_socket", "bus": bus_kind, "samples": samples,
            "p50_ms": round(statistics.median(latencies), 3),
            "p95_ms": round(percentile(latencies, 0.95), 3),
            "max_ms": round(max(latencies), 3), "target_p50_ms": TARGET_P50_MS}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bus", choices=["memory", "redis"], default="memory")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--samples", type=int, default=100)
    parser.add_argument("--json", action="store_true", help="print only the JSON result")
    args = parser.parse_args(argv)
    if args.samples < 1:
        print("--samples: must be at least 1", file=sys.stderr)
        return 2
    try:
        result = asyncio.run(run(args.bus, args.redis, args.samples))
    except OSError as exc:
        print(f"cannot run: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(result))
    else:
        print(f"{result['bus']}: p50 {result['p50_ms']} ms, p95 {result['p95_ms']} ms, "
              f"max {result['max_ms']} ms over {result['samples']} escalations")
    return 0


if __name__ == "__main__":
    sys.exit(main())
