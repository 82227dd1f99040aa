"""Issue 18: three server processes behind HAProxy, one PostgreSQL database, one Redis bus, one
shared secret; the test speaks only to the proxy (it reads each server's ``/healthz`` to see
which holds what).

Patients' consultations spread over the processes; a physician whose dashboard is on one process
accepts a call held by another and joins it with an offer that the proxy sends to a process
other than the holder (the test makes the holder busier, and ``leastconn`` sends it elsewhere):
the offer crosses to the holder over the bus, and the physician hears and sees the call. One
process is told to stop while it holds a live call, which keeps working to its end while new
consultations go to the others, and the process then exits 0. Patients behind the proxy are
limited per address each on their own (``DHANVANTRI_TRUSTED_PROXIES``).

The servers run the real ``serve`` loop with stand-in models (tests/deploy/cluster_server.py):
what is under test is routing, the bus and the drain, which need real audio frames (espeak-ng
speech, at a microphone's pace) but not real recognition; three processes loading the real
models would take a minute and 3 GB before the first call.

Needs haproxy (Debian package), PostgreSQL and Redis: skipped without them, except in CI.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import secrets
import signal
import socket
import sys
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import numpy as np
import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from dhanvantri.desk.cluster.bus import RedisBus
from dhanvantri.settings import Settings
from tests.deploy.test_haproxy import needs_haproxy
from tests.platform.conftest import postgres_url
from tests.realtime.buses import drop_keys, require_redis, unique_prefix
from tests.realtime.physician_app import EMERGENCY, add_physician
from tests.realtime.test_physician_two_servers import join_call, next_of, of_type, peer_event
from tests.support.patient import Patient
from tests.support.proxy import haproxy, server_states
from tests.support.server import HOST, ServerProcess, get
from tests.support.waiting import wait_until_async

pytestmark = [needs_haproxy, pytest.mark.redis, pytest.mark.postgres, pytest.mark.timeout(240)]
ROOT = Path(__file__).resolve().parents[2]
API = "/api/v1"
EMAIL, PASSWORD = "dr.rao@clinic.example", "long enough passphrase 42"
OTP_LIMIT = 2  # code requests per address per minute, across the cluster (kept in Redis)
PHONES = iter(f"+9198765432{n:02d}" for n in range(10, 100))


@dataclass
class Cluster:
    """The proxy's URL, the servers behind it and the folder holding their logs."""

    url: str
    servers: list[ServerProcess]
    folder: Path

    def by_node(self, node: str) -> ServerProcess:
        """The server whose physician desk calls itself ``node`` (``host-pid-random``)."""
        pid = int(node.rsplit("-", 2)[1])
        return next(s for s in self.servers if s.process.pid == pid)


def held(server: ServerProcess) -> int:
    """Consultations the server holds (``/healthz`` says so while ready and while draining)."""
    _, body = get(server.url + "/healthz")
    return int(json.loads(body)["sessions"])


def require_postgres() -> str:
    """The PostgreSQL URL; skips the test when nothing listens there (fails in CI)."""
    url = postgres_url()
    parsed = make_url(url)
    try:
        with socket.create_connection((parsed.host or HOST, parsed.port or 5432), 1):
            return url
    except OSError:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"no PostgreSQL at {parsed.host}:{parsed.port}")


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    redis, prefix = require_redis(), unique_prefix()
    database, schema = require_postgres(), f"t_{uuid.uuid4().hex[:16]}"
    secret = secrets.token_urlsafe(48)
    # As compose.yaml configures its servers: one database, one bus, one secret, the proxy.
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DHANVANTRI_DATABASE_URL": database,
           "DHANVANTRI_DATABASE_SCHEMA": schema, "DHANVANTRI_BUS": "redis",
           "DHANVANTRI_REDIS_URL": redis, "DHANVANTRI_BUS_PREFIX": prefix,
           "DHANVANTRI_JWT_SECRET": secret, "DHANVANTRI_TRUSTED_PROXIES": HOST,
           "DHANVANTRI_OTP_RATE_LIMIT": f"{OTP_LIMIT}/minute",
           # Guests consult (no sign-in to script); every one of them comes from this machine.
           "DHANVANTRI_REQUIRE_AUTH": "0", "DHANVANTRI_CONSULTATIONS_PER_ADDRESS": "0"}
    # The database migrated once with its physician, before any server starts (as compose's
    # migrate job does): servers starting together then find it at head.
    add_physician(Settings(data_dir=tmp_path / "setup", database_url=database,
                           database_schema=schema, jwt_secret=secret),
                  EMAIL, PASSWORD, "Dr Rao")
    servers: list[ServerProcess] = []
    try:
        for name in ("one", "two", "three"):
            servers.append(ServerProcess(
                lambda port, name=name: [sys.executable, "-m", "tests.deploy.cluster_server",
                                         "--port", str(port), "--folder", str(tmp_path / name)],
                log=tmp_path / f"{name}.log", cwd=ROOT, env=env))
        for server in servers:
            server.wait_healthy(90)
        with haproxy(tmp_path, servers) as (url, _):
            yield Cluster(url, servers, tmp_path)
    finally:
        for server in servers:
            server.stop()
        asyncio.run(_forget(redis, prefix, database, schema))


async def _forget(redis: str, prefix: str, database: str, schema: str) -> None:
    bus = RedisBus(redis, prefix)
    await drop_keys(bus)
    await bus.close()
    engine = create_async_engine(database)
    async with engine.begin() as conn:
        await conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    await engine.dispose()


@asynccontextmanager
async def from_address(address: str) -> AsyncIterator[aiohttp.ClientSession]:
    """An HTTP client whose connections come from ``address`` (a loopback alias)."""
    connector = aiohttp.TCPConnector(local_addr=(address, 0))
    async with aiohttp.ClientSession(connector=connector) as http:
        yield http


async def request_code(http: aiohttp.ClientSession, url: str,
                       headers: dict[str, str] | None = None) -> int:
    async with http.post(f"{url}{API}/auth/otp/request", json={"phone": next(PHONES)},
                         headers=headers) as response:
        return response.status


async def test_patients_behind_the_proxy_are_limited_each_by_their_own_address(
        cluster: Cluster) -> None:
    async with from_address("127.0.0.2") as first, from_address("127.0.0.3") as second:
        for _ in range(OTP_LIMIT):
            assert await request_code(first, cluster.url) == 202
        # The proxy appends the real peer to whatever the client claims: still the first.
        assert await request_code(first, cluster.url, {"X-Forwarded-For": "127.0.0.9"}) == 429
        # The proxy's own address is shared by every patient; the second is not the first.
        assert await request_code(second, cluster.url) == 202


Placed = tuple[Patient, ServerProcess]  # a patient and the process holding their call


async def join(http: aiohttp.ClientSession, cluster: Cluster) -> Placed:
    """A patient's consultation made and joined through the proxy, and the process holding it
    (the one whose count went up: each join lands where its consultation was created, since
    another process would refuse it as unknown)."""
    before = [held(s) for s in cluster.servers]
    patient = await Patient.join(http, cluster.url)
    after = [held(s) for s in cluster.servers]
    grew = [s for s, b, a in zip(cluster.servers, before, after, strict=True) if a == b + 1]
    assert len(grew) == 1, (before, after)
    return patient, grew[0]


def busier(placed: list[Placed], servers: list[ServerProcess], desk: ServerProcess
           ) -> ServerProcess | None:
    """A process other than the physician's with more open connections than another: HAProxy
    (``balance leastconn``) sends the physician's next request elsewhere, so their join has to
    cross to it over the bus."""
    open_ = {s.port: sum(h is s for _, h in placed) + (s is desk) for s in servers}
    return next((s for s in servers if s is not desk and open_[s.port] > min(open_.values())),
                None)


def routed_to(cluster: Cluster, path: str) -> ServerProcess | None:
    """The server HAProxy's log says served ``path`` (its log-format ends ``%b/%s``)."""
    found = re.search(rf" {re.escape(path)} \d+ \d+ \d+ servers/app(\d+)$",
                      (cluster.folder / "haproxy.log").read_text(), re.MULTILINE)
    return cluster.servers[int(found.group(1)) - 1] if found else None


async def physician_joins(http: aiohttp.ClientSession, cluster: Cluster, dashboard: Any,
                          token: str, called: Placed, emergency: np.ndarray) -> None:
    """The patient's emergency reaches the physician's dashboard; they accept and join the
    call, which another process holds, through the proxy; they hear it and see its words."""
    patient, holder = called
    auth = {"Authorization": f"Bearer {token}"}
    await patient.say(emergency)
    escalation = (await next_of(dashboard, "escalation"))["escalation"]
    assert escalation["consultation_id"] == patient.consultation_id
    base = f"{cluster.url}{API}/escalations/{escalation['id']}"
    async with http.post(f"{base}/accept", headers=auth) as accepted:
        assert accepted.status == 200, await accepted.text()
        assert cluster.by_node((await accepted.json())["held_by"]) is holder
    doctor = await join_call(http, base, token)
    try:
        offered = await wait_until_async(
            lambda: routed_to(cluster, f"{API}/escalations/{escalation['id']}/webrtc"), 10,
            what="the offer in HAProxy's log")
        assert offered is not holder  # the offer crossed to the holder over the bus
        await peer_event(doctor, "joined")
        assert (await patient.wait_for(of_type("doctor")))["joined"] is True
        async with asyncio.timeout(20):
            await doctor.getReceivers()[0].track.recv()  # the call's audio reaches them
        mark = len(doctor.events)
        await patient.say(emergency)
        await wait_until_async(lambda: any(
            e.get("type") == "transcript" and e.get("role") == "patient"
            for e in doctor.events[mark:]), 30, what=lambda: f"{doctor.events[mark:]}")
    finally:
        await doctor.close()


async def drain_one(http: aiohttp.ClientSession, cluster: Cluster, stopping: ServerProcess,
                    live: list[Patient], emergency: np.ndarray) -> list[Patient]:
    """SIGTERM to ``stopping`` while it holds ``live``: new consultations go to the others,
    its live call keeps hearing and answering, and it exits 0 once they hang up. Returns the
    consultations made meanwhile."""
    staying = [s for s in cluster.servers if s is not stopping]
    stopping.process.send_signal(signal.SIGTERM)
    name = f"app{cluster.servers.index(stopping) + 1}"
    await wait_until_async(lambda: server_states(cluster.folder)[name] != "UP", 30,
                           what="HAProxy to see the draining server's health fail")
    before = sum(held(s) for s in staying)
    newcomers = [await Patient.join(http, cluster.url) for _ in range(3)]
    assert sum(held(s) for s in staying) == before + 3
    assert held(stopping) == len(live)

    patient = live[0]
    mark, frames = len(patient.events), len(patient.audio)
    await patient.say(emergency)
    await patient.wait_for(lambda e: e.get("type") == "transcript"
                           and e.get("role") == "patient" and e.get("final"), 30, after=mark)
    await wait_until_async(lambda: len(patient.audio) > frames, 30, what="reply audio")
    assert stopping.process.poll() is None  # still there while its calls are live
    for caller in live:
        await caller.hang_up()
    assert await asyncio.to_thread(stopping.process.wait, 60) == 0
    assert "drained: every consultation has ended" in stopping.log_tail()
    return newcomers


async def test_calls_spread_a_physician_joins_across_processes_and_a_drain_cuts_none(
        cluster: Cluster, speech: Callable[[str], np.ndarray]) -> None:
    url, servers = cluster.url, cluster.servers
    emergency = np.concatenate([np.zeros(8000, np.int16), speech(EMERGENCY),
                                np.zeros(16000, np.int16)])
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{url}{API}/auth/login",
                             json={"email": EMAIL, "password": PASSWORD}) as login:
            assert login.status == 200, await login.text()
            token = (await login.json())["access_token"]
        dashboard = await http.ws_connect(f"{url}{API}/physician/ws",
                                          headers={"Authorization": f"Bearer {token}"})
        desk = cluster.by_node((await next_of(dashboard, "hello"))["node"])

        placed = [await join(http, cluster) for _ in range(5)]
        assert len({s.port for _, s in placed}) >= 2, [s.port for _, s in placed]
        # At most two more calls make one process busier than another (leastconn fills the
        # least busy first).
        while (holder := busier(placed, servers, desk)) is None and len(placed) < 8:
            placed.append(await join(http, cluster))
        assert holder is not None
        called = next(p for p in placed if p[1] is holder)
        await physician_joins(http, cluster, dashboard, token, called, emergency)

        # A process holding a live call (not the one whose call the physician joined) stops.
        stopping = next((s for _, s in placed if s not in (holder, desk)),
                        next(s for _, s in placed if s is not holder))
        newcomers = await drain_one(http, cluster, stopping,
                                    [p for p, s in placed if s is stopping], emergency)
        for patient in [*(p for p, s in placed if s is not stopping), *newcomers]:
            await patient.hang_up()
        await dashboard.close()
