"""The shared test tools work: the poller, the server in a thread and in a child process."""

from __future__ import annotations

import asyncio
import socket
import sys
from pathlib import Path

import pytest

from tests.realtime.conftest import make_settings, stand_in_models
from tests.support.llm import ScriptedLLM
from tests.support.server import ServerProcess, run_app_in_background
from tests.support.waiting import wait_until, wait_until_async


def test_wait_until_returns_the_first_truthy_value_and_names_what_timed_out() -> None:
    calls = iter([0, None, "", "here"])
    assert wait_until(lambda: next(calls), 5, interval=0) == "here"
    with pytest.raises(AssertionError, match=r"timed out after 0.01 s waiting for the door"):
        wait_until(lambda: False, 0.01, what=lambda: "the door")


async def test_wait_until_async_lets_the_loop_run() -> None:
    flag: list[bool] = []
    asyncio.get_running_loop().call_soon(flag.append, True)  # runs only if the poll yields
    assert await wait_until_async(lambda: flag, 5) == [True]
    with pytest.raises(AssertionError, match="the flag"):
        await wait_until_async(lambda: None, 0.01, what="the flag")


async def test_scripted_llm_streams_its_pieces_and_records_requests() -> None:
    llm = ScriptedLLM.word_by_word("Rest well.")
    assert [piece async for piece in llm.stream([])] == ["Rest ", "well. "]
    assert llm.requests == [[]]


def test_run_app_in_background_serves_on_a_real_port(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    with run_app_in_background(settings, models=stand_in_models(settings)) as server:
        server.wait_ready(timeout=30)
        assert server.url == f"http://127.0.0.1:{server.port}"
        status, body = server.get("/healthz")
        assert status == 200 and b'"ready"' in body
        assert server.get("/api/v1/consultations/nope/ws")[0] == 404
    with pytest.raises(OSError):  # stopped: nothing listens any more
        socket.create_connection(("127.0.0.1", server.port), timeout=1).close()


def test_server_process_reports_a_child_that_exits(tmp_path: Path) -> None:
    server = ServerProcess(lambda port: [sys.executable, "-c", "raise SystemExit('no port')"],
                           log=tmp_path / "child.log")
    with pytest.raises(AssertionError, match="no port"):
        server.wait_healthy(30)
    server.stop()
