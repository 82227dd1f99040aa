"""deploy/haproxy.cfg in front of two real server processes: consultations spread across them,
each one's joins reach the process that holds it, and a draining server gets no new ones while a
consultation it holds can still be joined.

Needs the Debian package ``haproxy`` (2.6); the servers run the real ``serve`` loop with
stand-in models (tests/deploy/drain_server.py).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from tests.support.patient import Patient
from tests.support.proxy import CONFIG, HAPROXY, haproxy, server_states
from tests.support.server import ServerProcess, get
from tests.support.waiting import wait_until_async

ROOT = Path(__file__).resolve().parents[2]
API = "/api/v1/consultations"
needs_haproxy = pytest.mark.skipif(HAPROXY is None, reason="install the Debian package haproxy")


@needs_haproxy
def test_the_config_is_valid() -> None:
    checked = subprocess.run([str(HAPROXY), "-c", "-f", str(CONFIG)], capture_output=True,
                             text=True, env={**os.environ, "DHANVANTRI_UPSTREAM": "server:8080"})
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "[WARNING]" not in checked.stdout + checked.stderr


def start_server(folder: Path, name: str) -> ServerProcess:
    (folder / name).mkdir()
    return ServerProcess(
        lambda port: [sys.executable, "-m", "tests.deploy.drain_server", "--port", str(port),
                      "--folder", str(folder / name)],
        log=folder / f"{name}.log", cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[tuple[str, list[ServerProcess]]]:
    """Two servers behind HAProxy with deploy/haproxy.cfg: (the proxy's URL, the servers)."""
    servers = [start_server(tmp_path, name) for name in ("one", "two")]
    try:
        for server in servers:
            server.wait_healthy(90)
        with haproxy(tmp_path, servers) as (url, _):
            yield url, servers
    finally:
        for server in servers:
            server.stop()


def sessions(server: ServerProcess) -> int:
    """Consultations the server holds (``/healthz`` while ready)."""
    code, body = get(server.url + "/healthz")
    return int(json.loads(body).get("sessions", -1)) if code == 200 else -1


@needs_haproxy
@pytest.mark.timeout(240)
async def test_consultations_spread_pin_to_their_server_and_survive_its_drain(
        tmp_path: Path, cluster: tuple[str, list[ServerProcess]]) -> None:
    url, servers = cluster
    async with aiohttp.ClientSession() as http:
        async with http.get(url + "/metrics") as metrics:
            assert metrics.status == 404  # Prometheus scrapes the servers, not the proxy
        # Created and joined through the one address: every join lands where it was created
        # (a join on the other process would be refused as an unknown consultation).
        patients = [await Patient.join(http, url) for _ in range(4)]
        held = [sessions(s) for s in servers]
        assert sorted(held) == [2, 2], held  # a live call counts against its server

        # One more, created but not joined yet when its server is told to stop.
        before = [sessions(s) for s in servers]
        async with http.post(url + API) as created:
            assert created.status == 201
            late = await created.json()
        after = [sessions(s) for s in servers]
        holder = next(i for i in range(2) if after[i] == before[i] + 1)
        draining, other = servers[holder], servers[1 - holder]
        draining.process.send_signal(signal.SIGTERM)
        name = f"app{holder + 1}"
        await wait_until_async(lambda: server_states(tmp_path)[name] != "UP", 30,
                               what="HAProxy to see the draining server's health fail")

        # New consultations all go to the other server now.
        for _ in range(3):
            async with http.post(url + API) as created:
                assert created.status == 201, await created.text()
                await created.json()
        assert sessions(other) == 2 + 3
        # The late one still reaches its draining server, and works.
        ws = await http.ws_connect(late["ws_url"])
        await ws.send_json({"type": "start", "sample_rate": 16000, "encoding": "pcm_s16le"})
        joined = Patient(ws)
        await joined.wait_for(lambda e: e.get("type") == "ready", 10)

        # Once its calls hang up, the draining server exits cleanly. Hanging up over HTTP
        # reaches the holder too.
        for patient in patients:
            async with http.delete(f"{url}{API}/{patient.consultation_id}") as ended:
                assert ended.status == 204
            await patient.hang_up()
        await joined.hang_up()
        assert await asyncio.to_thread(draining.process.wait, 60) == 0
