"""``dhanvantri serve``: bad usage, a taken port, and a real start-up and SIGTERM shutdown."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from dhanvantri.cli import main
from dhanvantri.realtime.app import free_port


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


def _health(url: str) -> tuple[int, dict[str, object]]:
    try:
        with urllib.request.urlopen(url + "/healthz", timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


@pytest.mark.models
def test_serve_loads_models_then_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "DHANVANTRI_DATA_DIR": str(tmp_path / "data")}
    log = tmp_path / "serve.log"
    with open(log, "wb") as stderr:
        process = subprocess.Popen([sys.executable, "-m", "dhanvantri.cli", "serve", "--port",
                                    str(port)], env=env, stdout=subprocess.PIPE, stderr=stderr)
    url = f"http://127.0.0.1:{port}"
    try:
        statuses = []
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and process.poll() is None:
            try:
                status, body = _health(url)
            except OSError:
                time.sleep(0.1)
                continue
            statuses.append((status, body["status"]))
            if status == 200:
                break
            time.sleep(0.1)
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
