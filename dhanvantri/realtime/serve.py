"""The ``dhanvantri serve`` loop: listen, load models, drain and stop on SIGTERM or SIGINT.

The first signal drains the server: it takes no new consultation (``POST`` answers 503,
``/healthz`` 503 ``draining``) and waits for the live ones to hang up, up to
``drain_seconds``; then it stops. A second signal stops it at once, hanging up what is left.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import socket
import sys

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

from dhanvantri.http.middleware import HardenedRunner
from dhanvantri.pipeline.voice import VoiceModels
from dhanvantri.realtime.app import create_app
from dhanvantri.realtime.consultations import ConsultationRegistry
from dhanvantri.realtime.state import RUNTIME
from dhanvantri.settings import Settings

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class PathOnlyAccessLogger(AbstractAccessLogger):
    """One access-log line per request without its query string or headers.

    aiohttp's default format prints the request line, query included, and a query can carry
    secrets (an old client's ``?access_token=``, a dashboard's ``?token=``).
    """

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        self.logger.info('%s "%s %s" %d %d %.3fs', request.remote, request.method,
                         request.rel_url.path, response.status, response.body_length, time)

    @property
    def enabled(self) -> bool:
        return self.logger.isEnabledFor(logging.INFO)


def make_runner(app: web.Application) -> HardenedRunner:
    """The runner ``serve`` uses: JSON errors before routing, an access log with no secrets."""
    return HardenedRunner(app, handle_signals=False, shutdown_timeout=10,
                          access_log_class=PathOnlyAccessLogger)


def _progress(message: str) -> None:
    print(f"dhanvantri: {message}", file=sys.stderr, flush=True)


class StopRequests:
    """What the stop signals asked for: the first a drain, any later one to stop at once."""

    def __init__(self) -> None:
        self.drain = asyncio.Event()
        self.now = asyncio.Event()

    def __call__(self) -> None:
        (self.now if self.drain.is_set() else self.drain).set()


async def serve(settings: Settings, host: str, port: int, *,
                models: VoiceModels | None = None) -> int:
    """Serve until a signal arrives; exit code 1 when models fail to load or the port is taken.

    Args:
        settings: the server's settings.
        host: the address to listen on.
        port: the TCP port (0: a free one).
        models: models already loaded (test servers); default: load the real ones.
    """
    try:  # bind first: a taken port fails fast, before any model starts loading
        sock = socket.create_server((host, port), reuse_port=False)
    except OSError as exc:
        _progress(f"cannot listen on {host}:{port}: {exc.strerror or exc}")
        return 1
    # The address actually listened on decides what is safe to offer (the sandbox gateway
    # pays only on loopback), whatever --host overrode.
    settings = settings.model_copy(update={"host": host, "port": port})
    app = create_app(settings, models=models, progress=_progress)
    runner = make_runner(app)
    await runner.setup()  # starts the back office and the background model load
    await web.SockSite(runner, sock).start()
    bound = sock.getsockname()[1]
    _progress(f"listening on http://{host}:{bound} (models loading; /healthz says when ready)")
    requests = StopRequests()
    loop = asyncio.get_running_loop()
    for sig in STOP_SIGNALS:
        loop.add_signal_handler(sig, requests)
    runtime = app[RUNTIME]
    failed = False
    try:
        stopping = asyncio.ensure_future(requests.drain.wait())
        loaded = asyncio.ensure_future(runtime.loaded.wait())
        await asyncio.wait({stopping, loaded}, return_when=asyncio.FIRST_COMPLETED)
        failed = runtime.status == "failed"
        if not failed:
            await stopping
            await drain(runtime.registry, settings.drain_seconds, requests.now)
        else:
            stopping.cancel()
    finally:
        for sig in STOP_SIGNALS:
            loop.remove_signal_handler(sig)
        _progress("shutting down: closing consultations and stopping models")
        await runner.cleanup()
    return 1 if failed else 0


async def drain(registry: ConsultationRegistry, seconds: float, now: asyncio.Event) -> None:
    """Refuse new consultations and wait for the live ones to end, up to ``seconds`` or until
    ``now`` is set; those still live are then left to the shutdown to hang up."""
    registry.drain()
    if not len(registry):
        return
    _progress(f"draining: {len(registry)} consultations live, taking no new ones "
              f"(up to {seconds:g} s; signal again to stop now)")
    empty = asyncio.ensure_future(registry.wait_empty())
    interrupted = asyncio.ensure_future(now.wait())
    await asyncio.wait({empty, interrupted}, timeout=seconds,
                       return_when=asyncio.FIRST_COMPLETED)
    for waiter in (empty, interrupted):
        waiter.cancel()
    if len(registry):
        _progress(f"drain over with {len(registry)} consultations live: hanging them up")
    else:
        _progress("drained: every consultation has ended")
