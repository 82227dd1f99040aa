"""Rate limits on login and OTP routes, and lockouts with backoff after repeated wrong codes.

Two mechanisms, for two threats:

- ``RateLimits.hit``: request floods (per client address, phone, e-mail), a moving window in
  memory, or in Redis when the deployment uses it (``DHANVANTRI_BUS=redis``).
- ``Lockouts``: guessing a phone's login code across many challenges and addresses. Every try
  counts against the phone; each ``Backoff.tries_per_lock`` failed tries lock it for a time that
  doubles with each lock. The count lives in the database (in the login's own transaction) or
  in Redis, so neither a restart nor a second server process resets it.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter

from ..http.errors import RateLimited
from ..settings import Settings
from .domain.accounts import Strikes
from .repositories.accounts import LockoutRepository

if TYPE_CHECKING:
    from .uow import UnitOfWork


@dataclass(frozen=True)
class Backoff:
    """The lockout policy.

    A 6-digit code guessed 5 times per lock gives an attacker about 40 guesses on the first day
    (locks of 15 min, 30 min, 1 h, ... adding up) and 5 a day after that: a ~4e-5 chance.
    """

    tries_per_lock: int = 5  # one challenge's worth of tries
    first_lock: timedelta = timedelta(minutes=15)
    longest_lock: timedelta = timedelta(hours=24)
    forget_after: timedelta = timedelta(hours=24)  # quiet this long: start over

    def retry_after(self, strikes: Strikes, now: datetime) -> int | None:
        """Seconds until the subject may try again, or None when it is not locked."""
        if strikes.locked_until is None or now >= strikes.locked_until:
            return None
        return max(int((strikes.locked_until - now).total_seconds()) + 1, 1)

    def tried(self, strikes: Strikes, now: datetime) -> Strikes:
        """Count one try (as failed until ``Lockouts.clear`` says otherwise); lock on every
        ``tries_per_lock``-th."""
        # Quiet is counted from the end of the last lock: a 24 h lock must not reset the count.
        quiet_since = max(filter(None, (strikes.last_try_at, strikes.locked_until)), default=None)
        if quiet_since is not None and now - quiet_since >= self.forget_after:
            strikes = Strikes()
        failures = strikes.failures + 1
        if failures % self.tries_per_lock:
            return replace(strikes, failures=failures, last_try_at=now)
        locks = strikes.locks + 1
        length = min(self.first_lock * 2 ** (locks - 1), self.longest_lock)
        return Strikes(failures, locks, now, now + length)

    @property
    def keep_for(self) -> timedelta:
        """How long a record can matter: its longest lock plus the quiet period."""
        return self.longest_lock + self.forget_after


class Lockouts:
    """Failed-try lockouts per subject, in the database or in Redis.

    Subjects are stored as keyed hashes: the table never holds a phone number.
    """

    def __init__(self, key: bytes, backoff: Backoff | None = None, redis_url: str | None = None,
                 prefix: str = "dhanvantri:") -> None:
        self._key = key
        self.backoff = backoff or Backoff()
        self._redis: Any = None
        if redis_url:
            import redis.asyncio as aioredis

            self._redis = aioredis.Redis.from_url(redis_url, decode_responses=True)
        self._prefix = prefix + "lockout:"

    def _subject(self, scope: str, subject: str) -> str:
        return hmac.new(self._key, f"{scope}:{subject}".encode(), hashlib.sha256).hexdigest()

    async def ensure_open(self, uow: UnitOfWork, scope: str, subject: str) -> None:
        """Raise ``RateLimited`` while ``subject`` is locked (counts nothing)."""
        key = self._subject(scope, subject)
        if self._redis is not None:
            strikes = _from_hash(await self._redis.hgetall(self._prefix + key))
        else:
            strikes = await LockoutRepository(uow.session).get(key) or Strikes()
        self._raise_if_locked(strikes, uow.clock())

    async def attempt(self, uow: UnitOfWork, scope: str, subject: str) -> None:
        """Count a try before the code is checked; raise ``RateLimited`` if locked.

        Counting first (and clearing on success) keeps parallel guesses from slipping through
        between a check and a count.
        """
        key, now = self._subject(scope, subject), uow.clock()
        if self._redis is not None:
            await self._redis_attempt(key, now)
            return
        lockouts = LockoutRepository(uow.session)
        strikes = await lockouts.hold(key)  # locked for update until the login commits
        self._raise_if_locked(strikes, now)
        await lockouts.put(key, self.backoff.tried(strikes, now))

    async def clear(self, uow: UnitOfWork, scope: str, subject: str) -> None:
        """The right code was given: forget the subject's tries."""
        key = self._subject(scope, subject)
        if self._redis is not None:
            await self._redis.delete(self._prefix + key)
        else:
            await LockoutRepository(uow.session).delete(key)

    async def close(self) -> None:
        """Release the Redis connection, if any."""
        if self._redis is not None:
            await self._redis.aclose()

    async def _redis_attempt(self, key: str, now: datetime) -> None:
        from redis.exceptions import WatchError

        name = self._prefix + key
        async with self._redis.pipeline(transaction=True) as pipe:
            while True:  # optimistic: retried when another process counted in between
                try:
                    await pipe.watch(name)
                    strikes = _from_hash(await pipe.hgetall(name))
                    self._raise_if_locked(strikes, now)
                    pipe.multi()
                    pipe.hset(name, mapping=_to_hash(self.backoff.tried(strikes, now)))
                    pipe.expire(name, int(self.backoff.keep_for.total_seconds()))
                    await pipe.execute()
                    return
                except WatchError:
                    continue

    def _raise_if_locked(self, strikes: Strikes, now: datetime) -> None:
        wait = self.backoff.retry_after(strikes, now)
        if wait is not None:
            raise RateLimited("too many wrong codes; try again later",
                              details={"retry_after": wait})


def _to_hash(strikes: Strikes) -> dict[str, str]:
    def stamp(at: datetime | None) -> str:
        return str(at.timestamp()) if at else ""

    return {"failures": str(strikes.failures), "locks": str(strikes.locks),
            "last_try_at": stamp(strikes.last_try_at), "locked_until": stamp(strikes.locked_until)}


def _from_hash(values: dict[str, str]) -> Strikes:
    def moment(text: str | None) -> datetime | None:
        return datetime.fromtimestamp(float(text), UTC) if text else None

    if not values:
        return Strikes()
    return Strikes(int(values["failures"]), int(values["locks"]),
                   moment(values.get("last_try_at")), moment(values.get("locked_until")))


class RateLimits:
    """Named request limits, each checked against one or more keys (address, phone, e-mail),
    and the ``lockouts`` for wrong codes."""

    def __init__(self, rules: dict[str, str], lockouts: Lockouts,
                 storage: Storage | None = None) -> None:
        self._limiter = MovingWindowRateLimiter(storage or MemoryStorage())
        self._rules: dict[str, RateLimitItem] = {name: parse(rule) for name, rule in rules.items()}
        self.lockouts = lockouts

    @classmethod
    def from_settings(cls, settings: Settings, key: bytes) -> RateLimits:
        """Limits in Redis when the deployment runs on Redis, else memory and the database."""
        redis_url = settings.redis_url if settings.bus == "redis" else None
        storage = None
        if redis_url:
            storage = RedisStorage(f"async+{redis_url}", implementation="redispy",
                                   key_prefix=f"{settings.bus_prefix}limits")
        lockouts = Lockouts(key, redis_url=redis_url, prefix=settings.bus_prefix)
        return cls({"login": settings.login_rate_limit, "otp": settings.otp_rate_limit},
                   lockouts, storage)

    async def hit(self, rule: str, *keys: str) -> None:
        """Count one attempt for every key; raise ``RateLimited`` if any is over its limit."""
        item = self._rules[rule]
        for key in keys:
            if not await self._limiter.hit(item, rule, key):
                stats = await self._limiter.get_window_stats(item, rule, key)
                wait = max(int(stats.reset_time - time.time()) + 1, 1)
                raise RateLimited("too many attempts; try again later",
                                  details={"retry_after": wait})

    async def close(self) -> None:
        """Release shared-storage connections."""
        await self.lockouts.close()
