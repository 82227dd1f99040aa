"""``dhanvantri serve``: bad usage, a taken port, and a real start-up and SIGTERM shutdown."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from dhanvantri.cli import main
from tests.support.server import ServerProcess
from tests.support.waiting import wait_until


def test_bad_port_is_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--port", "70000"]) == 2
    assert "--port" in capsys.readouterr().err


def test_taken_port_fails_before_loading_models(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["serve", "--host", "127.0.0.1", "--port", str(port)]) == 1
    err = capsys.readouterr().err
    assert f"cannot listen on 127.0.0.1:{port}" in err and "loading" not in err


@pytest.mark.models
def test_serve_loads_models_then_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    env = {**os.environ, "DHANVANTRI_DATA_DIR": str(tmp_path / "data")}
    log = tmp_path / "serve.log"
    server = ServerProcess(lambda port: [sys.executable, "-m", "dhanvantri.cli", "serve",
                                         "--port", str(port)],
                           log=log, env=env, stdout=subprocess.PIPE)
    process = server.process
    try:
        statuses: list[tuple[int, str]] = []

        def ready_or_exited() -> bool:
            reply = server.health()  # None until the port listens
            if reply is not None:
                statuses.append(reply)
            return (reply is not None and reply[0] == 200) or process.poll() is not None

        wait_until(ready_or_exited, 180, what=lambda: log.read_text()[-2000:], interval=0.1)
        assert statuses and statuses[-1] == (200, "ready"), log.read_text()[-2000:]
        assert (503, "loading") in statuses
        children = Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()
        assert children  # the embedded LLM server
        process.send_signal(signal.SIGTERM)
        assert process.wait(60) == 0
        assert process.stdout is not None and process.stdout.read() == b""  # nothing on stdout
        text = log.read_text()
        assert "loading stt" in text and "models ready" in text and "shutting down" in text
        for child in children:  # the embedded LLM stopped with the server
            assert not Path(f"/proc/{child}").exists() or \
                "zombie" in Path(f"/proc/{child}/status").read_text().lower()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
