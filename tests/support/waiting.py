"""The one way tests wait: poll a condition until it holds, with a deadline.

A test waits for what it expects to see (an event, a word, a state), never for a fixed time:
a loaded machine is slower, and where a turn detector splits speech is no part of a test.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any, TypeVar

import pytest

T = TypeVar("T")

What = str | Callable[[], object]

# Often enough that a test waits no longer than it must, rarely enough to leave the machine to
# the code under test.
INTERVAL_S = 0.05


def wait_until(predicate: Callable[[], T], timeout: float, *, what: What = "the condition",
               interval: float = INTERVAL_S) -> T:
    """Call ``predicate`` until it returns something truthy, and return that.

    Args:
        predicate: checks the state once; its truthy result ends the wait.
        timeout: seconds before giving up.
        what: what is awaited, for the failure message; a callable is asked only on failure
            (e.g. for what a page showed by then).
        interval: seconds between checks.

    Raises:
        AssertionError: ``predicate`` stayed falsy for ``timeout`` seconds.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(_timed_out(timeout, what, value))
        time.sleep(interval)


# The deadline is the poll's own (it names what timed out), not the caller's asyncio.timeout.
async def wait_until_async(predicate: Callable[[], T], timeout: float, *,  # noqa: ASYNC109
                           what: What = "the condition", interval: float = INTERVAL_S) -> T:
    """:func:`wait_until` for async tests: the event loop runs between checks."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(_timed_out(timeout, what, value))
        await asyncio.sleep(interval)


def _timed_out(timeout: float, what: What, last: object) -> str:
    described = what() if callable(what) else what
    return f"timed out after {timeout:g} s waiting for {described} (last: {last!r})"


def watch(monkeypatch: pytest.MonkeyPatch, target: object, method: str) -> list[str]:
    """The first arguments (a key, a channel) of the calls to ``target.<method>`` from now on,
    each recorded once its call is done: a test waits for the change, then checks the state."""
    done: list[str] = []
    real = getattr(target, method)

    async def spy(key: str, *args: Any, **kwargs: Any) -> Any:
        result = await real(key, *args, **kwargs)
        done.append(key)
        return result

    monkeypatch.setattr(target, method, spy)
    return done
