"""The browser under test: the system Chromium, headless, and waiting on what a page shows."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.support.waiting import What, wait_until

# Debian's package; never `playwright install`: the system Chromium is the browser under test.
CHROMIUM = Path("/usr/bin/chromium")

# What the page's own peer connection has received as audio: bytes, samples and energy.
RECEIVED_AUDIO = """async () => {
  const pc = window.dhanvantri.session && window.dhanvantri.session.pc;
  if (!pc) return null;
  const stats = await pc.getStats();
  for (const s of stats.values()) {
    if (s.type === 'inbound-rtp' && s.kind === 'audio') {
      return {bytes: s.bytesReceived, samples: s.totalSamplesReceived || 0,
              energy: s.totalAudioEnergy || 0};
    }
  }
  return null;
}"""


def require_chromium() -> None:
    """Skip the test when the system Chromium is missing."""
    if not CHROMIUM.exists():
        pytest.skip(f"Debian's chromium is needed at {CHROMIUM}")


def chromium_args(wav: Path | None = None) -> list[str]:
    """Headless flags; with ``wav``, the fake microphone plays that file (looping)."""
    args = [
        "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run",
        "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
        "--autoplay-policy=no-user-gesture-required",
        # The server and the browser share this machine; let ICE pair loopback addresses.
        "--allow-loopback-in-peer-connection",
    ]
    if wav is not None:
        args.append(f"--use-file-for-fake-audio-capture={wav}")
    return args


def launch(playwright: Any, wav: Path | None = None) -> Any:
    """A headless system Chromium; with ``wav`` as its microphone."""
    require_chromium()
    return playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                      args=chromium_args(wav))


def page_until(page: Any, script: str, timeout: float = 60.0, *,
               done: Callable[[Any], Any] = bool, what: What | None = None) -> Any:
    """Evaluate ``script`` in ``page`` until ``done`` accepts its result; that result.

    Args:
        page: a Playwright page.
        script: a JavaScript expression or function.
        timeout: seconds before the test fails.
        done: accepts the script's result (default: any truthy result).
        what: for the failure message (default: the script).
    """

    def accepted() -> list[Any] | None:
        value = page.evaluate(script)
        return [value] if done(value) else None  # boxed: an accepted result may be falsy

    return wait_until(accepted, timeout, what=what or script, interval=0.1)[0]


def received_audio_energy(page: Any) -> float:
    """The total energy of the audio the page has received so far."""
    stats = page.evaluate(RECEIVED_AUDIO)
    return float(stats["energy"]) if stats else 0.0


def shows(page: Any, selector: str, text: str, timeout: float = 30) -> None:
    """Wait until the element's text contains ``text`` (case-insensitive)."""
    page_until(page, f"""(document.querySelector({selector!r})?.textContent || '')
                         .toLowerCase().includes({text.lower()!r})""", timeout,
               what=lambda: f"{selector} to show {text!r}: {page.inner_text(selector)!r}")


def screenshot(page: Any, folder: Path, name: str, size: dict[str, int]) -> Path:
    """A full-page screenshot at ``size``; at phone width the page must not scroll sideways."""
    page.set_viewport_size(size)
    wide = page.evaluate("document.documentElement.scrollWidth"
                         " - document.documentElement.clientWidth")
    assert wide <= 0, f"{name}: {wide} px of horizontal scroll at {size['width']} px"
    path = folder / f"{name}-{size['width']}x{size['height']}.png"
    page.screenshot(path=str(path), full_page=True)
    print(f"screenshot: {path}")
    return path


def script_errors(page: Any) -> list[str]:
    """The page's uncaught script errors, collected from now on."""
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


PHONE_SIZE, DESKTOP_SIZE = {"width": 390, "height": 844}, {"width": 1280, "height": 800}
# Every visible control has a name a screen reader reads out.
UNNAMED_CONTROLS = """() => [...document.querySelectorAll('input, button, select, textarea, a')]
  .filter(el => el.offsetParent !== null)
  .filter(el => !(el.getAttribute('aria-label') || '').trim())
  .filter(el => ['INPUT', 'SELECT', 'TEXTAREA'].includes(el.tagName)
                ? el.labels.length === 0 : !el.textContent.trim())
  .map(el => el.id || el.outerHTML)"""
# Controls a keyboard cannot reach (taken out of the tab order).
UNREACHABLE = """() => [...document.querySelectorAll('input, button, select, textarea, a')]
  .filter(el => el.offsetParent !== null && el.tabIndex < 0).map(el => el.id || el.outerHTML)"""


def accessible(page: Any) -> None:
    """Every visible control is named and reachable by keyboard."""
    assert page.evaluate(UNNAMED_CONTROLS) == []
    assert page.evaluate(UNREACHABLE) == []


def both_sizes(page: Any, shots: Path, name: str) -> None:
    """Screenshots at desktop and phone size, ending at phone size (where the care tests run),
    after checking that every control is named and reachable; ``screenshot`` fails on
    sideways scroll at phone width."""
    accessible(page)
    screenshot(page, shots, name, DESKTOP_SIZE)
    screenshot(page, shots, name, PHONE_SIZE)
