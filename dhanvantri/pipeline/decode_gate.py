"""When a partial transcript may be decoded: only when it delays nobody's reply.

A partial decode (the live caption; an early look for red flags) costs as much CPU as a final
one, ~0.2 s of a core here, and a speaking patient asks for one every 400 ms of speech, while
nothing waits for it: the final decode and the reply's synthesis are what patients wait for. With
four patients speaking at once on two cores, the partials took a core between them and the
finals queued behind them. So one gate per process lets a partial start only when no final
decode or synthesis is running anywhere in the process, no other partial is, and partials have
used less than ``share`` of a core lately. One patient alone keeps their captions (~0.5 of a
core); under load the captions thin out and the replies keep their time. The final transcript
still decides everything (a red flag seen only in a partial says nothing).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager


class DecodeGate:
    """Shared by every consultation of a process; used from its event loop only.

    Args:
        share: the part of one core partial decodes may use, averaged over ``window_s``
            (0: no gate at all, every partial may start: the behaviour before it).
        window_s: how much unused time partials may save up.
        clock: seconds, monotonic.
    """

    def __init__(
        self,
        share: float = 0.6,
        window_s: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.share = share
        self.capacity = share * window_s
        self._clock = clock
        self._tokens = self.capacity
        self._at = clock()
        self._critical = 0
        self._partial = False
        self.allowed = 0
        self.refused = 0

    @contextmanager
    def critical(self) -> Iterator[None]:
        """Work someone waits for (a final decode, a synthesis): no partial starts meanwhile."""
        self.begin()
        try:
            yield
        finally:
            self.end()

    def begin(self) -> None:
        """Critical work started (pair with :meth:`end`)."""
        self._critical += 1

    def end(self) -> None:
        """Critical work ended."""
        self._critical -= 1

    @property
    def busy(self) -> bool:
        """Whether critical work runs in the process now."""
        return self._critical > 0

    def try_partial(self) -> bool:
        """Whether a partial decode may start now; if so, call :meth:`partial_done` after."""
        if not self.share:
            self.allowed += 1
            return True
        self._refill()
        if self._critical or self._partial or self._tokens <= 0:
            self.refused += 1
            return False
        self._partial = True
        self.allowed += 1
        return True

    def partial_done(self, seconds: float) -> None:
        """The partial decode started by :meth:`try_partial` took ``seconds``."""
        if self.share:
            self._refill()
            self._partial = False
            self._tokens -= seconds

    def _refill(self) -> None:
        at = self._clock()
        self._tokens = min(self.capacity, self._tokens + (at - self._at) * self.share)
        self._at = at
