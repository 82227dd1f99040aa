"""The physician desk in headless Chromium: sign in, see escalations arrive live, accept one.

Also measures how long an escalation takes from the server publishing it to the page showing
it (``published_at`` in the event against ``performance.timeOrigin + performance.now()`` once
the DOM changed). The numbers are printed and, with ``DHANVANTRI_BENCH_OUT`` set, written there
as JSON; they are a measurement, not an assertion.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from dhanvantri.desk.cluster.bus import EventBus, RedisBus
from dhanvantri.desk.routes import DESK
from dhanvantri.realtime.app import BackgroundServer, free_port
from dhanvantri.settings import Settings
from tests.realtime.buses import drop_keys, require_redis, unique_prefix
from tests.realtime.physician_app import (
    add_physician,
    cheap_passwords,
    physician_app,
    physician_settings,
)

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]
__all__ = ["cheap_passwords"]

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
EMAIL, PASSWORD = "dr.rao@clinic.example", "long enough passphrase 42"
SAMPLES = 30


class Server:
    """The desk app on a loopback port, with a way to run coroutines on its loop."""

    def __init__(self, settings: Settings, bus: EventBus | None) -> None:
        self.app = physician_app(settings, bus)
        self.loop: asyncio.AbstractEventLoop | None = None
        self._ready = threading.Event()
        self.app.on_startup.append(self._capture_loop)
        self.background = BackgroundServer(self.app, "127.0.0.1", free_port())

    async def _capture_loop(self, _app: web.Application) -> None:
        self.loop = asyncio.get_running_loop()
        self._ready.set()

    def run(self, coro: Any) -> Any:
        assert self.loop is not None
        future: Future[Any] = asyncio.run_coroutine_threadsafe(coro, self.loop)
        return future.result(10)


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
def server(request: pytest.FixtureRequest, tmp_path: Path, cheap_passwords: None
           ) -> Iterator[Server]:
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is needed at /usr/bin/chromium")
    settings = physician_settings(tmp_path, escalation_timeout_s=120.0)
    add_physician(settings, EMAIL, PASSWORD, "Dr Rao")
    bus = RedisBus(require_redis(), unique_prefix()) if request.param == "redis" else None
    running = Server(settings, bus)
    running.background.start()
    try:
        yield running
    finally:
        if bus is not None:
            running.run(drop_keys(bus))
        running.background.stop()


def wait_for(page: Any, script: str, seconds: float = 10.0) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = page.evaluate(script)
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {script}")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def test_physician_sees_escalations_live_and_accepts(server: Server,
                                                     request: pytest.FixtureRequest) -> None:
    from playwright.sync_api import sync_playwright

    desk = server.app[DESK]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                             args=ARGS)
        try:
            page = browser.new_page()
            page.goto(server.background.url + "/physician")
            page.fill("#email", EMAIL)
            page.fill("#password", PASSWORD)
            page.click("#login button[type=submit]")
            wait_for(page, "document.querySelector('#state').dataset.state === 'listening'")
            assert page.locator("#queue .empty").is_visible()

            calm = server.run(desk.escalations.raise_escalation(
                "consult-calm", reason="patient_request", topics=["fever"]))
            wait_for(page, f"document.querySelector('[data-id=\"{calm.id}\"]')")
            urgent = server.run(desk.escalations.raise_escalation(
                "consult-urgent", reason="red_flag", red_flags=["chest_pain"], emergency=True))
            wait_for(page, f"document.querySelector('#queue li').dataset.id === '{urgent.id}'")
            first = page.locator("#queue li").first
            assert "EMERGENCY" in first.inner_text() and "chest pain" in first.inner_text()

            first.locator("button.accept").click()
            wait_for(page, "document.querySelector('#queue li').dataset.status === 'accepted'")
            assert "Accepted by you" in page.locator("#queue li").first.inner_text()
            page.locator("#queue li").first.locator("button.resolve").click()
            wait_for(page, f"!document.querySelector('[data-id=\"{urgent.id}\"]')")
            assert page.locator("#queue li").count() == 1  # the calm one is still waiting

            latencies = measure(page, server, SAMPLES)
        finally:
            browser.close()
    report(request.node.callspec.params["server"], latencies)


def measure(page: Any, server: Server, samples: int) -> list[float]:
    """Publish→DOM latency of the first event ("raised") of ``samples`` new escalations."""
    desk = server.app[DESK]
    page.evaluate("window.dhanvantriDesk.latencies.length = 0")
    for n in range(samples):
        escalation = server.run(desk.escalations.raise_escalation(
            f"consult-{n}", reason="red_flag", red_flags=["breathing"], emergency=n % 2 == 0))
        wait_for(page, f"document.querySelector('[data-id=\"{escalation.id}\"]')")
        time.sleep(0.05)
    records = page.evaluate("window.dhanvantriDesk.latencies")
    raised = [r["ms"] for r in records if r["event"] == "raised"]
    assert len(raised) == samples
    assert all(ms >= -5 for ms in raised)  # same machine, same clock
    return raised


def report(bus: str, latencies: list[float]) -> None:
    result = {"benchmark": "escalation_publish_to_dashboard_dom", "bus": bus,
              "samples": len(latencies), "p50_ms": round(statistics.median(latencies), 2),
              "p95_ms": round(percentile(latencies, 0.95), 2),
              "max_ms": round(max(latencies), 2)}
    print(json.dumps(result))
    out = os.environ.get("DHANVANTRI_BENCH_OUT")
    if out:
        path = Path(out)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a") as handle:
            handle.write(json.dumps(result) + "\n")
