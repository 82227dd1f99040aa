"""Issue 14 rows 2 and 6: login guessing is capped per phone (shared, with backoff), and the
per-account password limit sees every spelling of an e-mail as one account.

Attackers come from several loopback addresses (127.0.0.x), as the probe did, so that the
per-address limits are not what stops them.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from redis.asyncio import Redis

from dhanvantri.http.principal import Role
from dhanvantri.platform.bootstrap import Services
from dhanvantri.platform.clock import ManualClock
from dhanvantri.platform.domain.accounts import Strikes
from dhanvantri.platform.notifier import OutboxNotifier
from dhanvantri.platform.ratelimit import Backoff
from dhanvantri.platform.web import install
from dhanvantri.settings import Settings
from tests.platform.helpers import PASSWORD, make_staff
from tests.realtime.buses import require_redis, unique_prefix

API = "/api/v1"
PHONE = "+919876543210"
ATTACKERS = [f"127.0.0.{n}" for n in range(2, 7)]  # five addresses, as in the probe


@asynccontextmanager
async def server(settings: Settings, clock: ManualClock, outbox: OutboxNotifier
                 ) -> AsyncIterator[TestClient]:
    """One server process's worth of back office (a restart is a second one)."""
    app = web.Application()
    install(app, settings, notifier=outbox, clock=clock)
    async with TestClient(TestServer(app)) as test_client:
        yield test_client


class From:
    """Requests to ``client``'s server from a given loopback address."""

    def __init__(self, client: TestClient) -> None:
        self._client = client
        self._sessions: dict[str, aiohttp.ClientSession] = {}

    async def post(self, address: str, path: str, body: dict[str, Any]
                   ) -> tuple[int, dict[str, str], dict[str, Any]]:
        if address not in self._sessions:
            connector = aiohttp.TCPConnector(local_addr=(address, 0))
            self._sessions[address] = aiohttp.ClientSession(connector=connector)
        async with self._sessions[address].post(self._client.make_url(API + path),
                                                json=body) as response:
            return response.status, dict(response.headers), await response.json()

    async def close(self) -> None:
        for session in self._sessions.values():
            await session.close()


@asynccontextmanager
async def attackers(client: TestClient) -> AsyncIterator[From]:
    sender = From(client)
    try:
        yield sender
    finally:
        await sender.close()


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


@pytest.fixture(params=["database", pytest.param("redis", marks=pytest.mark.redis)])
async def lockout_settings(request: pytest.FixtureRequest, settings: Settings
                           ) -> AsyncIterator[Settings]:
    """The test's settings with lockouts in the database (default) or in Redis."""
    if request.param == "database":
        yield settings
        return
    prefix = unique_prefix()
    yield settings.model_copy(update={"bus": "redis", "redis_url": require_redis(),
                                      "bus_prefix": prefix})
    redis = Redis.from_url(require_redis())
    keys = [key async for key in redis.scan_iter(match=prefix + "*")]
    if keys:
        await redis.delete(*keys)
    await redis.aclose()


async def test_wrong_codes_lock_the_phone_across_challenges_addresses_and_restarts(
        lockout_settings: Settings, clock: ManualClock, outbox: OutboxNotifier) -> None:
    async with server(lockout_settings, clock, outbox) as first, attackers(first) as send:
        challenges = []
        for address in ATTACKERS[:2]:
            status, _, body = await send.post(address, "/auth/otp/request", {"phone": PHONE})
            assert status == 202
            challenges.append((body["challenge_id"], outbox.last_code(PHONE)))
        (guessed, code), (spare, spare_code) = challenges
        for address in ATTACKERS:  # one challenge's five tries, one from each address
            status, _, body = await send.post(address, "/auth/otp/verify",
                                              {"challenge_id": guessed, "code": wrong(code)})
            assert (status, body["error"]["code"]) == (401, "OTP_INVALID")
        # Five wrong codes lock the phone, not only the challenge: even another challenge's
        # right code is refused now, and no new code is sent.
        status, headers, body = await send.post(ATTACKERS[0], "/auth/otp/verify",
                                                {"challenge_id": spare, "code": spare_code})
        assert (status, body["error"]["code"]) == (429, "RATE_LIMITED")
        assert 15 * 60 - 2 <= int(headers["Retry-After"]) <= 15 * 60 + 1
        status, _, _ = await send.post(ATTACKERS[1], "/auth/otp/request", {"phone": PHONE})
        assert status == 429

    # A restart (a new process on the same storage) remembers the lock.
    async with server(lockout_settings, clock, outbox) as second, attackers(second) as send:
        status, _, body = await send.post(ATTACKERS[2], "/auth/otp/verify",
                                          {"challenge_id": spare, "code": spare_code})
        assert status == 429
        # After the lock, five more wrong codes lock it again, twice as long.
        clock.advance(minutes=15, seconds=1)
        status, _, body = await send.post(ATTACKERS[3], "/auth/otp/request", {"phone": PHONE})
        assert status == 202
        challenge, code = body["challenge_id"], outbox.last_code(PHONE)
        for address in ATTACKERS:
            status, _, _ = await send.post(address, "/auth/otp/verify",
                                           {"challenge_id": challenge, "code": wrong(code)})
            assert status == 401
        status, _, body = await send.post(ATTACKERS[4], "/auth/otp/verify",
                                          {"challenge_id": challenge, "code": code})
        assert status == 429
        assert 30 * 60 - 2 <= body["error"]["details"]["retry_after"] <= 30 * 60 + 1
        # Once it ends, the patient signs in, and that clears the count.
        clock.advance(minutes=30, seconds=1)
        status, _, body = await send.post(ATTACKERS[0], "/auth/otp/request", {"phone": PHONE})
        assert status == 202  # the fifth code this minute: within the request limit
        status, _, tokens = await send.post(ATTACKERS[0], "/auth/otp/verify",
                                            {"challenge_id": body["challenge_id"],
                                             "code": outbox.last_code(PHONE)})
        assert status == 200 and tokens["access_token"]


async def test_parallel_guesses_get_five_tries_in_all(lockout_settings: Settings,
                                                       clock: ManualClock,
                                                       outbox: OutboxNotifier) -> None:
    # The probe's attack: five challenges, 25 wrong codes at once from five addresses.
    async with server(lockout_settings, clock, outbox) as app, attackers(app) as send:
        guesses = []
        for address in ATTACKERS:
            status, _, body = await send.post(address, "/auth/otp/request", {"phone": PHONE})
            assert status == 202
            guesses += [(address, body["challenge_id"], wrong(outbox.last_code(PHONE)))] * 5
        statuses = await asyncio.gather(*(
            send.post(address, "/auth/otp/verify", {"challenge_id": challenge, "code": code})
            for address, challenge, code in guesses))
    counted = sorted(status for status, _, _ in statuses)
    assert counted == [401] * 5 + [429] * 20


async def test_password_limit_sees_every_spelling_of_an_email(client: TestClient,
                                                              services: Services) -> None:
    doctor = await make_staff(client, services, Role.PHYSICIAN)  # one login: 1 of 10
    assert doctor.email
    async with attackers(client) as send:
        for n in range(1, 10):  # nine more, spelt differently, from three addresses
            spelling = " " * n + doctor.email.upper() + " " * (n % 2)
            status, _, _ = await send.post(ATTACKERS[n % 3], "/auth/login",
                                           {"email": spelling, "password": "guess " + str(n)})
            assert status == 401
        # The account has had its ten tries this minute, however the e-mail was written:
        # even the right password waits.
        status, headers, body = await send.post(ATTACKERS[3], "/auth/login",
                                                {"email": doctor.email, "password": PASSWORD})
    assert (status, body["error"]["code"]) == (429, "RATE_LIMITED")
    assert int(headers["Retry-After"]) > 0



def test_backoff_grows_to_a_day_and_only_quiet_after_a_lock_resets_it() -> None:
    backoff, strikes, now = Backoff(), Strikes(), datetime(2026, 1, 1, tzinfo=UTC)
    locks = []
    for _ in range(10):  # ten rounds of five wrong codes, each as soon as allowed
        for _ in range(backoff.tries_per_lock):
            assert backoff.retry_after(strikes, now) is None
            strikes = backoff.tried(strikes, now)
        assert strikes.locked_until is not None
        locks.append(strikes.locked_until - now)
        now = strikes.locked_until
    assert locks[:4] == [timedelta(minutes=m) for m in (15, 30, 60, 120)]
    assert locks[-1] == timedelta(hours=24)
    # Trying right after a day-long lock keeps the count; a day of quiet after it clears it.
    assert backoff.tried(strikes, now).failures == strikes.failures + 1
    assert backoff.tried(strikes, now + backoff.forget_after).failures == 1
