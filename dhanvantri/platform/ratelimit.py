"""Rate limits on login and OTP routes (``limits``, moving window, in memory)."""

from __future__ import annotations

import time

from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import MovingWindowRateLimiter

from ..http.errors import RateLimited


class RateLimits:
    """Named limits, each checked against one or more keys (client address, phone, e-mail)."""

    def __init__(self, rules: dict[str, str]) -> None:
        self._limiter = MovingWindowRateLimiter(MemoryStorage())
        self._rules: dict[str, RateLimitItem] = {name: parse(rule) for name, rule in rules.items()}

    async def hit(self, rule: str, *keys: str) -> None:
        """Count one attempt for every key; raise ``RateLimited`` if any is over its limit."""
        item = self._rules[rule]
        for key in keys:
            if not await self._limiter.hit(item, rule, key):
                stats = await self._limiter.get_window_stats(item, rule, key)
                wait = max(int(stats.reset_time - time.time()) + 1, 1)
                raise RateLimited("too many attempts; try again later",
                                  details={"retry_after": wait})
