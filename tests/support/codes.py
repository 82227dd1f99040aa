"""One-time codes as the console notifier writes them (no SMS gateway in tests)."""

from __future__ import annotations

import re

import pytest

from tests.support.waiting import wait_until

CODE_LINE = re.compile(r"one-time (.+) code for \S+: (\d{6})")


def codes(caplog: pytest.LogCaptureFixture, purpose: str = "login") -> list[str]:
    """The codes for ``purpose`` (``login``, ``signing``...) written so far, oldest first."""
    return [m.group(2) for r in caplog.records if r.name == "dhanvantri.notify"
            and (m := CODE_LINE.search(r.getMessage())) and m.group(1) == purpose]


def new_code(caplog: pytest.LogCaptureFixture, before: int, purpose: str = "login",
             timeout: float = 20) -> str:
    """The code for ``purpose`` sent after the first ``before`` ones, waiting for it."""
    return wait_until(lambda: codes(caplog, purpose)[before:], timeout,
                      what=f"a {purpose} code")[-1]
