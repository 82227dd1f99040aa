"""Logs (issue 14 row 19): request ids survive the PHI filter, and a client that hangs up in the
middle of its request body is one INFO line, not an ERROR with a traceback."""

from __future__ import annotations

import asyncio
import logging
import random
import uuid
from pathlib import Path

import pytest

from dhanvantri.privacy.logfilter import PhiLogFilter, mask_phi
from tests.realtime.conftest import make_settings
from tests.security.http_runner import served
from tests.support.waiting import wait_until_async

# Ids the fast recognisers used to cut into (digit runs inside them look like phone numbers).
SEEN_REWRITTEN = ["e0522ab448e748dabe0c09d378721671", "ec125c15d5644249943a39582ca1c72a",
                  "a899975109b545309eb241cad8d85c06", "68dbc1c0-b509-415c-a9ed-961425205cf8",
                  "order_05eab039274518", "pay_5c1015855961c7"]


def _ids() -> list[str]:
    rng = random.Random(14)  # seeded: the same ids every run
    made = [uuid.UUID(int=rng.getrandbits(128), version=4) for _ in range(3000)]
    return SEEN_REWRITTEN + [u.hex for u in made] + [str(u) for u in made]


def test_request_ids_pass_the_phi_filter_unchanged() -> None:
    rewritten = [i for i in _ids() if mask_phi(f"request_id={i} done") != f"request_id={i} done"]
    assert not rewritten


def test_phi_beside_an_id_is_still_masked() -> None:
    line = ("request_id=e0522ab448e748dabe0c09d378721671 phone 9876543210 abha "
            "12-3456-7890-1234 mail a.b@example.com")
    masked = mask_phi(line)
    assert "e0522ab448e748dabe0c09d378721671" in masked
    for phi in ("9876543210", "7890-1234", "a.b@example.com"):
        assert phi not in masked
    # A digit run glued to letters that are not hex is no id: still masked.
    assert "9876543210" not in mask_phi("mobile_no9876543210")


def test_the_log_filter_keeps_the_id_in_a_record() -> None:
    record = logging.LogRecord("dhanvantri.test", logging.INFO, __file__, 1,
                               "unhandled error on %s request_id=%s", ("POST /x",
                                                                       SEEN_REWRITTEN[0]), None)
    PhiLogFilter().filter(record)
    assert record.getMessage().endswith(f"request_id={SEEN_REWRITTEN[0]}")


async def test_a_client_hanging_up_mid_upload_is_one_info_line(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    async with served(make_settings(tmp_path)) as (host, port, runner):
        server = runner.server
        assert server is not None
        with caplog.at_level(logging.DEBUG, logger="dhanvantri"):
            _, writer = await asyncio.open_connection(host, port)
            writer.write(b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\n"
                         b"Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n"
                         + b'{"email": "' + b" " * 1000)
            await writer.drain()
            # Hang up once the server is handling the request (before that, aiohttp drops a
            # request whose connection is gone without a word).
            await wait_until_async(lambda: server.requests_count >= 1, 30,
                                   what="the server to take the request")
            writer.close()  # gone before the body is complete

            def about_it() -> list[logging.LogRecord]:
                return [r for r in caplog.records if r.name.startswith("dhanvantri.http")
                        and r.levelno >= logging.INFO]

            found = await wait_until_async(about_it, 30, what="a log line about the request")
    assert [r.levelno for r in found] == [logging.INFO]
    assert found[0].exc_info is None and "disconnected" in found[0].getMessage()
    assert "request_id=" in found[0].getMessage()
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
