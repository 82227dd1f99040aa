"""The embedded default LLM: llama.cpp's OpenAI-compatible server with SmolLM2 on loopback.

Used when no ``DHANVANTRI_LLM_BASE_URL`` is set, so the product works with no API key. It runs
as a child process (llama.cpp holds the GIL-free compute there and a crash cannot take the
server down) and is stopped with the server.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

log = logging.getLogger(__name__)


def _free_loopback_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class EmbeddedLlamaServer:
    """Starts and stops ``python -m llama_cpp.server`` for one GGUF model.

    Args:
        model_path: the GGUF file.
        port: TCP port on 127.0.0.1 (0 picks a free one).
        threads: CPU threads for generation.
        context: context window in tokens.
    """

    def __init__(
        self, model_path: Path, *, port: int = 0, threads: int = 2, context: int = 2048
    ) -> None:
        self.model_path = model_path
        self.port = port or _free_loopback_port()
        self.threads = threads
        self.context = context
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        """The OpenAI-compatible base URL."""
        return f"http://127.0.0.1:{self.port}/v1"

    def command(self) -> list[str]:
        """The child process's command line."""
        return [
            sys.executable,
            "-m",
            "llama_cpp.server",
            "--model",
            str(self.model_path),
            "--model_alias",
            "smollm2-135m-instruct",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--n_threads",
            str(self.threads),
            "--n_threads_batch",
            str(self.threads),
            "--n_ctx",
            str(self.context),
            "--n_batch",
            "256",
            "--verbose",
            "False",
        ]

    async def start(self, timeout: float = 60.0) -> None:  # noqa: ASYNC109 - a start-up budget
        """Start the server and wait until it answers."""
        env = {**os.environ, "HF_HUB_OFFLINE": "1"}
        # A file, not a pipe: the server logs every request and a full pipe would block it.
        self._log = tempfile.TemporaryFile()
        self._process = subprocess.Popen(  # noqa: ASYNC220 - starting a child does not block
            self.command(), stdout=subprocess.DEVNULL, stderr=self._log, env=env
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                self._log.seek(0)
                err = self._log.read().decode(errors="replace")[-2000:]
                raise RuntimeError(f"embedded LLM server exited: {err}")
            if await self._ready():
                log.info("embedded LLM ready on port %d", self.port)
                return
            await asyncio.sleep(0.1)
        await self.stop()
        raise TimeoutError("embedded LLM server did not start")

    async def _ready(self) -> bool:
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        except OSError:
            return False
        writer.write(b"GET /v1/models HTTP/1.0\r\nHost: localhost\r\n\r\n")
        await writer.drain()
        status = await reader.readline()
        writer.close()
        return b" 200 " in status

    async def stop(self) -> None:
        """Stop the server process."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            await asyncio.to_thread(process.wait, 5)
        except subprocess.TimeoutExpired:
            process.kill()
            await asyncio.to_thread(process.wait)
        self._log.close()
