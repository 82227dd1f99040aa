"""Whether this process can take one more live consultation without slowing the others.

Two limits. ``max_sessions`` is the capacity measured for the machine (``benchmarks/load_ws.py``
finds the most sessions whose replies keep a p95 within the budget; ``docs/capacity.md``). The
second watches the replies themselves: when the recent replies' p95 voice-to-voice passes
``slow_ms`` (set below the budget, so there is room left when it trips), a new consultation is
refused with 503 and a Retry-After until the replies are quick again, because whatever the
count, one more patient would slow everyone. A consultation refused here goes to another server
behind the proxy (deploy/haproxy.cfg retries it) or the patient's page retries.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable

RETRY_AFTER_S = 10  # a few turns: enough for the p95 to move


class ReplyPace:
    """The server-side voice-to-voice of this process's most recent replies.

    Args:
        slow_ms: a p95 above this refuses new consultations (0: never).
        turns: how many recent replies the p95 is taken over.
        min_turns: fewer recent replies than this say nothing (one slow turn is not a trend).
        max_age_s: replies older than this are forgotten (a quiet server is not slow).
        clock: monotonic seconds.
    """

    def __init__(self, slow_ms: float, *, turns: int = 20, min_turns: int = 5,
                 max_age_s: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.slow_ms = slow_ms
        self.min_turns = min_turns
        self.max_age_s = max_age_s
        self._clock = clock
        self._replies: deque[tuple[float, float]] = deque(maxlen=turns)

    def observe(self, seconds: float) -> None:
        """One reply's voice-to-voice, in seconds."""
        self._replies.append((self._clock(), seconds * 1e3))

    def p95_ms(self) -> float | None:
        """The recent replies' p95 (nearest rank), or None with too few of them."""
        since = self._clock() - self.max_age_s
        recent = sorted(ms for at, ms in self._replies if at >= since)
        if len(recent) < self.min_turns:
            return None
        return recent[max(0, math.ceil(0.95 * len(recent)) - 1)]

    def slow(self) -> bool:
        """Whether replies are too slow to take another consultation."""
        p95 = self.p95_ms()
        return bool(self.slow_ms) and p95 is not None and p95 > self.slow_ms
