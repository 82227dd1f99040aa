"""The physician desk in headless Chromium: sign in, see escalations arrive live, accept one.

Also measures how long an escalation takes from the server publishing it to the page showing
it (``published_at`` in the event against ``performance.timeOrigin + performance.now()`` once
the DOM changed). The numbers are printed and, with ``DHANVANTRI_BENCH_OUT`` set, written there
as JSON; they are a measurement, not an assertion.
"""

from __future__ import annotations

import json
import os
import statistics
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dhanvantri.desk.cluster.bus import RedisBus
from dhanvantri.desk.routes import DESK
from tests.realtime.buses import drop_keys, require_redis, unique_prefix
from tests.realtime.physician_app import (
    add_physician,
    cheap_passwords,
    physician_app,
    physician_settings,
)
from tests.support.browser import launch, page_until, require_chromium
from tests.support.server import serve_in_background

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]
__all__ = ["cheap_passwords"]

EMAIL, PASSWORD = "dr.rao@clinic.example", "long enough passphrase 42"
SAMPLES = 30


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
def server(request: pytest.FixtureRequest, tmp_path: Path, cheap_passwords: None
           ) -> Iterator[Any]:
    """The desk app on a loopback port, on the in-process bus or on Redis."""
    require_chromium()
    settings = physician_settings(tmp_path, escalation_timeout_s=120.0)
    add_physician(settings, EMAIL, PASSWORD, "Dr Rao")
    bus = RedisBus(require_redis(), unique_prefix()) if request.param == "redis" else None
    running = serve_in_background(physician_app(settings, bus))
    try:
        yield running
    finally:
        if bus is not None:
            running.call(drop_keys(bus))
        running.stop()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def test_physician_sees_escalations_live_and_accepts(server: Any, playwright_instance: Any,
                                                     request: pytest.FixtureRequest) -> None:
    desk = server.app[DESK]
    browser = launch(playwright_instance)
    try:
        page = browser.new_page()
        page.goto(server.url + "/physician")
        page.fill("#email", EMAIL)
        page.fill("#password", PASSWORD)
        page.click("#login button[type=submit]")
        page_until(page, "document.querySelector('#state').dataset.state === 'listening'", 30)
        assert page.locator("#queue .empty").is_visible()

        calm = server.call(desk.escalations.raise_escalation(
            "consult-calm", reason="patient_request", topics=["fever"]))
        page_until(page, f"document.querySelector('[data-id=\"{calm.id}\"]')", 30)
        urgent = server.call(desk.escalations.raise_escalation(
            "consult-urgent", reason="red_flag", red_flags=["chest_pain"], emergency=True))
        page_until(page, f"document.querySelector('#queue li').dataset.id === '{urgent.id}'", 30)
        first = page.locator("#queue li").first
        assert "EMERGENCY" in first.inner_text() and "chest pain" in first.inner_text()

        first.locator("button.accept").click()
        page_until(page, "document.querySelector('#queue li').dataset.status === 'accepted'", 30)
        assert "Accepted by you" in page.locator("#queue li").first.inner_text()
        page.locator("#queue li").first.locator("button.resolve").click()
        page_until(page, f"!document.querySelector('[data-id=\"{urgent.id}\"]')", 30)
        assert page.locator("#queue li").count() == 1  # the calm one is still waiting

        latencies = measure(page, server, SAMPLES)
    finally:
        browser.close()
    report(request.node.callspec.params["server"], latencies)


def measure(page: Any, server: Any, samples: int) -> list[float]:
    """Publish→DOM latency of the first event ("raised") of ``samples`` new escalations.

    The page records a latency in the same task that draws the escalation, so once it shows,
    its record is there.
    """
    desk = server.app[DESK]
    page.evaluate("window.dhanvantriDesk.latencies.length = 0")
    for n in range(samples):
        escalation = server.call(desk.escalations.raise_escalation(
            f"consult-{n}", reason="red_flag", red_flags=["breathing"], emergency=n % 2 == 0))
        page_until(page, f"document.querySelector('[data-id=\"{escalation.id}\"]')", 30)
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
