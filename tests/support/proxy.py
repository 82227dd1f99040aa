"""deploy/haproxy.cfg run in front of local server processes (tests and benchmarks/load_ws.py).

The deployed config finds its servers through DNS; here its server slots become fixed loopback
servers (same ids, same checks), with an admin socket to read what the proxy thinks of them.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.support.server import HOST, ServerProcess, free_port
from tests.support.waiting import wait_until

CONFIG = Path(__file__).resolve().parents[2] / "deploy" / "haproxy.cfg"
HAPROXY = shutil.which("haproxy")


def local_config(folder: Path, servers: list[ServerProcess]) -> Path:
    """The deployed config with its DNS-filled server slots replaced by fixed loopback servers
    (same ids, same checks) and an admin socket for the test to read server states."""
    text = CONFIG.read_text()
    template = re.compile(r"^\s*server-template .*$", re.MULTILINE)
    assert template.search(text), "the config fills its servers from DNS"
    fixed = "\n".join(f"    server app{i} {HOST}:{s.port}" for i, s in enumerate(servers, 1))
    text = template.sub(fixed, text)
    text = text.replace(" resolvers dns init-addr none resolve-prefer ipv4", "")
    text = text.replace("global\n", f"global\n    stats socket {folder / 'admin.sock'}\n", 1)
    path = folder / "haproxy.cfg"
    path.write_text(text)
    return path


def server_states(folder: Path) -> dict[str, str]:
    """Each server's state as HAProxy sees it (UP, DOWN, ...)."""
    with socket.socket(socket.AF_UNIX) as admin:
        admin.connect(str(folder / "admin.sock"))
        admin.sendall(b"show stat\n")
        text = b"".join(iter(lambda: admin.recv(65536), b"")).decode()
    rows = [line.split(",") for line in text.splitlines() if line.startswith("servers,app")]
    return {row[1]: row[17] for row in rows}


@contextmanager
def haproxy(folder: Path, servers: list[ServerProcess]) -> Iterator[tuple[str, int]]:
    """deploy/haproxy.cfg in front of ``servers``, once it sees them all up: (its URL, its
    process id)."""
    assert HAPROXY is not None, "install the Debian package haproxy"
    port, log = free_port(), folder / "haproxy.log"
    with log.open("wb") as out:
        proxy = subprocess.Popen([HAPROXY, "-db", "-f", str(local_config(folder, servers))],
                                 env={**os.environ, "DHANVANTRI_PROXY_PORT": str(port)},
                                 stdout=out, stderr=subprocess.STDOUT)
    try:
        def up() -> bool:
            assert proxy.poll() is None, log.read_text()
            return ((folder / "admin.sock").exists()
                    and set(server_states(folder).values()) == {"UP"})

        wait_until(up, 30, what=log.read_text)
        yield f"http://{HOST}:{port}", proxy.pid
    finally:
        proxy.terminate()
        proxy.wait(10)
