"""The server under test on a free loopback port: in a thread of this process, or a child.

``run_app_in_background`` (browser tests) serves the full app from a thread with its own event
loop; ``serve_in_background`` does so for any app. ``ServerProcess`` runs a server command in a
child process (a second server of a cluster, ``dhanvantri serve`` itself, benchmarks).
"""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Coroutine, Iterator, Mapping, Sequence
from concurrent.futures import Future
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from aiohttp import web

from dhanvantri.http.middleware import HardenedRunner
from tests.support.waiting import wait_until

if TYPE_CHECKING:
    from dhanvantri.pipeline.voice import VoiceModels
    from dhanvantri.settings import Settings

T = TypeVar("T")
HOST = "127.0.0.1"


def free_port(host: str = HOST) -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def get(url: str) -> tuple[int, bytes]:
    """A plain blocking GET: the status and body, error statuses included."""
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


class BackgroundServer:
    """``app`` served on a loopback port from a thread with an event loop of its own.

    Use as a context manager, or call :meth:`start` and :meth:`stop`.

    Args:
        app: the application.
        host: the address to listen on.
        port: the port (default: a free one).
    """

    def __init__(self, app: web.Application, host: str = HOST, port: int | None = None) -> None:
        self.host, self.port = host, port or free_port(host)
        self.url = f"http://{host}:{self.port}"
        self.app = app
        self._loop = asyncio.new_event_loop()
        self._started = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="dhanvantri-server", daemon=True)

    def start(self) -> BackgroundServer:
        """Start listening (models keep loading in the background); a no-op once started."""
        if self._started.is_set():
            return self
        self._thread.start()
        self._started.wait(60)
        if self._error is not None:
            raise RuntimeError(f"server failed to start: {self._error}") from self._error
        return self

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        # Served as `dhanvantri serve` serves it (JSON errors before a handler runs, too), but
        # with no access log: this thread outlives a test's captured log streams.
        runner = HardenedRunner(self.app, handle_signals=False, shutdown_timeout=5,
                                access_log=None)
        try:
            self._loop.run_until_complete(runner.setup())
            self._loop.run_until_complete(web.TCPSite(runner, self.host, self.port).start())
        except BaseException as exc:
            self._error = exc
            self._started.set()
            return
        self._started.set()
        self._loop.run_forever()
        self._loop.run_until_complete(runner.cleanup())
        self._loop.close()

    def wait_ready(self, timeout: float = 120.0) -> None:
        """Block until the models are loaded; raise if loading failed or took too long."""
        from dhanvantri.realtime.state import RUNTIME

        runtime = self.app[RUNTIME]

        def ready() -> bool:
            if runtime.status == "failed":
                raise RuntimeError(f"models failed to load: {runtime.load_error}")
            return runtime.status == "ready"

        wait_until(ready, timeout, what="the models to load", interval=0.1)

    def call(self, coro: Coroutine[Any, Any, T], timeout: float = 10.0) -> T:
        """Run ``coro`` on the server's event loop and return its result."""
        future: Future[T] = asyncio.run_coroutine_threadsafe(coro, self._loop)
        return future.result(timeout)

    def get(self, path: str) -> tuple[int, bytes]:
        """A plain blocking GET of ``path`` (for quick checks from test code)."""
        return get(self.url + path)

    def stop(self) -> None:
        """Shut the app down (its consultations and models with it) and end the thread."""
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(60)

    def __enter__(self) -> BackgroundServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def serve_in_background(app: web.Application, host: str = HOST,
                        port: int | None = None) -> BackgroundServer:
    """Start serving ``app`` on a free loopback port (or ``port``) and return at once."""
    return BackgroundServer(app, host, port).start()


def run_app_in_background(settings: Settings, *, models: VoiceModels | None = None,
                          progress: Callable[[str], None] | None = None,
                          host: str = HOST, port: int | None = None) -> BackgroundServer:
    """Start the full server (``create_app``) on a free loopback port and return at once.

    Args:
        settings: the server's settings.
        models: models already loaded (default: the app loads the real ones in the background).
        progress: receives model-loading progress lines.
        host: the address to listen on.
        port: the port (default: a free one).

    Example::

        with run_app_in_background(settings) as server:
            server.wait_ready()
            page.goto(server.url + "/")
    """
    from dhanvantri.realtime.app import create_app

    return serve_in_background(create_app(settings, models=models, progress=progress), host,
                               port)


@contextmanager
def serving(settings: Settings, *, models: VoiceModels | None = None,
            ready_s: float = 240.0) -> Iterator[BackgroundServer]:
    """The full server, ready to take calls, for the length of a ``with`` block.

    Args:
        settings: the server's settings.
        models: models already loaded (default: the real ones, loaded in the background).
        ready_s: how long the models may take to load.
    """
    running = run_app_in_background(settings, models=models)
    try:
        running.wait_ready(timeout=ready_s)
        yield running
    finally:
        running.stop()


class ServerProcess:
    """A server command run as a child process on a free loopback port.

    Args:
        command: the command line for a port.
        log: where the child's stderr goes (read back when it fails).
        env: the child's environment (default: this one's).
        cwd: the child's working directory.
        stdout: the child's stdout (default: discarded).
    """

    def __init__(self, command: Callable[[int], Sequence[str]], *, log: Path,
                 env: Mapping[str, str] | None = None, cwd: Path | None = None,
                 stdout: int = subprocess.DEVNULL) -> None:
        self.port = free_port()
        self.url = f"http://{HOST}:{self.port}"
        self.log = log
        with log.open("wb") as errors:  # the child keeps its own descriptor
            self.process = subprocess.Popen(list(command(self.port)), env=env, cwd=cwd,
                                            stdout=stdout, stderr=errors)

    def health(self) -> tuple[int, str] | None:
        """``/healthz``'s status code and ``status`` field; None while nothing listens."""
        try:
            code, body = get(self.url + "/healthz")
        except OSError:
            return None
        return code, str(json.loads(body).get("status"))

    def wait_healthy(self, timeout: float = 60.0) -> None:
        """Block until ``/healthz`` answers 200; fail with the child's log if it exits first."""

        def healthy() -> bool:
            if self.process.poll() is not None:
                raise AssertionError(f"server exited:\n{self.log_tail()}")
            reply = self.health()
            return reply is not None and reply[0] == 200

        wait_until(healthy, timeout, what=lambda: f"{self.url}/healthz\n{self.log_tail()}",
                   interval=0.2)

    def log_tail(self, size: int = 3000) -> str:
        """The end of the child's stderr."""
        return self.log.read_text(errors="replace")[-size:]

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM, then SIGKILL if the child is still there after ``timeout`` seconds."""
        if self.process.poll() is None:
            self.process.terminate()
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)
